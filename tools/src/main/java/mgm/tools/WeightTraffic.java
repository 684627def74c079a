package mgm.tools;

import mgm.loaders.config.LlmConfig;
import mgm.model.WeightFormat;
import mgm.runtime.DType;

/**
 * Bytes of decoder weights one generated token reads: every linear layer in the load format (for a
 * mixture of experts only the routed experts), the router, the norms (F32 on the backend), the
 * lm_head and one embedding row. tok/s times this is the achieved weight bandwidth, the number to
 * hold against the memory roofline.
 */
final class WeightTraffic {
    private WeightTraffic() {}

    static long bytesPerToken(LlmConfig c, WeightFormat format, DType linearStored, DType embedStored, DType headStored) {
        long h = c.hiddenSize();
        long attention = format.bytes(c.qDim(), h, linearStored) + 2 * format.bytes(c.kvDim(), h, linearStored)
                + format.bytes(h, c.qDim(), linearStored);
        long expert = 2 * format.bytes(c.intermediateSize(), h, linearStored) + format.bytes(h, c.intermediateSize(), linearStored);
        long mlp = c.isMoe()
                ? c.numExpertsPerTok() * expert + linearStored.byteSize((long) c.numExperts() * h)
                : expert;
        long norms = 2 * h * Float.BYTES;
        long perLayer = attention + mlp + norms;
        return c.numLayers() * perLayer + h * Float.BYTES + headStored.byteSize((long) c.vocabSize() * h)
                + embedStored.byteSize(h);
    }
}
