package mgm.model;

import mgm.runtime.DType;

/** How linear weights are held in memory: as stored in the checkpoint, or quantised at load. */
public enum WeightFormat {
    /** Keep the checkpoint's dtype (BF16/F16/F32), memory-mapped, zero copy. */
    STORED(null),
    /** {@code --load-8bit}: GGML Q8_0 (8.5 bits per weight). */
    Q8_0(DType.Q8_0),
    /** {@code --load-4bit}: GGML Q4_0 (4.5 bits per weight). */
    Q4_0(DType.Q4_0);

    private final DType dtype;

    WeightFormat(DType dtype) {
        this.dtype = dtype;
    }

    /** The quantised dtype, or null for {@link #STORED}. */
    public DType dtype() {
        return dtype;
    }

    /** Bytes a [rows, cols] weight takes in this format, given its stored dtype. */
    public long bytes(long rows, long cols, DType stored) {
        if (dtype == null || cols % dtype.blockSize() != 0) {
            return stored.byteSize(rows * cols);
        }
        return dtype.byteSize(rows * cols);
    }
}
