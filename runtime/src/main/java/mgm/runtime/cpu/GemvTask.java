package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import mgm.runtime.DType;

/**
 * {@code out[m, :] = x[m, :] · Wᵀ (+ bias)} for a few activation rows (decode shape). Weight rows
 * are split across threads in chunks; each chunk streams its rows once and computes every
 * activation row against them while they are cache-hot. Activation rows are prepared once per call
 * (in the caller) into preallocated arrays in the layout each dtype's kernel reads.
 */
final class GemvTask extends RangeTask {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /**
     * Largest M served by this path (GEMM above). Below ~12 rows the GEMM's packing of B (every
     * weight converted and scattered once per call) costs more than its few rows of FMAs: measured
     * 2048 x 2048 / 5632 at M = 5..8, this path ran 1.2-3.3x faster for BF16 / F16 / Q8_0 / Q4_0,
     * while at M = 12..16 the quantised types were as fast or faster on the GEMM.
     */
    static final int MAX_ROWS = 8;

    private final float[][] xPrepared = new float[MAX_ROWS][];
    private final float[][] blockSums = new float[MAX_ROWS][];
    private float[] xRow = new float[0];

    private MemorySegment w;
    private DType wType;
    private long rowBytes;
    private MemorySegment bias;
    private MemorySegment out;
    private long outRowStride;
    private long outColStride;
    private int m;
    private int k;
    private long wb, bb, ob;

    /** Sets up the call and prepares the activation rows; returns the chunk count. */
    /** Segments are whole storages; xb / wb / bb / ob are the byte offsets of the first element. */
    int set(MemorySegment x, long xb, long xRowStride, int m, int k, MemorySegment w, long wb, DType wType, long rowBytes, int n,
            MemorySegment bias, long bb, MemorySegment out, long ob, long outRowStride, long outColStride, int threads) {
        this.wb = wb;
        this.bb = bb;
        this.ob = ob;
        this.w = w;
        this.wType = wType;
        this.rowBytes = rowBytes;
        this.bias = bias;
        this.out = out;
        this.outRowStride = outRowStride;
        this.outColStride = outColStride;
        this.m = m;
        this.k = k;
        if (xRow.length < k) {
            xRow = new float[k];
        }
        for (int r = 0; r < m; r++) {
            if (xPrepared[r] == null || xPrepared[r].length < k) {
                xPrepared[r] = new float[k];
                blockSums[r] = new float[(k + 31) / 32];
            }
            MemorySegment.copy(x, FL, xb + 4L * r * xRowStride, xRow, 0, k);
            GemvKernels.prepare(wType, xRow, k, xPrepared[r], blockSums[r]);
        }
        // Chunks of ~64 KB of weights: small enough to balance two cores, large enough to amortise the claim;
        // never below 32 KB, so that a small matrix stays on the calling thread (waking a worker costs more).
        long perRow = Math.max(1, rowBytes);
        long rowsPerChunk = Math.max(Math.max(1, (32 * 1024) / perRow),
                Math.min((n + 2L * threads - 1) / (2L * threads), (64 * 1024) / perRow));
        return split(n, Math.max(1, rowsPerChunk));
    }

    void release() {
        w = null;
        bias = null;
        out = null;
    }

    @Override
    void range(long from, long to, int worker) {
        for (long j = from; j < to; j++) {
            long row = wb + j * rowBytes;
            float b = bias == null ? 0f : bias.get(FL, bb + 4L * j);
            for (int r = 0; r < m; r++) {
                float[] xp = xPrepared[r];
                float s = switch (wType) {
                    case F32 -> GemvKernels.dotF32(w, row, xp, k);
                    case BF16 -> GemvKernels.dotBf16(w, row, xp, k);
                    case F16 -> GemvKernels.dotF16(w, row, xp, k);
                    case Q8_0 -> GemvKernels.dotQ8(w, row, xp, k);
                    case Q4_0 -> GemvKernels.dotQ4(w, row, xp, blockSums[r], k);
                    default -> throw new IllegalStateException("matmul: weight dtype " + wType);
                };
                out.set(FL, ob + 4L * (r * outRowStride + j * outColStride), s + b);
            }
        }
    }
}
