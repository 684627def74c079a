package mgm.runtime;

/** Pointwise activations the models use; every backend implements all of them. */
public enum Activation {
    /** x * sigmoid(x) (LLaMA, Mixtral, Yi). */
    SILU,
    /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (nn.GELU, ConvNeXt, the MGM projector, Gemma "gelu"). */
    GELU_ERF,
    /** Tanh approximation of GELU (Gemma "gelu_pytorch_tanh"). */
    GELU_TANH,
    /** x * sigmoid(1.702 x) (OpenAI CLIP). */
    QUICK_GELU;

    /** Reads the {@code hidden_act} / {@code hidden_activation} strings of HF configs. */
    public static Activation fromHf(String name) {
        return switch (name) {
            case "silu", "swish" -> SILU;
            case "gelu" -> GELU_ERF;
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast", "gelu_tanh" -> GELU_TANH;
            case "quick_gelu" -> QUICK_GELU;
            default -> throw new IllegalArgumentException(
                    "unsupported activation '" + name + "' (supported: silu, gelu, gelu_pytorch_tanh, quick_gelu)");
        };
    }
}
