package mgm.runtime;

/**
 * Element types of tensors. Plain types store one element per {@link #blockBytes()} bytes; the
 * block-quantised weight formats store {@link #blockSize()} elements per block, bit-compatible
 * with GGML's {@code block_q8_0} / {@code block_q4_0} (an fp16 scale followed by the quants) so
 * that llama.cpp numbers can serve as a reference.
 *
 * <p>The storage-only types (F64, I64, I16, U8, BOOL, F8_*) exist so that every safetensors
 * dtype can be represented; ops accept them only through {@code Backend.copy} (conversion).
 */
public enum DType {
    F32(4, 1),
    F16(2, 1),
    BF16(2, 1),
    I8(1, 1),
    I32(4, 1),
    /** 32 int8 quants + fp16 scale: value = d * q. 34 bytes per 32 elements. */
    Q8_0(34, 32),
    /** 32 4-bit quants + fp16 scale: value = d * (q - 8); byte j holds element j (low nibble) and j+16 (high). */
    Q4_0(18, 32),
    F64(8, 1),
    I64(8, 1),
    I16(2, 1),
    U8(1, 1),
    BOOL(1, 1),
    F8_E4M3(1, 1),
    F8_E5M2(1, 1),
    /**
     * Q8_0 with every 32 consecutive rows interleaved: the CPU backend's matmul layout for Q8_0
     * weights ({@link InterleavedQuant}), made at load and never stored in files. The same bytes
     * per block as Q8_0; only {@code matmul} on the CPU backend reads it.
     */
    Q8_0_R32(34, 32),
    /** Q4_0 with every 32 consecutive rows interleaved, like {@link #Q8_0_R32}. */
    Q4_0_R32(18, 32);

    private final int blockBytes;
    private final int blockSize;

    DType(int blockBytes, int blockSize) {
        this.blockBytes = blockBytes;
        this.blockSize = blockSize;
    }

    /** Bytes of one block (one element for plain types). */
    public int blockBytes() {
        return blockBytes;
    }

    /** Elements per block: 1 for plain types, 32 for Q8_0/Q4_0. */
    public int blockSize() {
        return blockSize;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** True for F32, F16, BF16, F64 and the FP8 formats. */
    public boolean isFloatingPoint() {
        return switch (this) {
            case F32, F16, BF16, F64, F8_E4M3, F8_E5M2 -> true;
            default -> false;
        };
    }

    /** True for the dtypes a matmul accepts as weights. */
    public boolean isWeightType() {
        return switch (this) {
            case F32, F16, BF16, Q8_0, Q4_0 -> true;
            default -> false;
        };
    }

    /** Bytes needed for {@code elements} elements; quantised types need a multiple of the block size. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    name() + " stores blocks of " + blockSize + " elements; " + elements + " is not a multiple");
        }
        return elements / blockSize * blockBytes;
    }
}
