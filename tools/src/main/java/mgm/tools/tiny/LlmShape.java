package mgm.tools.tiny;

/**
 * Dimensions of a generated decoder.
 *
 * @param hidden        hidden_size
 * @param layers        num_hidden_layers
 * @param heads         num_attention_heads
 * @param kvHeads       num_key_value_heads
 * @param headDim       head_dim (written to config.json only when it differs from hidden / heads)
 * @param intermediate  intermediate_size (per expert for Mixtral)
 * @param experts       num_local_experts (0 = dense)
 * @param expertsPerTok num_experts_per_tok
 * @param minVocab      vocab_size at least this (the tokenizer may need more)
 */
record LlmShape(int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate, int experts,
                int expertsPerTok, int minVocab) {

    /** Tiny shapes: each family's structural quirk at a width that keeps the weights to a few hundred KB. */
    static LlmShape tiny(TinyFamily f) {
        return switch (f) {
            case VICUNA -> new LlmShape(64, 2, 4, 4, 16, 96, 0, 0, 0);
            case LLAMA3 -> new LlmShape(64, 2, 4, 2, 16, 96, 0, 0, 0);
            case GEMMA -> new LlmShape(64, 2, 4, 1, 24, 96, 0, 0, 0);
            case MIXTRAL -> new LlmShape(64, 2, 4, 2, 16, 32, 8, 2, 0);
            case YI -> new LlmShape(64, 2, 4, 2, 16, 96, 0, 0, 0);
        };
    }

    /** The decoders benchmark shape (TinyLlama-1.1B-like): hidden 2048, 16 layers, 16 heads / 4 kv, FFN 5632, vocab 32000. */
    static LlmShape tinyllama(TinyFamily f) {
        if (f == TinyFamily.MIXTRAL) {
            throw new IllegalArgumentException("--shape tinyllama is a dense decoder shape; it has no mixtral variant "
                    + "(use vicuna, llama3, gemma or yi)");
        }
        return new LlmShape(2048, 16, 16, 4, 128, 5632, 0, 0, 32000);
    }

    /**
     * LLaMA-2-7B / Vicuna-7B geometry (hidden 4096, 32 layers, 32 heads of 128, FFN 11008, vocab
     * 32000; 6.7 B parameters): the GPU end-to-end benchmark shape.
     */
    static LlmShape llama7b(TinyFamily f) {
        if (f == TinyFamily.MIXTRAL) {
            throw new IllegalArgumentException("--shape 7b is a dense decoder shape; it has no mixtral variant "
                    + "(use vicuna, llama3, gemma or yi)");
        }
        return new LlmShape(4096, 32, 32, 32, 128, 11008, 0, 0, 32000);
    }

    int qDim() {
        return heads * headDim;
    }

    int kvDim() {
        return kvHeads * headDim;
    }
}
