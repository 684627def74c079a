package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * Keys and values of one sequence for every layer, allocated once at the sequence's maximum
 * length ({@code [maxLength, kvHeads, headDim]} per layer, F32, BF16 or F16), and how many
 * positions are filled.
 */
public final class KvCache implements AutoCloseable {
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int maxLength;
    private int length;

    KvCache(Backend backend, LlmConfig c, int maxLength, DType dtype) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("KV cache dtype " + dtype + " is not supported (F32, BF16, F16)");
        }
        this.maxLength = maxLength;
        this.keys = new Tensor[c.numLayers()];
        this.values = new Tensor[c.numLayers()];
        try {
            for (int i = 0; i < c.numLayers(); i++) {
                keys[i] = backend.allocate(dtype, maxLength, c.numKvHeads(), c.headDim());
                values[i] = backend.allocate(dtype, maxLength, c.numKvHeads(), c.headDim());
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
    }

    /** Bytes a cache of this shape takes. */
    public static long bytes(LlmConfig c, int maxLength, DType dtype) {
        return 2L * c.numLayers() * dtype.byteSize((long) maxLength * c.kvDim());
    }

    Tensor keys(int layer) {
        return keys[layer];
    }

    Tensor values(int layer) {
        return values[layer];
    }

    /** Positions filled so far. */
    public int length() {
        return length;
    }

    public int maxLength() {
        return maxLength;
    }

    /** Forgets everything from {@code newLength} on (e.g. to rewrite the end of a conversation). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions to " + newLength);
        }
        length = newLength;
    }

    void advance(int tokens) {
        length += tokens;
    }

    @Override
    public void close() {
        for (Tensor[] ts : new Tensor[][] {keys, values}) {
            for (Tensor t : ts) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }
}
