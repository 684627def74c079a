package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import mgm.loaders.config.RopeScaling;

/**
 * Rotary inverse frequencies as HF computes them (float32), with the optional rope scaling of the
 * config folded in: linear divides them by the factor, llama3 rescales the low and medium
 * frequency bands, dynamic NTK raises the base once the sequence outgrows the trained length.
 */
public final class RopeFrequencies {
    private final int headDim;
    private final double theta;
    private final RopeScaling scaling;
    private final int maxPositions;
    private final float[] base;

    public RopeFrequencies(LlmConfig c) {
        this.headDim = c.headDim();
        this.theta = c.ropeTheta();
        this.scaling = c.ropeScaling();
        this.maxPositions = c.maxPositionEmbeddings();
        this.base = compute(theta);
    }

    /** True when the frequencies depend on the sequence length (dynamic NTK scaling). */
    public boolean dependsOnLength() {
        return scaling != null && scaling.type() == RopeScaling.Type.DYNAMIC;
    }

    /** inv_freq for a forward pass whose sequence (cache + new tokens) is {@code seqLen} long. */
    public float[] forLength(int seqLen) {
        if (dependsOnLength() && seqLen > maxPositions) {
            double f = scaling.factor();
            double ntkBase = theta * Math.pow(f * seqLen / maxPositions - (f - 1), headDim / (headDim - 2.0));
            return compute(ntkBase);
        }
        return base.clone();
    }

    private float[] compute(double ropeBase) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            inv[i] = (float) (1.0 / Math.pow(ropeBase, exponent));
        }
        if (scaling == null || scaling.type() == RopeScaling.Type.DYNAMIC) {
            return inv;
        }
        float factor = (float) scaling.factor();
        if (scaling.type() == RopeScaling.Type.LINEAR) {
            for (int i = 0; i < half; i++) {
                inv[i] /= factor;
            }
            return inv;
        }
        // llama3: keep high frequencies, divide low ones by the factor, blend the band between.
        double old = scaling.originalMaxPositionEmbeddings();
        double lowWavelen = old / scaling.lowFreqFactor();
        double highWavelen = old / scaling.highFreqFactor();
        for (int i = 0; i < half; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowWavelen) {
                inv[i] = inv[i] / factor;
            } else if (wavelen >= highWavelen) {
                double smooth = (old / wavelen - scaling.lowFreqFactor())
                        / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                inv[i] = (float) ((1 - smooth) * inv[i] / factor + smooth * inv[i]);
            }
        }
        return inv;
    }
}
