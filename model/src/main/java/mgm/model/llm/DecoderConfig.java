package mgm.model.llm;

import mgm.runtime.Activation;
import mgm.runtime.DType;

/**
 * The resolved architecture of a decoder: every number the forward pass needs, with the family's
 * defaults applied. Built from a checkpoint's config.json (see {@code DecoderConfigs}).
 *
 * @param activationDtype the dtype the reference (HF) computes activations in (the checkpoint's
 *                        {@code torch_dtype}); only Gemma's embedding normaliser is rounded to it
 * @param ropeScaling     null when the config has none
 * @param experts         0 for dense models
 */
public record DecoderConfig(
        Family family,
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        float rmsEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        Activation activation,
        boolean tieEmbeddings,
        int experts,
        int expertsPerToken,
        DType activationDtype) {

    public DecoderConfig {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("head_dim", headDim);
        positive("vocab_size", vocabSize);
        positive("max_position_embeddings", maxPositions);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + headDim + " must be even for rotary embeddings");
        }
        if (!(rmsEps > 0) || !(ropeTheta > 0)) {
            throw new IllegalArgumentException("rms_norm_eps " + rmsEps + " and rope_theta " + ropeTheta + " must be positive");
        }
        if (family == Family.MIXTRAL && (experts < 1 || expertsPerToken < 1 || expertsPerToken > experts)) {
            throw new IllegalArgumentException("Mixtral needs 1 <= num_experts_per_tok (" + expertsPerToken
                    + ") <= num_local_experts (" + experts + ")");
        }
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public boolean isMoe() {
        return family == Family.MIXTRAL;
    }

    /** RMSNorm weight offset: Gemma stores w around 0 and multiplies by (1 + w). */
    public float normWeightOffset() {
        return family == Family.GEMMA ? 1f : 0f;
    }

    /** Gemma scales every input embedding by sqrt(hidden), rounded to the activation dtype as HF does. */
    public float embeddingScale() {
        if (family != Family.GEMMA) {
            return 1f;
        }
        float s = (float) Math.sqrt(hiddenSize);
        return switch (activationDtype) {
            case BF16 -> mgm.runtime.Numerics.bf16ToF32(mgm.runtime.Numerics.f32ToBf16(s));
            case F16 -> mgm.runtime.Numerics.f16ToF32(mgm.runtime.Numerics.f32ToF16(s));
            default -> s;
        };
    }

    /** Parameters (weights) of the decoder, for memory estimates and reports. */
    public long parameterCount() {
        long attn = (long) hiddenSize * qDim() * 2 + (long) hiddenSize * kvDim() * 2;
        long mlp = 3L * hiddenSize * intermediateSize * (isMoe() ? experts : 1) + (isMoe() ? (long) experts * hiddenSize : 0);
        long perLayer = attn + mlp + 2L * hiddenSize;
        long embed = (long) vocabSize * hiddenSize;
        return perLayer * layers + embed * (tieEmbeddings ? 1 : 2) + hiddenSize;
    }

    private static void positive(String key, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(key + " = " + v + " must be positive");
        }
    }
}
