package mgm.model;

import mgm.loaders.config.ClipVisionConfig;
import mgm.loaders.config.LlmConfig;
import mgm.loaders.config.MgmConfig;
import mgm.model.llm.Decoder;
import mgm.model.llm.KvCache;
import mgm.runtime.DType;
import mgm.runtime.HostMemory;

/**
 * Memory a model needs, computed from its configs alone (nothing is mapped or read): weights in
 * the load format, KV cache, decoder scratch, and the vision encoder's largest activations.
 */
public record MemoryEstimate(long weightBytes, long kvCacheBytes, long scratchBytes, long visionBytes) {

    public long total() {
        return weightBytes + kvCacheBytes + scratchBytes + visionBytes;
    }

    /** Estimates for an LLM (and, when {@code mgm} is multimodal, its towers), lm_head as stored. */
    public static MemoryEstimate of(MgmConfig mgm, ClipVisionConfig clip, WeightFormat format, int context,
                                    DType kvDtype, int maxChunk) {
        return of(mgm, clip, format, false, context, kvDtype, maxChunk);
    }

    /**
     * The same, with lm_head quantised to Q8_0 when {@code lmHead8bit} (a copy beside the embedding
     * table when the two are tied).
     */
    public static MemoryEstimate of(MgmConfig mgm, ClipVisionConfig clip, WeightFormat format, boolean lmHead8bit,
                                    int context, DType kvDtype, int maxChunk) {
        LlmConfig c = mgm.llm();
        DType stored = c.torchDtype() != null ? c.torchDtype() : DType.BF16;
        long h = c.hiddenSize();
        long linear = (long) c.numLayers() * (h * c.qDim() * 2 + h * c.kvDim() * 2
                + 3L * h * c.intermediateSize() * Math.max(1, c.numExperts()));
        long embed = (long) c.vocabSize() * h;
        long head = lmHead8bit && h % DType.Q8_0.blockSize() == 0 ? DType.Q8_0.byteSize(embed)
                : c.tieWordEmbeddings() ? 0 : stored.byteSize(embed);
        long weights = format.bytes(1, linear, stored) + stored.byteSize(embed) + head
                + stored.byteSize((long) c.numLayers() * (2 * h + (long) c.numExperts() * h));
        long vision = 0;
        if (mgm.isMultimodal()) {
            long proj = (long) mgm.mmHiddenSize() * h + h * h;
            weights += format.bytes(1, proj, stored);
            long aux = mgm.mmHiddenSizeAux();
            weights += 4L * (3L * mgm.mmHiddenSize() * mgm.mmHiddenSize() + 2L * aux * mgm.mmHiddenSize());
            if (clip != null) {
                long d = clip.hiddenSize();
                weights += stored.byteSize((long) clip.numLayers() * (4 * d * d + 2 * d * clip.intermediateSize()));
            }
            // ConvNeXt-L is ~200M parameters; its concatenated map (aux x (A/4)^2 floats) dominates activations.
            long side = Math.max(1, mgm.imageSizeAux() / 4);
            weights += stored.byteSize(200_000_000L * Math.min(aux, 2880) / 2880);
            vision = 4L * aux * side * side * (mgm.imageGrid() > 1 ? 2 : 1);
        }
        return new MemoryEstimate(weights, KvCache.bytes(c, context, kvDtype), Decoder.scratchBytes(c, maxChunk), vision);
    }

    /**
     * System property that overrides {@link #availableBytes()} (bytes): lets tests and tools check
     * the refusal path without filling the machine's memory.
     */
    public static final String AVAILABLE_PROPERTY = "mgm.memory.available";

    /**
     * Memory the OS can give us now ({@link HostMemory#availableBytes}); {@link #AVAILABLE_PROPERTY}
     * overrides it.
     */
    public static long availableBytes() {
        String assumed = System.getProperty(AVAILABLE_PROPERTY);
        if (assumed != null) {
            try {
                return Long.parseLong(assumed.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(AVAILABLE_PROPERTY + " must be a number of bytes, got '" + assumed + "'");
            }
        }
        return HostMemory.availableBytes();
    }

    /** e.g. {@code 14.2 GiB}. */
    public static String gib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }

    @Override
    public String toString() {
        return gib(total()) + " (weights " + gib(weightBytes) + ", KV cache " + gib(kvCacheBytes) + ", scratch "
                + gib(scratchBytes) + ", vision " + gib(visionBytes) + ")";
    }
}
