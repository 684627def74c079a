package mgm.tools.tiny;

import java.util.Locale;

/**
 * The MGM model families the generator can imitate: which HF architecture and config keys, which
 * tokenizer style, and the numbers (rope theta, norm eps, context) of the real base model.
 */
public enum TinyFamily {
    /** MGM-7B/13B: Vicuna v1.5 = LLaMA-2 (MHA), SentencePiece-style tokenizer. */
    VICUNA("MGMLlamaForCausalLM", "mgm", "LlamaForCausalLM", "llama", TokenizerStyle.LLAMA2, 10000.0, 1e-5, 4096),
    /** MGM-8B: LLaMA-3-8B-Instruct (GQA, rope theta 500000), byte-level BPE tokenizer. */
    LLAMA3("MGMLlamaForCausalLM", "mgm", "LlamaForCausalLM", "llama", TokenizerStyle.LLAMA3, 500000.0, 1e-5, 8192),
    /** MGM-2B: Gemma-2B (MQA, head_dim != hidden/heads, tied head, GeGLU), Gemma tokenizer. */
    GEMMA("MGMGemmaForCausalLM", "mgm_gemma", "GemmaForCausalLM", "gemma", TokenizerStyle.GEMMA, 10000.0, 1e-6, 8192),
    /** MGM-8x7B: Mixtral-8x7B-Instruct (8 experts, top-2), Mistral tokenizer. */
    MIXTRAL("MGMMixtralForCausalLM", "mgm_mixtral", "MixtralForCausalLM", "mixtral", TokenizerStyle.MISTRAL, 1e6, 1e-5,
            32768),
    /** MGM-34B: Nous-Hermes-2-Yi-34B (GQA, rope theta 5e6), SentencePiece-style with ChatML tokens. */
    YI("MGMLlamaForCausalLM", "mgm", "LlamaForCausalLM", "llama", TokenizerStyle.YI, 5000000.0, 1e-5, 4096);

    /** How the family's tokenizer is laid out. */
    enum TokenizerStyle { LLAMA2, MISTRAL, YI, GEMMA, LLAMA3 }

    final String mgmArchitecture;
    final String mgmModelType;
    final String plainArchitecture;
    final String plainModelType;
    final TokenizerStyle tokenizer;
    final double ropeTheta;
    final double rmsNormEps;
    final int maxPositions;

    TinyFamily(String mgmArchitecture, String mgmModelType, String plainArchitecture, String plainModelType,
               TokenizerStyle tokenizer, double ropeTheta, double rmsNormEps, int maxPositions) {
        this.mgmArchitecture = mgmArchitecture;
        this.mgmModelType = mgmModelType;
        this.plainArchitecture = plainArchitecture;
        this.plainModelType = plainModelType;
        this.tokenizer = tokenizer;
        this.ropeTheta = ropeTheta;
        this.rmsNormEps = rmsNormEps;
        this.maxPositions = maxPositions;
    }

    /** The lower-case name used on the command line and in folder names. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a command-line family name. */
    public static TinyFamily parse(String s) {
        for (TinyFamily f : values()) {
            if (f.id().equals(s.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown family '" + s + "' (vicuna, llama3, gemma, mixtral, yi)");
    }

    boolean isGemma() {
        return this == GEMMA;
    }

    boolean isMixtral() {
        return this == MIXTRAL;
    }
}
