package mgm.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import mgm.runtime.DType;
import mgm.runtime.InterleavedQuant;

/**
 * {@code out[m, :] = x[m, :] · Wᵀ (+ bias)} for a few activation rows (decode shape). Weight rows
 * are split across threads in chunks of contiguous rows; each chunk is streamed once per activation
 * row and K tile (the second and later activation rows re-read it from L2). Activation rows are
 * prepared once per call (in the caller) into preallocated buffers in the layout each dtype's
 * kernel reads.
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
    /**
     * Longest chunk (bytes of weights) for a single activation row. A thread's stream restarts at
     * every chunk (the prefetchers ramp up again), and 256 KB chunks cut a K-tiled down projection
     * (2048 x 5632 BF16, 2 tiles) into 126 KB runs: it read at 68-71% of the rate of the untiled
     * 5632 x 2048 projections in the same decode, 79-93% with chunks up to 4 MB
     * (`DecoderReport --dtypes BF16,Q4_0 --prompt 64 --breakdown`, 2 rounds); whole decode BF16 15.7 /
     * 18.4 / 16.8 -> 17.9 / 19.2 / 18.5 tok/s in alternating runs (quantised weights: no change).
     */
    static final long DECODE_CHUNK_BYTES = 4L << 20;

    /** Prepared activation rows (see {@link GemvKernels#prepare}), grown when a longer K arrives; off-heap copies for the kernels that read them there. */
    private final float[][] xPrepared = new float[MAX_ROWS][];
    private final MemorySegment[] xOffHeap = new MemorySegment[MAX_ROWS];
    private final float[][] blockSums = new float[MAX_ROWS][];
    /** Q4_0 (either layout): whether each activation row may take the fast kernel (else the one with the reference's Inf / NaN semantics). */
    private final boolean[] xOrdinary = new boolean[MAX_ROWS];
    /** Q4_0_R32 rows prepared for the subnormal kernel: the factor that takes its sums back (see {@link GemvKernels#prepareQ4Subnormal}). */
    private final float[] xScaleBack = new float[MAX_ROWS];
    /** Activation rows rounded to Q8_0 ({@link mgm.runtime.QuantActivations#Q8_0}): paired quants, scales, 8 x block sums (see {@link ActivationQ8}). */
    private final int[][] xQuants = new int[MAX_ROWS][];
    private final float[][] xScales = new float[MAX_ROWS][];
    private final int[][] xSums8 = new int[MAX_ROWS][];
    /** Whether each activation row was rounded with finite scales, so Q4_0_R32 takes the integer kernel. */
    private final boolean[] xIntegers = new boolean[MAX_ROWS];
    private float[] xRow = new float[0];
    /** Per-worker dot products of one chunk, written to out (with the bias) when the chunk is done. */
    private float[][] results = new float[0][];
    /** Per-worker dot products of one K tile, added to results (K-tiled weights). */
    private float[][] tileResults = new float[0][];
    /** Per-worker scratch of the integer Q4_0 kernel (a block's 32 sums; padded apart so that no two share a cache line). */
    private short[][] q4BlockSums = new short[0][];

    private MemorySegment w;
    private DType wType;
    private long rowBytes;
    private MemorySegment bias;
    private MemorySegment out;
    private long outRowStride;
    private long outColStride;
    private int m;
    private int k;
    /** K tiles of the weight (1: plain [N, K]); tile t's rows start tileBytes * t after the first. */
    private int tiles;
    private long tileBytes;
    private long wb, bb, ob;

    /**
     * Sets up the call and prepares the activation rows; returns the chunk count. Segments are whole
     * storages; xb / wb / bb / ob are the byte offsets of the first element. A K-tiled weight
     * ({@link mgm.runtime.TiledWeights}) has {@code tiles} > 1 and {@code rowBytes} of a tile's row.
     * With {@code roundX} the activation rows are rounded to Q8_0 first (the kernels then see the
     * rounded rows; Q4_0_R32 takes its integer kernel).
     */
    int set(MemorySegment x, long xb, long xRowStride, int m, int k, boolean roundX, MemorySegment w, long wb, DType wType, int tiles,
            long rowBytes, int n, MemorySegment bias, long bb, MemorySegment out, long ob, long outRowStride, long outColStride, int threads) {
        this.tiles = tiles;
        this.tileBytes = rowBytes * n;
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
        boolean offHeap = GemvKernels.readsOffHeap(wType);
        for (int r = 0; r < m; r++) {
            if (xPrepared[r] == null || xPrepared[r].length < k) {
                xPrepared[r] = new float[k];
                blockSums[r] = new float[(k + 31) / 32];
            }
            MemorySegment.copy(x, FL, xb + 4L * r * xRowStride, xRow, 0, k);
            xIntegers[r] = false;
            if (roundX) {
                if (xQuants[r] == null || xQuants[r].length < k) {
                    xQuants[r] = new int[k];
                    xScales[r] = new float[k / 32];
                    xSums8[r] = new int[k / 32];
                }
                xIntegers[r] = ActivationQ8.round(xRow, k, xQuants[r], xScales[r], xSums8[r], xRow) && wType == DType.Q4_0_R32;
                if (xIntegers[r]) {
                    continue;  // the integer kernel reads nothing else
                }
            }
            float largest = wType == DType.Q4_0 || wType == DType.Q4_0_R32 ? GemvKernels.largestMagnitude(xRow, k) : 0f;
            xOrdinary[r] = GemvKernels.q4RowIsOrdinary(largest);
            if (wType == DType.Q4_0_R32 && xOrdinary[r] && SubnormalOperands.FAST) {
                xScaleBack[r] = GemvKernels.prepareQ4Subnormal(xRow, k, largest, xPrepared[r], blockSums[r]);
            } else {
                GemvKernels.prepare(wType, xRow, k, xPrepared[r], blockSums[r]);
            }
            if (offHeap) {
                if (xOffHeap[r] == null || xOffHeap[r].byteSize() < 4L * k) {
                    xOffHeap[r] = Arena.ofAuto().allocate(4L * k, 64);
                }
                MemorySegment.copy(xPrepared[r], 0, xOffHeap[r], FL, 0, k);
            }
        }
        // Chunks of contiguous rows, each streamed by one flat kernel loop: large enough to keep the
        // stream long (the hardware prefetchers restart at every jump), small enough (<= 256 KB) that
        // with several activation rows the chunk is re-read from L2, and a few per thread so that a
        // core slowed by another process takes fewer. Never below 32 KB, so that a small matrix stays
        // on the calling thread (waking a worker costs more). With one activation row nothing is
        // re-read, and the L2 bound gives way to DECODE_CHUNK_BYTES.
        long perRow = Math.max(1, rowBytes * tiles);
        long maxChunkBytes = m == 1 ? DECODE_CHUNK_BYTES : 256 * 1024;
        long rowsPerChunk = Math.max(Math.max(1, (32 * 1024) / perRow),
                Math.min((n + 2L * threads - 1) / (2L * threads), maxChunkBytes / perRow));
        if (InterleavedQuant.isInterleaved(wType)) {
            rowsPerChunk = (rowsPerChunk + 31) / 32 * 32;  // whole 32-row groups
        }
        if (q4BlockSums.length < threads) {
            q4BlockSums = new short[threads][32 + 64];
        }
        if (results.length < threads || results[0].length < rowsPerChunk) {
            results = new float[threads][(int) rowsPerChunk];
            tileResults = new float[threads][(int) rowsPerChunk];
        }
        return split(n, Math.max(1, rowsPerChunk));
    }

    void release() {
        w = null;
        bias = null;
        out = null;
    }

    @Override
    void range(long from, long to, int worker) {
        float[] dots = results[worker];
        float[] part = tileResults[worker];
        int rows = (int) (to - from);
        int tileK = k / tiles;
        for (int r = 0; r < m; r++) {
            for (int t = 0; t < tiles; t++) {
                long first = wb + t * tileBytes + from * rowBytes;
                float[] target = t == 0 ? dots : part;
                int xOff = t * tileK;
                float[] xp = xPrepared[r];
                switch (wType) {
                    case F32 -> GemvKernels.rowsF32(w, first, rowBytes, rows, xOffHeap[r], 4L * xOff, tileK, target);
                    case BF16 -> GemvKernels.rowsBf16(w, first, rowBytes, rows, xOffHeap[r], 4L * xOff, tileK, target);
                    case F16 -> GemvKernels.rowsF16(w, first, rowBytes, rows, xp, xOff, tileK, target);
                    case Q8_0 -> GemvKernels.rowsQ8(w, first, rowBytes, rows, xp, xOff, tileK, target);
                    case Q4_0 -> {
                        if (xOrdinary[r]) {
                            GemvKernels.rowsQ4(w, first, rowBytes, rows, xp, blockSums[r], xOff, tileK, target);
                        } else {
                            GemvKernels.rowsQ4Exact(w, first, rowBytes, rows, xp, xOff, tileK, target);
                        }
                    }
                    case Q8_0_R32 -> GemvKernels.groupsQ8(w, first, rows / 32, xp, xOff, tileK, target);
                    case Q4_0_R32 -> {
                        if (xIntegers[r]) {
                            GemvKernels.groupsQ4Int(w, first, rows / 32, xQuants[r], xScales[r], xSums8[r], xOff, tileK, target,
                                    q4BlockSums[worker]);
                        } else if (xOrdinary[r] && SubnormalOperands.FAST) {
                            GemvKernels.groupsQ4Subnormal(w, first, rows / 32, xp, blockSums[r], xScaleBack[r], xOff, tileK, target);
                        } else if (xOrdinary[r]) {
                            GemvKernels.groupsQ4(w, first, rows / 32, xp, blockSums[r], xOff, tileK, target);
                        } else {
                            GemvKernels.groupsQ4Float(w, first, rows / 32, xp, xOff, tileK, target);
                        }
                    }
                    default -> throw new IllegalStateException("matmul: weight dtype " + wType);
                }
                if (t > 0) {
                    for (int j = 0; j < rows; j++) {
                        dots[j] += part[j];
                    }
                }
            }
            long at = ob + 4L * (r * outRowStride + from * outColStride);
            for (int j = 0; j < rows; j++) {
                float b = bias == null ? 0f : bias.get(FL, bb + 4L * (from + j));
                out.set(FL, at + 4L * j * outColStride, dots[j] + b);
            }
        }
    }
}
