package mgm.model.llm;

/** Decoder families that share one implementation but differ in a few rules. */
public enum Family {
    /** LLaMA-2 / Vicuna, LLaMA-3, Yi, Mistral: RMSNorm w·x, SwiGLU, untied head. */
    LLAMA,
    /** Gemma: RMSNorm (1 + w)·x, GeGLU, embeddings scaled by sqrt(hidden), tied head. */
    GEMMA,
    /** Mixtral: LLaMA attention with a top-k sparse mixture of SwiGLU experts. */
    MIXTRAL
}
