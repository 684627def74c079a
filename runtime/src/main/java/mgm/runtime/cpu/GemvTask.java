package mgm.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import mgm.runtime.DType;
import mgm.runtime.InterleavedQuant;

/**
 * {@code out[m, :] = x[m, :] · Wᵀ (+ bias)} for a few activation rows (decode shape), for one weight
 * or for several of the same dtype and K against the same rows ({@link CpuBackend#matmuls}: q / k /
 * v, gate / up), whose rows then form one range split into chunks as one weight's would be. Weight
 * rows are split across threads in chunks of contiguous rows; each chunk is streamed once per
 * activation row and K tile (the second and later activation rows re-read it from L2). Activation
 * rows are prepared once per call (in the caller) into preallocated buffers in the layout each
 * dtype's kernel reads.
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
    /** Absolute addresses of the off-heap copies ({@link AbsoluteMemory}: the kernels read through it). */
    private final long[] xOffHeapAt = new long[MAX_ROWS];
    private final float[][] blockSums = new float[MAX_ROWS][];
    /** Q4_0 (either layout): whether each activation row may take the fast kernel (else the one with the reference's Inf / NaN semantics). */
    private final boolean[] xOrdinary = new boolean[MAX_ROWS];
    /** Q4_0_R32 rows prepared for the subnormal kernel: the factor that takes its sums back (see {@link GemvKernels#prepareQ4Subnormal}). */
    private final float[] xScaleBack = new float[MAX_ROWS];
    /** Activation rows rounded to Q8_0 ({@link mgm.runtime.QuantActivations#Q8_0}): paired quants (each block's upper half folded for the integer Q4_0 kernel: {@link ActivationQ8#foldUpperHalves}), scales, 8 x block sums (see {@link ActivationQ8}). */
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

    /** Most weights in one call ({@link #addWeight}). */
    static final int MAX_WEIGHTS = 4;

    private DType wType;
    private long rowBytes;
    private int m;
    private int k;
    /** K tiles of the weights (1: plain [N, K]); a weight's tile t starts t * (its rows) * rowBytes after its first. */
    private int tiles;
    /**
     * The call's weights: the absolute address of the first byte (the whole extent checked in
     * {@link #addWeight}), rows, first row in the call's row range.
     */
    private int weights;
    private long totalRows;
    private final long[] wAt = new long[MAX_WEIGHTS];
    private final long[] rowsOf = new long[MAX_WEIGHTS];
    private final long[] firstRow = new long[MAX_WEIGHTS];
    /** Each weight's bias (or null) and output: storage, byte offset of the first element, strides in elements. */
    private final MemorySegment[] bias = new MemorySegment[MAX_WEIGHTS];
    private final long[] bb = new long[MAX_WEIGHTS];
    private final MemorySegment[] out = new MemorySegment[MAX_WEIGHTS];
    private final long[] ob = new long[MAX_WEIGHTS];
    private final long[] outRowStride = new long[MAX_WEIGHTS];
    private final long[] outColStride = new long[MAX_WEIGHTS];

    /**
     * Starts a call: prepares {@code m} activation rows of {@code k} elements (row r at byte
     * {@code xb + 4 r xRowStride} of x) for weights of {@code wType} with {@code tiles} K tiles of
     * {@code rowBytes}-byte rows ({@link mgm.runtime.TiledWeights}: tiles > 1). With {@code roundX}
     * the rows are rounded to Q8_0 first (the kernels then see the rounded rows; Q4_0_R32 takes its
     * integer kernel). Then {@link #addWeight} once per weight and {@link #chunks}. Segments are whole
     * storages; offsets are bytes of the first element, strides elements.
     */
    void prepare(MemorySegment x, long xb, long xRowStride, int m, int k, boolean roundX, DType wType, int tiles, long rowBytes) {
        this.tiles = tiles;
        this.wType = wType;
        this.rowBytes = rowBytes;
        this.m = m;
        this.k = k;
        this.weights = 0;
        this.totalRows = 0;
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
                    ActivationQ8.foldUpperHalves(xQuants[r], k);
                    continue;  // the integer kernel reads nothing else
                }
            }
            float largest = wType == DType.Q4_0 || wType == DType.Q4_0_R32 ? VecMath.maxAbs(xRow, k) : 0f;
            xOrdinary[r] = GemvKernels.q4RowIsOrdinary(largest);
            if (wType == DType.Q4_0_R32 && xOrdinary[r] && SubnormalOperands.FAST) {
                xScaleBack[r] = GemvKernels.prepareQ4Subnormal(xRow, k, largest, xPrepared[r], blockSums[r]);
            } else if (wType == DType.F16) {
                xScaleBack[r] = GemvKernels.prepareF16(xRow, k, xPrepared[r]);
            } else {
                GemvKernels.prepare(wType, xRow, k, xPrepared[r], blockSums[r]);
            }
            if (offHeap) {
                if (xOffHeap[r] == null || xOffHeap[r].byteSize() < 4L * k) {
                    xOffHeap[r] = Arena.ofAuto().allocate(4L * k, 64);
                }
                MemorySegment.copy(xPrepared[r], 0, xOffHeap[r], FL, 0, k);
                xOffHeapAt[r] = AbsoluteMemory.address(xOffHeap[r], 0, 4L * k);
            }
        }
    }

    /**
     * Adds a weight of {@code n} rows (in the form {@link #prepare} was told) with its bias (null:
     * none) and its output {@code [m, n]}. Its rows follow the previous weight's in the call's row
     * range, so a chunk may end one weight's rows and begin the next one's. The kernels read the
     * weight at absolute addresses ({@link AbsoluteMemory}); its whole extent (every K tile of its
     * rows) is checked here.
     */
    void addWeight(MemorySegment w, long wb, int n, MemorySegment bias, long bb, MemorySegment out, long ob, long outRowStride,
                   long outColStride) {
        if (weights == MAX_WEIGHTS) {
            throw new IllegalStateException("matmul: more than " + MAX_WEIGHTS + " weights in one call");
        }
        int i = weights++;
        this.wAt[i] = AbsoluteMemory.address(w, wb, (long) tiles * n * rowBytes);
        this.rowsOf[i] = n;
        this.firstRow[i] = totalRows;
        this.bias[i] = bias;
        this.bb[i] = bb;
        this.out[i] = out;
        this.ob[i] = ob;
        this.outRowStride[i] = outRowStride;
        this.outColStride[i] = outColStride;
        totalRows += n;
    }

    /** Splits the weights' rows into chunks for {@code threads} threads; returns the chunk count. */
    int chunks(int threads) {
        long n = totalRows;
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
            q4BlockSums = ThreadScratch.shorts(threads, 32);
        }
        if (results.length < threads || results[0].length < rowsPerChunk) {
            results = ThreadScratch.floats(threads, (int) rowsPerChunk);
            tileResults = ThreadScratch.floats(threads, (int) rowsPerChunk);
        }
        return split(n, Math.max(1, rowsPerChunk));
    }

    void release() {
        java.util.Arrays.fill(bias, null);
        java.util.Arrays.fill(out, null);
    }

    @Override
    void range(long from, long to, int worker) {
        for (int i = 0; i < weights; i++) {
            long lo = Math.max(from, firstRow[i]);
            long hi = Math.min(to, firstRow[i] + rowsOf[i]);
            if (lo < hi) {
                rows(i, lo - firstRow[i], hi - firstRow[i], worker);
            }
        }
    }

    /** Rows {@code [from, to)} of weight i, for every activation row. */
    private void rows(int i, long from, long to, int worker) {
        float[] dots = results[worker];
        float[] part = tileResults[worker];
        int rows = (int) (to - from);
        int tileK = k / tiles;
        for (int r = 0; r < m; r++) {
            for (int t = 0; t < tiles; t++) {
                long first = wAt[i] + (t * rowsOf[i] + from) * rowBytes;
                float[] target = t == 0 ? dots : part;
                int xOff = t * tileK;
                float[] xp = xPrepared[r];
                switch (wType) {
                    case F32 -> GemvKernels.rowsF32(first, rowBytes, rows, xOffHeapAt[r] + 4L * xOff, tileK, target);
                    case BF16 -> GemvKernels.rowsBf16(first, rowBytes, rows, xOffHeapAt[r] + 4L * xOff, tileK, target);
                    case F16 -> GemvKernels.rowsF16(first, rowBytes, rows, xOffHeapAt[r] + 4L * xOff, tileK, xScaleBack[r], target);
                    case Q8_0 -> GemvKernels.rowsQ8(first, rowBytes, rows, xp, xOff, tileK, target);
                    case Q4_0 -> {
                        if (xOrdinary[r]) {
                            GemvKernels.rowsQ4(first, rowBytes, rows, xp, blockSums[r], xOff, tileK, target);
                        } else {
                            GemvKernels.rowsQ4Exact(first, rowBytes, rows, xp, xOff, tileK, target);
                        }
                    }
                    case Q8_0_R32 -> GemvKernels.groupsQ8(first, rows / 32, xp, xOff, tileK, target);
                    case Q4_0_R32 -> {
                        if (xIntegers[r]) {
                            GemvKernels.groupsQ4Int(first, rows / 32, xQuants[r], xScales[r], xSums8[r], xOff, tileK, target,
                                    q4BlockSums[worker]);
                        } else if (xOrdinary[r] && SubnormalOperands.FAST) {
                            GemvKernels.groupsQ4Subnormal(first, rows / 32, xp, blockSums[r], xScaleBack[r], xOff, tileK, target);
                        } else if (xOrdinary[r]) {
                            GemvKernels.groupsQ4(first, rows / 32, xp, blockSums[r], xOff, tileK, target);
                        } else {
                            GemvKernels.groupsQ4Float(first, rows / 32, xp, xOff, tileK, target);
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
            MemorySegment o = out[i], b = bias[i];
            long at = ob[i] + 4L * (r * outRowStride[i] + from * outColStride[i]);
            for (int j = 0; j < rows; j++) {
                o.set(FL, at + 4L * j * outColStride[i], dots[j] + (b == null ? 0f : b.get(FL, bb[i] + 4L * (from + j))));
            }
        }
    }
}
