package mgm.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.InterleavedQuant;
import mgm.runtime.OpChecks;
import mgm.runtime.QuantActivations;
import mgm.runtime.Tensor;
import mgm.runtime.TiledWeights;

/**
 * The fast CPU backend: Vector API kernels ({@code static final} species) run on a fixed pool of
 * worker threads plus the calling thread. Every op validates its arguments (same messages as the
 * other backends, via {@link OpChecks}), then runs a fast kernel when the layout is one the kernels
 * address directly (contiguous rows; see {@link Layout}), and otherwise hands the call to
 * {@link ReferenceBackend} (correct for any strided view, just slower).
 *
 * <p>Threads: {@link WorkerPool} keeps {@code threads - 1} daemon workers; an op splits its work
 * into chunks claimed from an atomic counter by the workers and the caller (a core slowed by
 * another process simply takes fewer chunks), workers spin briefly between ops, then park.
 *
 * <p>No allocation on the hot path: each op has one long-lived task object whose fields are set
 * per call; tasks get storages plus byte offsets (no slices); per-thread scratch (packing panels,
 * score rows, activation buffers) only grows when a larger call arrives; no vector value crosses a
 * method call that C2 might not inline (it would be boxed). Op methods are {@code synchronized}:
 * one op runs at a time on a backend instance.
 *
 * <p>Kernels: matmul with M &lt;= 8 streams each weight row once ({@link GemvKernels}: BF16 / F16
 * widened in registers from int lanes, Q8_0 / Q4_0 dequantised in registers, Q4_0 with the
 * {@code Σx(q-8) = Σxq - 8Σx} trick); larger M runs the blocked GEMM ({@link GemmTask}: packed
 * panels converted to F32 while packing, 4 x 2-vector register tile). conv2d is im2col into a
 * reused scratch + the same GEMM.
 */
public final class CpuBackend implements Backend {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /** Output pixels per im2col slab in conv2d (bounds the scratch at this many rows of C*kh*kw floats). */
    private static final int IM2COL_ROWS = 1024;

    private final int threads;
    private final int maxTile;
    /** Longest K tile of F32 / F16 / BF16 weights when some tiling fits it (see {@link TiledWeights#MAX_FLOAT_TILE}). */
    private final int floatMaxTile;
    private final int tileQuantum;
    private final WorkerPool pool;
    private final QuantActivations activations;
    private final ReferenceBackend reference;
    private final GemvTask gemv = new GemvTask();
    private final RoundRowsTask roundRows;
    private final GemmTask gemm;
    private final RowTasks.Norm norm;
    private final PointwiseTasks.Activate activate;
    private final PointwiseTasks.Binary binary = new PointwiseTasks.Binary();
    private final AttentionTask attention;
    private final DecodeAttentionTask decodeAttention;
    private final RopeTask rope;
    private final WindowAttentionTask window;
    private final SelectTask select;
    private final ConvertTask convert;
    private final ImageTasks.Im2col im2col = new ImageTasks.Im2col();
    private final ImageTasks.Depthwise depthwise = new ImageTasks.Depthwise();
    private final ImageTasks.Resize resize = new ImageTasks.Resize();
    private Arena scratchArena = Arena.ofShared();
    private MemorySegment scratch = MemorySegment.NULL;
    /** Activation rows rounded to Q8_0 for a GEMM ({@link QuantActivations#Q8_0}). */
    private Arena roundedArena = Arena.ofShared();
    private MemorySegment rounded = MemorySegment.NULL;

    /** A backend with one thread per available core. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend running ops on {@code threads} threads (the caller counts as one). */
    public CpuBackend(int threads) {
        this(threads, QuantActivations.F32);
    }

    /** The same, with activations entering quantised matmuls in the given form (see {@link QuantActivations}). */
    public CpuBackend(int threads, QuantActivations activations) {
        this(threads, TiledWeights.MAX_TILE, TiledWeights.MAX_FLOAT_TILE, TiledWeights.TILE_QUANTUM, activations);
    }

    /**
     * The same with another K tiling of long weight rows in {@link #prepareLinear} (see
     * {@link TiledWeights#tilesFor(long, int, int)}), the same bound for every weight dtype: tests
     * use tiny tiles so that their tiny models run with tiled weights too.
     */
    public CpuBackend(int threads, int maxTile, int tileQuantum) {
        this(threads, maxTile, tileQuantum, QuantActivations.F32);
    }

    /** Both of the above. */
    public CpuBackend(int threads, int maxTile, int tileQuantum, QuantActivations activations) {
        this(threads, maxTile, maxTile, tileQuantum, activations);
    }

    private CpuBackend(int threads, int maxTile, int floatMaxTile, int tileQuantum, QuantActivations activations) {
        this.activations = java.util.Objects.requireNonNull(activations, "activations");
        this.reference = new ReferenceBackend(activations);
        this.maxTile = maxTile;
        this.floatMaxTile = floatMaxTile;
        this.tileQuantum = tileQuantum;
        this.pool = new WorkerPool(threads);
        this.threads = threads;
        this.gemm = new GemmTask(threads);
        this.norm = new RowTasks.Norm(threads);
        this.activate = new PointwiseTasks.Activate(threads);
        this.attention = new AttentionTask(threads);
        this.decodeAttention = new DecodeAttentionTask(threads);
        this.roundRows = new RoundRowsTask(threads);
        this.rope = new RopeTask(threads);
        this.window = new WindowAttentionTask(threads);
        this.select = new SelectTask(threads);
        this.convert = new ConvertTask(threads);
    }

    public int threads() {
        return threads;
    }

    /** The form activations take on entering matmuls with block-quantised weights. */
    public QuantActivations quantActivations() {
        return activations;
    }

    /** The slow, obviously-correct backend this one falls back to for layouts its kernels do not cover. */
    public Backend reference() {
        return reference;
    }

    @Override
    public String name() {
        return "cpu-simd";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape);
    }

    @Override
    public Tensor toDevice(Tensor t) {
        Checks.on("toDevice", t);
        return t;
    }

    @Override
    public Tensor toHost(Tensor t) {
        Checks.on("toHost", t);
        return t;
    }

    // ------------------------------------------------------------------ data movement

    private static boolean convertible(DType d) {
        return switch (d) {
            case F32, F16, BF16, Q8_0, Q4_0 -> true;
            default -> false;
        };
    }

    /** Whether the convert task copies {@code src} into {@code dst} (or into rows of it): a dtype pair it converts, rank, non-empty. */
    private static boolean convertTaskTakes(Tensor src, Tensor dst) {
        DType s = src.dtype(), d = dst.dtype();
        boolean quant = s.isQuantized() || d.isQuantized();
        return convertible(s) && convertible(d) && src.rank() > 0 && src.rank() <= ConvertTask.MAX_RANK && src.numel() > 0
                && !(s.isQuantized() && d.isQuantized() && s != d)
                && !(quant && s != DType.F32 && d != DType.F32 && s != d);
    }

    @Override
    public synchronized void copy(Tensor src, Tensor dst) {
        String op = "copy";
        OpChecks.notNull(op, "src", src);
        OpChecks.notNull(op, "dst", dst);
        Checks.on(op, src);
        Checks.on(op, dst);
        OpChecks.sameShape(op, "src", src, "dst", dst);
        if (!(convertTaskTakes(src, dst) && !OpChecks.mayOverlap(src, dst))) {
            reference.copy(src, dst);
            return;
        }
        int n = convert.setCopy(src, dst, dst.offset(), threads);
        runAndRelease(convert, n);
    }

    /** {@link Backend#copyRows} without the view: the destination rows are addressed by offset (a decode step's KV append allocates nothing). */
    @Override
    public synchronized void copyRows(Tensor src, Tensor dst, long row) {
        String op = "copyRows";
        OpChecks.notNull(op, "src", src);
        OpChecks.notNull(op, "dst", dst);
        Checks.on(op, src);
        Checks.on(op, dst);
        boolean rowsMatch = src.rank() == dst.rank() && src.rank() >= 1 && row >= 0 && row + src.dim(0) <= dst.dim(0);
        for (int d = 1; rowsMatch && d < src.rank(); d++) {
            rowsMatch = src.dim(d) == dst.dim(d);
        }
        if (!(rowsMatch && convertTaskTakes(src, dst) && src.storage() != dst.storage())) {
            Backend.super.copyRows(src, dst, row);  // checks (clear errors), conversions, the rare cases
            return;
        }
        int n = convert.setCopy(src, dst, dst.offset() + row * dst.stride(0), threads);
        runAndRelease(convert, n);
    }

    @Override
    public synchronized void embedding(Tensor table, Tensor ids, Tensor out) {
        String op = "embedding";
        OpChecks.notNull(op, "table", table);
        OpChecks.notNull(op, "ids", ids);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, table);
        Checks.on(op, ids);
        Checks.on(op, out);
        OpChecks.rank(op, "table", table, 2);
        if (!(table.dtype().isWeightType())) {
            throw Checks.fail(op, "table " + table.describe() + " must be F32, F16, BF16, Q8_0 or Q4_0");
        }
        Checks.dtype(op, "ids", ids, DType.I32);
        OpChecks.rank(op, "ids", ids, 1);
        Checks.dtype(op, "out", out, DType.F32);
        Checks.shape(op, "out", out, ids.dim(0), table.dim(1));
        long v = table.dim(0);
        for (long t = 0; t < ids.dim(0); t++) {
            long id = ids.getLong(t);
            if (id < 0 || id >= v) {
                throw new IllegalArgumentException(op + ": id " + id + " at position " + t + " is outside the table's "
                        + v + " rows " + table.describe());
            }
        }
        long outStride = Layout.rowStride(out);
        if (!table.isContiguous() || ids.stride(0) != 1 && ids.dim(0) > 1 || outStride < 0) {
            reference.embedding(table, ids, out);
            return;
        }
        int n = convert.setGather(table, ids, out, outStride, threads);
        runAndRelease(convert, n);
    }

    // ------------------------------------------------------------------ linear algebra

    @Override
    public synchronized void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        checkMatmul("matmul", x, w, bias, out);
        long m = x.dim(0);
        long k = x.dim(1);
        // (TiledWeights.plainShape without its array: a decode step allocates nothing)
        boolean tiled = TiledWeights.isTiled(w);
        long n = tiled ? w.dim(1) : w.dim(0);
        int tiles = tiled ? (int) w.dim(0) : 1;
        if (m == 0 || n == 0) {
            return;
        }
        if (!kernelsTake(x, bias, n)) {
            if (tiles > 1 || InterleavedQuant.isInterleaved(w.dtype())) {
                try (Tensor whole = TiledWeights.plainCopy(w)) {
                    reference.matmul(x, whole, bias, out);
                }
                return;
            }
            reference.matmul(x, w, bias, out);
            return;
        }
        long tileK = k / tiles;
        long rowBytes = w.dtype().byteSize(tileK);
        boolean roundX = activations.rounds(w.dtype());
        if (m <= GemvTask.MAX_ROWS || out.stride(1) != 1) {
            // decode shape: no views or slices are made, the tasks get storages and byte offsets
            for (long m0 = 0; m0 < m; m0 += GemvTask.MAX_ROWS) {
                int mm = (int) Math.min(GemvTask.MAX_ROWS, m - m0);
                gemv.prepare(seg(x), x.byteOffset() + 4L * m0 * x.stride(0), x.stride(0), mm, (int) k, roundX, w.dtype(), tiles, rowBytes);
                addGemvWeight(w, (int) n, bias, out, m0);
                runAndRelease(gemv, gemv.chunks(threads));
            }
            return;
        }
        // prefill shape: one GEMM per K tile, the later ones adding to C
        MemorySegment a = roundX ? roundedRows(x, (int) m, (int) k) : base(x);
        long lda = roundX ? k : x.stride(0);
        for (int t = 0; t < tiles; t++) {
            gemm(a.asSlice(4L * t * tileK), lda, w.segment().asSlice(t * n * rowBytes), w.dtype(), rowBytes,
                    bias == null || t > 0 ? null : bias.segment(), base(out), out.stride(0), (int) m, (int) n, (int) tileK, t > 0);
        }
    }

    /**
     * As separate {@link #matmul} calls, with the same kernels on the same prepared rows; in the decode shape (up to
     * {@link GemvTask#MAX_ROWS} activation rows), weights of one dtype and K tiling run as one GEMV
     * over their rows taken together: one preparation of the activation rows and one dispatch to the
     * threads instead of one per weight, and no thread idles at the end of each weight. A TinyLlama
     * Q4_0 layer's q / k / v and gate / up as two calls instead of five: 8% less time for those
     * GEMVs (16 layers, 2 threads, from memory). Every argument is checked before anything is written.
     */
    @Override
    public synchronized void matmuls(Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        String op = "matmuls";
        OpChecks.matmuls(op, Device.CPU, x, ws, biases, outs);  // shapes, devices, overlaps; then what this backend's kernels take
        for (Tensor w : ws) {
            checkWeightForm(op, w);
        }
        long m = x.dim(0);
        long k = x.dim(1);
        if (m == 0) {
            return;
        }
        Tensor first = ws[0];
        int tiles = TiledWeights.isTiled(first) ? (int) first.dim(0) : 1;
        boolean together = m <= GemvTask.MAX_ROWS && ws.length <= GemvTask.MAX_WEIGHTS;
        for (int i = 0; i < ws.length && together; i++) {
            Tensor w = ws[i];
            together = w.dtype() == first.dtype() && (TiledWeights.isTiled(w) ? (int) w.dim(0) : 1) == tiles
                    && kernelsTake(x, biases == null ? null : biases[i], outs[i].dim(1));
        }
        if (!together) {
            for (int i = 0; i < ws.length; i++) {
                matmul(x, ws[i], biases == null ? null : biases[i], outs[i]);
            }
            return;
        }
        long rowBytes = first.dtype().byteSize(k / tiles);
        gemv.prepare(seg(x), x.byteOffset(), x.stride(0), (int) m, (int) k, activations.rounds(first.dtype()), first.dtype(), tiles,
                rowBytes);
        for (int i = 0; i < ws.length; i++) {
            if (outs[i].dim(1) > 0) {
                addGemvWeight(ws[i], (int) outs[i].dim(1), biases == null ? null : biases[i], outs[i], 0);
            }
        }
        runAndRelease(gemv, gemv.chunks(threads));
    }

    /** Weight w ({@code n} rows) with its bias and output from activation row {@code m0} on, into the GEMV being set up. */
    private void addGemvWeight(Tensor w, int n, Tensor bias, Tensor out, long m0) {
        gemv.addWeight(seg(w), w.byteOffset(), n, bias == null ? null : seg(bias), bias == null ? 0 : bias.byteOffset(), seg(out),
                out.byteOffset() + 4L * m0 * out.stride(0), out.stride(0), out.stride(1));
    }

    /**
     * Whether the GEMV / GEMM kernels take x (unit element stride), the bias (unit stride) and sizes
     * that fit an int; other calls go to the reference.
     */
    private static boolean kernelsTake(Tensor x, Tensor bias, long n) {
        long k = x.dim(1);
        return (x.stride(1) == 1 || k == 1) && (bias == null || bias.stride(0) == 1 || n == 1)
                && k <= Integer.MAX_VALUE && n <= Integer.MAX_VALUE && x.dim(0) <= Integer.MAX_VALUE && k > 0;
    }

    /** A weight in a form the matmul kernels read: [N, K] or prepareLinear's K tiles, a weight dtype or an interleaved one, contiguous. */
    private static void checkWeightForm(String op, Tensor w) {
        if (w.rank() != 2 && !(TiledWeights.isTiled(w) && w.dim(0) > 0 && w.dim(2) % w.dtype().blockSize() == 0)) {
            throw Checks.fail(op, "w " + w.describe() + " must be [N, K] (or the K-tiled [T, N, K / T] of prepareLinear)");
        }
        if (!(w.dtype().isWeightType() || InterleavedQuant.isInterleaved(w.dtype()) && w.dim(-2) % InterleavedQuant.GROUP == 0)) {
            throw Checks.fail(op, "weight " + w.describe() + " must be F32, F16, BF16, Q8_0 or Q4_0 (or the interleaved Q8_0_R32 / Q4_0_R32 of prepareLinear)");
        }
        OpChecks.contiguous(op, "w", w);
    }

    /** The argument checks of {@link #matmul} (op names the calling op in messages). */
    private static void checkMatmul(String op, Tensor x, Tensor w, Tensor bias, Tensor out) {
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, x);
        Checks.on(op, w);
        Checks.on(op, bias);
        Checks.on(op, out);
        Checks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        checkWeightForm(op, w);
        long m = x.dim(0);
        long k = x.dim(1);
        boolean tiled = TiledWeights.isTiled(w);
        long n = tiled ? w.dim(1) : w.dim(0);
        if (!((tiled ? w.dim(0) * w.dim(2) : w.dim(1)) == k)) {
            throw Checks.fail(op, "x " + x.describe() + " and w " + w.describe() + " disagree on K (x·wᵀ needs w [N, " + k + "])");
        }
        if (bias != null) {
            Checks.dtype(op, "bias", bias, DType.F32);
            Checks.shape(op, "bias", bias, n);
        }
        Checks.dtype(op, "out", out, DType.F32);
        Checks.shape(op, "out", out, m, n);
        if (!(!OpChecks.mayOverlap(out, x) && !OpChecks.mayOverlap(out, w) && (bias == null || !OpChecks.mayOverlap(out, bias)))) {
            throw Checks.fail(op, "out " + out.describe() + " must not overlap the inputs");
        }
    }

    /**
     * Weights whose rows are longer than {@link TiledWeights#MAX_TILE} elements are split into K
     * tiles ({@link TiledWeights}; float weights into tiles of at most
     * {@link TiledWeights#MAX_FLOAT_TILE} where that divides evenly): the decode matmul then keeps its
     * activation slice in L1 beside the weight stream (BF16 / Q8_0 rows of 5632: +34% / +50% read
     * rate in two tiles, BF16 +38% more in four). On machines with
     * 512-bit vectors Q8_0 / Q4_0 weights with a multiple of 32 rows (and finite scales) are then
     * interleaved by 32 rows ({@link InterleavedQuant}: Q4_0 decode reads them ~2x faster). Either is a
     * copy, so a memory-mapped weight stops being zero copy. Other weights: {@code w} itself.
     */
    @Override
    public synchronized Tensor prepareLinear(Tensor w) {
        OpChecks.notNull("prepareLinear", "w", w);
        Checks.on("prepareLinear", w);
        Tensor tiled = tile(w);
        if (!(GemvKernels.WIDE && InterleavedQuant.canInterleave(tiled))) {
            return tiled;
        }
        try {
            Tensor interleaved = Tensor.allocate(InterleavedQuant.interleaved(tiled.dtype()), tiled.shape());
            return fillInParallel(interleaved, InterleavedQuant.groups(tiled), 1,
                    (from, to) -> InterleavedQuant.interleaveGroups(tiled, interleaved, from, to));
        } finally {
            if (tiled != w) {
                tiled.close();
            }
        }
    }

    /** {@code w} in K tiles when its rows are long (a new tensor), else {@code w} itself. */
    private Tensor tile(Tensor w) {
        int tiles = w.rank() == 2 ? TiledWeights.tilesFor(w.dim(1), maxTile, tileQuantum) : 1;
        if (tiles > 1 && w.dtype().isFloatingPoint()) {
            int shorter = TiledWeights.tilesFor(w.dim(1), floatMaxTile, tileQuantum);
            tiles = shorter > 1 ? shorter : tiles;
        }
        // (tilesFor keeps tiles whole multiples of 32 elements, so quant blocks never straddle them)
        if (tiles < 2 || !w.dtype().isWeightType() || !w.isContiguous() || w.dim(0) == 0) {
            return w;
        }
        Tensor tiled = Tensor.allocate(w.dtype(), tiles, w.dim(0), w.dim(1) / tiles);
        return fillInParallel(tiled, w.dim(0), 16, (from, to) -> TiledWeights.tileRows(w, tiled, from, to));
    }

    /** Fills part {@code [from, to)} of a new weight layout. */
    private interface LayoutPart {
        void fill(long from, long to);
    }

    /**
     * Runs {@code part} over {@code [0, total)} on all threads (a memory-mapped source is read, and
     * faulted in, as it is copied) and returns {@code made}, which is closed if a part fails.
     */
    private Tensor fillInParallel(Tensor made, long total, long minGrain, LayoutPart part) {
        RangeTask task = new RangeTask() {
            @Override
            void range(long from, long to, int worker) {
                part.fill(from, to);
            }
        };
        try {
            pool.run(task, task.split(total, RangeTask.grainFor(total, threads, minGrain)));
        } catch (RuntimeException | Error e) {
            made.close();
            throw e;
        }
        return made;
    }

    private void gemm(MemorySegment a, long lda, MemorySegment b, DType bType, long ldbBytes, MemorySegment bias,
                      MemorySegment c, long ldc, int m, int n, int k, boolean accumulate) {
        gemm.multiply(pool, a, lda, b, bType, ldbBytes, bias, c, ldc, m, n, k, accumulate);
    }

    // ------------------------------------------------------------------ normalisation

    @Override
    public synchronized void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        String op = "rmsNorm";
        checkRowOp(op, x, out);
        OpChecks.notNull(op, "weight", weight);
        Checks.on(op, weight);
        if (!(weight.dtype().isFloatingPoint())) {
            throw Checks.fail(op, "weight " + weight.describe() + " must be a float dtype");
        }
        Checks.shape(op, "weight", weight, x.dim(-1));
        long xs = Layout.rowStride(x);
        long os = Layout.rowStride(out);
        if (xs < 0 || os < 0 || weight.dtype() != DType.F32 || weight.stride(0) != 1 && weight.dim(0) > 1
                || partialOverlap(x, out) || x.dim(-1) > Integer.MAX_VALUE) {
            reference.rmsNorm(x, weight, eps, weightOffset, out);
            return;
        }
        runNorm(RowTasks.Kind.RMS_NORM, x, xs, out, os, weight, null, eps, weightOffset);
    }

    @Override
    public synchronized void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        String op = "layerNorm";
        checkRowOp(op, x, out);
        OpChecks.notNull(op, "weight", weight);
        OpChecks.notNull(op, "bias", bias);
        Checks.on(op, weight);
        Checks.on(op, bias);
        if (!(weight.dtype().isFloatingPoint())) {
            throw Checks.fail(op, "weight " + weight.describe() + " must be a float dtype");
        }
        if (!(bias.dtype().isFloatingPoint())) {
            throw Checks.fail(op, "bias " + bias.describe() + " must be a float dtype");
        }
        Checks.shape(op, "weight", weight, x.dim(-1));
        Checks.shape(op, "bias", bias, x.dim(-1));
        long xs = Layout.rowStride(x);
        long os = Layout.rowStride(out);
        if (xs < 0 || os < 0 || weight.dtype() != DType.F32 || bias.dtype() != DType.F32 || !weight.isContiguous()
                || !bias.isContiguous() || partialOverlap(x, out) || x.dim(-1) > Integer.MAX_VALUE) {
            reference.layerNorm(x, weight, bias, eps, out);
            return;
        }
        runNorm(RowTasks.Kind.LAYER_NORM, x, xs, out, os, weight, bias, eps, 0f);
    }

    @Override
    public synchronized void softmax(Tensor x, Tensor out) {
        String op = "softmax";
        checkRowOp(op, x, out);
        long xs = Layout.rowStride(x);
        long os = Layout.rowStride(out);
        if (xs < 0 || os < 0 || partialOverlap(x, out) || x.dim(-1) > Integer.MAX_VALUE) {
            reference.softmax(x, out);
            return;
        }
        runNorm(RowTasks.Kind.SOFTMAX, x, xs, out, os, null, null, 0f, 0f);
    }

    private void checkRowOp(String op, Tensor x, Tensor out) {
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, x);
        Checks.on(op, out);
        Checks.dtype(op, "x", x, DType.F32);
        Checks.dtype(op, "out", out, DType.F32);
        if (!(x.rank() >= 1)) {
            throw Checks.fail(op, "x " + x.describe() + " needs at least one dim");
        }
        OpChecks.sameShape(op, "x", x, "out", out);
    }

    private void runNorm(RowTasks.Kind kind, Tensor x, long xs, Tensor out, long os, Tensor weight, Tensor bias,
                         float eps, float offset) {
        long rows = Layout.rows(x);
        if (rows == 0 || x.dim(-1) == 0) {
            return;
        }
        int chunks = norm.set(kind, seg(x), x.byteOffset(), xs, seg(out), out.byteOffset(), os,
                weight == null ? null : seg(weight), weight == null ? 0 : weight.byteOffset(),
                bias == null ? null : seg(bias), bias == null ? 0 : bias.byteOffset(), eps, offset, rows, (int) x.dim(-1), threads);
        runAndRelease(norm, chunks);
    }

    /** In place is fine (same view); any other overlap is left to the reference. */
    private static boolean partialOverlap(Tensor a, Tensor b) {
        return OpChecks.mayOverlap(a, b) && !Layout.sameView(a, b);
    }

    // ------------------------------------------------------------------ attention

    @Override
    public synchronized void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        String op = "rope";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "invFreq", invFreq);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, x);
        Checks.on(op, invFreq);
        Checks.on(op, out);
        Checks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 3);
        if (!(x.dim(2) % 2 == 0)) {
            throw Checks.fail(op, "x " + x.describe() + " head dim must be even");
        }
        Checks.dtype(op, "invFreq", invFreq, DType.F32);
        Checks.shape(op, "invFreq", invFreq, x.dim(2) / 2);
        Checks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        if (!(startPos >= 0)) {
            throw Checks.fail(op, "startPos " + startPos + " must be >= 0");
        }
        if (x.stride(2) != 1 || out.stride(2) != 1 || invFreq.stride(0) != 1 && invFreq.dim(0) > 1 || partialOverlap(x, out)) {
            reference.rope(x, startPos, invFreq, out);
            return;
        }
        if (x.numel() == 0) {
            return;
        }
        int chunks = rope.set(seg(x), x.byteOffset(), x.stride(0), x.stride(1), seg(out), out.byteOffset(), out.stride(0),
                out.stride(1), seg(invFreq), invFreq.byteOffset(),
                (int) x.dim(0), (int) x.dim(1), (int) x.dim(2), startPos);
        runAndRelease(rope, chunks);
    }

    @Override
    public synchronized void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        String op = "attention";
        OpChecks.notNull(op, "q", q);
        OpChecks.notNull(op, "k", k);
        OpChecks.notNull(op, "v", v);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, q);
        Checks.on(op, k);
        Checks.on(op, v);
        Checks.on(op, out);
        Checks.dtype(op, "q", q, DType.F32);
        OpChecks.rank(op, "q", q, 3);
        Checks.dtype(op, "k", k, DType.F32, DType.F16, DType.BF16);
        Checks.dtype(op, "v", v, DType.F32, DType.F16, DType.BF16);
        OpChecks.rank(op, "k", k, 3);
        Checks.shape(op, "v", v, k.dim(0), k.dim(1), k.dim(2));
        if (!(k.dim(2) == q.dim(2))) {
            throw Checks.fail(op, "q " + q.describe() + " and k " + k.describe() + " head dims differ");
        }
        if (!(k.dim(1) > 0 && q.dim(1) % k.dim(1) == 0)) {
            throw Checks.fail(op, "query heads " + q.dim(1)
                + " must be a multiple of kv heads " + k.dim(1));
        }
        Checks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "q", q, "out", out);
        if (!(queryStart >= 0)) {
            throw Checks.fail(op, "queryStart " + queryStart + " must be >= 0");
        }
        if (!(!causal || queryStart + q.dim(0) <= k.dim(0))) {
            throw Checks.fail(op, "causal: queries at positions up to "
                + (queryStart + q.dim(0) - 1) + " need " + (queryStart + q.dim(0)) + " keys but k has " + k.dim(0));
        }
        if (!(!OpChecks.mayOverlap(out, k) && !OpChecks.mayOverlap(out, v))) {
            throw Checks.fail(op, "out must not overlap k / v");
        }
        boolean fast = q.stride(2) == 1 && k.stride(2) == 1 && v.stride(2) == 1 && out.stride(2) == 1
                && !partialOverlap(q, out) && !Layout.sameView(q, out) && k.dim(0) > 0;
        if (!fast) {
            reference.attention(q, k, v, scale, causal, queryStart, out);
            return;
        }
        if (q.numel() == 0) {
            return;
        }
        int visible = causal ? (int) Math.min(k.dim(0), queryStart + 1L) : (int) k.dim(0);
        if (q.dim(0) == 1 && visible >= DecodeAttentionTask.MIN_KEYS) {
            int items = decodeAttention.set(seg(q), q.byteOffset(), q.stride(1), seg(k), k.byteOffset(), k.stride(0), k.stride(1),
                    k.dtype(), seg(v), v.byteOffset(), v.stride(0), v.stride(1), v.dtype(), (int) q.dim(1), (int) k.dim(1),
                    (int) q.dim(2), visible, (int) k.dim(0), scale, threads);
            runAndRelease(decodeAttention, items);
            decodeAttention.merge(seg(out), out.byteOffset(), out.stride(1));
            return;
        }
        int chunks = attention.set(seg(q), q.byteOffset(), q.stride(0), q.stride(1), seg(k), k.byteOffset(), k.stride(0),
                k.stride(1), k.dtype(), seg(v), v.byteOffset(), v.stride(0), v.stride(1), v.dtype(), seg(out), out.byteOffset(),
                out.stride(0), out.stride(1),
                (int) q.dim(0), (int) q.dim(1), (int) k.dim(1), (int) q.dim(2), (int) k.dim(0), scale, causal, queryStart, threads);
        runAndRelease(attention, chunks);
    }

    @Override
    public synchronized void windowAttention(Tensor q, Tensor map, int windowSize, float scale, Tensor out) {
        String op = "windowAttention";
        OpChecks.windowAttention(Device.CPU, q, map, windowSize, out);
        long d = map.dim(2);
        long cols = map.dim(1) / windowSize;
        if (OpChecks.mayOverlap(out, map) || OpChecks.mayOverlap(out, q)) {
            throw Checks.fail(op, "out " + out.describe() + " must not overlap q or map");
        }
        if (map.stride(2) != 1 && d > 1 || d > Integer.MAX_VALUE || q.dim(0) > Integer.MAX_VALUE) {
            reference.windowAttention(q, map, windowSize, scale, out);
            return;
        }
        if (q.numel() == 0) {
            return;
        }
        int chunks = window.set(seg(q), q.byteOffset(), seg(map), map.byteOffset(), map.stride(0), map.stride(1), seg(out),
                out.byteOffset(), (int) q.dim(0), (int) d, windowSize, (int) cols, scale, threads);
        try {
            pool.run(window, chunks);
        } finally {
            window.release();
        }
    }

    // ------------------------------------------------------------------ pointwise

    @Override
    public synchronized void activation(Activation act, Tensor x, Tensor out) {
        String op = "activation";
        if (act == null) {
            throw new IllegalArgumentException(op + ": activation is null");
        }
        checkRowOp(op, x, out);
        if (!x.isContiguous() || !out.isContiguous() || partialOverlap(x, out)) {
            reference.activation(act, x, out);
            return;
        }
        runAndRelease(activate, activate.set(act, seg(x), x.byteOffset(), null, 0, seg(out), out.byteOffset(), x.numel()));
    }

    @Override
    public synchronized void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        String op = "gatedActivation";
        if (act == null) {
            throw new IllegalArgumentException(op + ": activation is null");
        }
        OpChecks.notNull(op, "up", up);
        checkRowOp(op, gate, out);
        Checks.on(op, up);
        Checks.dtype(op, "up", up, DType.F32);
        OpChecks.sameShape(op, "gate", gate, "up", up);
        if (!gate.isContiguous() || !up.isContiguous() || !out.isContiguous() || partialOverlap(gate, out) || partialOverlap(up, out)) {
            reference.gatedActivation(act, gate, up, out);
            return;
        }
        runAndRelease(activate, activate.set(act, seg(gate), gate.byteOffset(), seg(up), up.byteOffset(), seg(out),
                out.byteOffset(), gate.numel()));
    }

    @Override
    public synchronized void add(Tensor a, Tensor b, Tensor out) {
        binaryOp("add", PointwiseTasks.BinaryOp.ADD, a, b, out);
    }

    @Override
    public synchronized void mul(Tensor a, Tensor b, Tensor out) {
        binaryOp("mul", PointwiseTasks.BinaryOp.MUL, a, b, out);
    }

    private void binaryOp(String op, PointwiseTasks.BinaryOp kind, Tensor a, Tensor b, Tensor out) {
        OpChecks.notNull(op, "b", b);
        checkRowOp(op, a, out);
        Checks.on(op, b);
        Checks.dtype(op, "b", b, DType.F32);
        Checks.broadcastable(op, a, b);
        boolean dense = a.isContiguous() && out.isContiguous() && !partialOverlap(a, out)
                && (!OpChecks.mayOverlap(b, out) || Layout.sameView(b, out));
        PointwiseTasks.Binary.Mode mode = null;
        if (dense && b.numel() == 1) {
            mode = PointwiseTasks.Binary.Mode.SCALAR;
        } else if (dense && b.isContiguous() && b.numel() == a.numel()) {
            mode = PointwiseTasks.Binary.Mode.SAME;
        } else if (dense && b.isContiguous() && a.rank() >= 1 && b.numel() == a.dim(-1) && b.dim(-1) == a.dim(-1)
                && !OpChecks.mayOverlap(b, out)) {
            mode = PointwiseTasks.Binary.Mode.ROW;
        }
        if (mode == null) {
            if (kind == PointwiseTasks.BinaryOp.ADD) {
                reference.add(a, b, out);
            } else {
                reference.mul(a, b, out);
            }
            return;
        }
        if (a.numel() == 0) {
            return;
        }
        float scalar = mode == PointwiseTasks.Binary.Mode.SCALAR ? b.storage().segment().get(FL, b.byteOffset()) : 0f;
        int chunks = binary.set(kind, mode, seg(a), a.byteOffset(), seg(b), b.byteOffset(), seg(out), out.byteOffset(),
                a.numel(), a.dim(-1), scalar);
        runAndRelease(binary, chunks);
    }

    @Override
    public synchronized void scale(Tensor x, float s, Tensor out) {
        String op = "scale";
        checkRowOp(op, x, out);
        if (!x.isContiguous() || !out.isContiguous() || partialOverlap(x, out)) {
            reference.scale(x, s, out);
            return;
        }
        if (x.numel() == 0) {
            return;
        }
        int chunks = binary.set(PointwiseTasks.BinaryOp.MUL, PointwiseTasks.Binary.Mode.SCALAR, seg(x), x.byteOffset(), null, 0,
                seg(out), out.byteOffset(), x.numel(), x.dim(-1), s);
        runAndRelease(binary, chunks);
    }

    // ------------------------------------------------------------------ convolution and resampling

    @Override
    public synchronized void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        String op = "conv2d";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, x);
        Checks.on(op, w);
        Checks.on(op, bias);
        Checks.on(op, out);
        Checks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "w", w, 4);
        if (!(w.dtype().isWeightType())) {
            throw Checks.fail(op, "weight " + w.describe() + " must be F32, F16, BF16, Q8_0 or Q4_0");
        }
        if (!(stride >= 1 && padding >= 0)) {
            throw Checks.fail(op, "stride " + stride + " must be >= 1 and padding " + padding + " >= 0");
        }
        if (!(w.dim(1) == x.dim(3))) {
            throw Checks.fail(op, "w " + w.describe() + " expects " + w.dim(1) + " input channels but x "
                + x.describe() + " has " + x.dim(3));
        }
        long ho = (x.dim(1) + 2L * padding - w.dim(2)) / stride + 1;
        long wo = (x.dim(2) + 2L * padding - w.dim(3)) / stride + 1;
        if (!(ho >= 1 && wo >= 1)) {
            throw Checks.fail(op, "kernel " + w.dim(2) + "x" + w.dim(3) + " does not fit x " + x.describe()
                + " with padding " + padding);
        }
        if (bias != null) {
            Checks.dtype(op, "bias", bias, DType.F32);
            Checks.shape(op, "bias", bias, w.dim(0));
        }
        Checks.dtype(op, "out", out, DType.F32);
        Checks.shape(op, "out", out, x.dim(0), ho, wo, w.dim(0));
        if (!(!OpChecks.mayOverlap(out, x))) {
            throw Checks.fail(op, "out " + out.describe() + " must not overlap x");
        }
        long kk = w.dim(1) * w.dim(2) * w.dim(3);
        if (!x.isContiguous() || !out.isContiguous() || !w.isContiguous() || bias != null && !bias.isContiguous()
                || kk > Integer.MAX_VALUE || w.dim(0) > Integer.MAX_VALUE || x.numel() > Integer.MAX_VALUE * 4L) {
            reference.conv2d(x, w, bias, stride, padding, out);
            return;
        }
        long pixels = x.dim(0) * ho * wo;
        if (pixels == 0 || w.dim(0) == 0) {
            return;
        }
        int slab = (int) Math.min(pixels, IM2COL_ROWS);
        MemorySegment cols = scratch(4L * slab * kk);
        im2col.g.set((int) x.dim(1), (int) x.dim(2), (int) x.dim(3), (int) ho, (int) wo, (int) w.dim(2), (int) w.dim(3), stride, padding);
        MemorySegment xs = x.segment();
        MemorySegment os = out.segment();
        long rowBytes = w.dtype().byteSize(kk);
        for (long p0 = 0; p0 < pixels; p0 += slab) {
            int count = (int) Math.min(slab, pixels - p0);
            int chunks = im2col.set(xs, cols, p0, count, threads);
            try {
                pool.run(im2col, chunks);
            } finally {
                im2col.release();
            }
            gemm(cols, kk, w.segment(), w.dtype(), rowBytes, bias == null ? null : bias.segment(),
                    os.asSlice(4L * p0 * w.dim(0)), w.dim(0), count, (int) w.dim(0), (int) kk, false);
        }
    }

    @Override
    public synchronized void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        String op = "depthwiseConv2d";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, x);
        Checks.on(op, w);
        Checks.on(op, bias);
        Checks.on(op, out);
        Checks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "w", w, 4);
        if (!(w.dtype().isFloatingPoint())) {
            throw Checks.fail(op, "weight " + w.describe() + " must be a float dtype");
        }
        if (!(w.dim(0) == x.dim(3) && w.dim(1) == 1 && w.dim(2) == w.dim(3))) {
            throw Checks.fail(op, "w " + w.describe() + " must be [C, 1, k, k] with C = " + x.dim(3));
        }
        if (!(padding >= 0)) {
            throw Checks.fail(op, "padding " + padding + " must be >= 0");
        }
        long k = w.dim(2);
        long ho = x.dim(1) + 2L * padding - k + 1;
        long wo = x.dim(2) + 2L * padding - k + 1;
        if (!(ho >= 1 && wo >= 1)) {
            throw Checks.fail(op, "kernel " + k + "x" + k + " does not fit x " + x.describe());
        }
        if (bias != null) {
            Checks.dtype(op, "bias", bias, DType.F32);
            Checks.shape(op, "bias", bias, x.dim(3));
        }
        Checks.dtype(op, "out", out, DType.F32);
        Checks.shape(op, "out", out, x.dim(0), ho, wo, x.dim(3));
        if (!(!OpChecks.mayOverlap(out, x))) {
            throw Checks.fail(op, "out " + out.describe() + " must not overlap x");
        }
        if (!x.isContiguous() || !out.isContiguous() || bias != null && !bias.isContiguous() || k * k * x.dim(3) > Integer.MAX_VALUE
                || w.dtype().isQuantized()) {
            reference.depthwiseConv2d(x, w, bias, padding, out);
            return;
        }
        if (out.numel() == 0) {
            return;
        }
        int c = (int) x.dim(3);
        float[] wt = depthwise.weights((int) (k * k * c));
        ImageTasks.Depthwise.transposeTaps(w, (int) (k * k), c, wt);
        depthwise.g.set((int) x.dim(1), (int) x.dim(2), c, (int) ho, (int) wo, (int) k, (int) k, 1, padding);
        int chunks = depthwise.set(x.segment(), out.segment(), bias == null ? null : bias.segment(), x.dim(0) * ho, threads);
        runAndRelease(depthwise, chunks);
    }

    @Override
    public synchronized void resizeBilinear(Tensor x, Tensor out) {
        String op = "resizeBilinear";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, x);
        Checks.on(op, out);
        Checks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        Checks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "out", out, 4);
        if (!(out.dim(0) == x.dim(0) && out.dim(3) == x.dim(3))) {
            throw Checks.fail(op, "out " + out.describe()
                + " must keep x's batch and channels " + x.describe());
        }
        if (!(x.dim(1) > 0 && x.dim(2) > 0 || out.numel() == 0)) {
            throw Checks.fail(op, "x " + x.describe() + " is empty");
        }
        if (!(!OpChecks.mayOverlap(out, x))) {
            throw Checks.fail(op, "out " + out.describe() + " must not overlap x");
        }
        if (!x.isContiguous() || !evenPixels(out)) {
            reference.resizeBilinear(x, out);
            return;
        }
        if (out.numel() == 0) {
            return;
        }
        int chunks = resize.set(x.segment(), out.segment(), out.stride(2), (int) x.dim(0), (int) x.dim(1), (int) x.dim(2),
                (int) x.dim(3), (int) out.dim(1), (int) out.dim(2), threads);
        runAndRelease(resize, chunks);
    }

    // ------------------------------------------------------------------ selection

    @Override
    public synchronized void topK(Tensor x, int k, Tensor values, Tensor indices) {
        String op = "topK";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "values", values);
        OpChecks.notNull(op, "indices", indices);
        Checks.on(op, x);
        Checks.on(op, values);
        Checks.on(op, indices);
        Checks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        if (!(k >= 1 && k <= x.dim(1))) {
            throw Checks.fail(op, "k " + k + " must be in [1, " + x.dim(1) + "] for x " + x.describe());
        }
        Checks.dtype(op, "values", values, DType.F32);
        Checks.shape(op, "values", values, x.dim(0), k);
        Checks.dtype(op, "indices", indices, DType.I32);
        Checks.shape(op, "indices", indices, x.dim(0), k);
        if (x.stride(1) != 1 || values.stride(1) != 1 || indices.stride(1) != 1 || OpChecks.mayOverlap(x, values)
                || OpChecks.mayOverlap(x, indices) || x.dim(1) > Integer.MAX_VALUE) {
            reference.topK(x, k, values, indices);
            return;
        }
        int chunks = select.set(base(x), x.stride(0), (int) x.dim(0), (int) x.dim(1), k, base(values), values.stride(0),
                base(indices), indices.stride(0), threads);
        runAndRelease(select, chunks);
    }

    @Override
    public synchronized void argmax(Tensor x, Tensor out) {
        String op = "argmax";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        Checks.on(op, x);
        Checks.on(op, out);
        Checks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        if (!(x.dim(1) >= 1)) {
            throw Checks.fail(op, "x " + x.describe() + " has empty rows");
        }
        Checks.dtype(op, "out", out, DType.I32);
        Checks.shape(op, "out", out, x.dim(0));
        if (x.stride(1) != 1 || OpChecks.mayOverlap(x, out) || x.dim(1) > Integer.MAX_VALUE) {
            reference.argmax(x, out);
            return;
        }
        int chunks = select.set(base(x), x.stride(0), (int) x.dim(0), (int) x.dim(1), 0, null, 0, base(out), out.stride(0), threads);
        runAndRelease(select, chunks);
    }

    // ------------------------------------------------------------------ plumbing

    /**
     * Whether [N, H, W, C] tensor t has contiguous channels and pixels evenly spaced (row after row,
     * image after image): a dense tensor, or a channel slice of a wider map such as the ConvNeXt
     * stages' concatenation, which bilinear resize writes in place.
     */
    private static boolean evenPixels(Tensor t) {
        long pixel = t.stride(2);
        return t.stride(3) == 1 && pixel >= t.dim(3) && t.stride(1) == t.dim(2) * pixel
                && (t.dim(0) == 1 || t.stride(0) == t.dim(1) * t.stride(1));
    }

    /** The whole storage segment (no allocation); pair it with {@link Tensor#byteOffset()}. */
    private static MemorySegment seg(Tensor t) {
        return t.storage().segment();
    }

    /** The storage from the tensor's first element on (valid for any view whose strides are non-negative). */
    private static MemorySegment base(Tensor t) {
        return t.storage().segment().asSlice(t.byteOffset());
    }

    private void runAndRelease(RangeTask task, int chunks) {
        try {
            pool.run(task, chunks);
        } finally {
            if (task instanceof GemvTask g) {
                g.release();
            } else if (task instanceof RowTasks.Norm t) {
                t.release();
            } else if (task instanceof PointwiseTasks.Activate t) {
                t.release();
            } else if (task instanceof PointwiseTasks.Binary t) {
                t.release();
            } else if (task instanceof AttentionTask t) {
                t.release();
            } else if (task instanceof DecodeAttentionTask t) {
                t.release();
            } else if (task instanceof RopeTask t) {
                t.release();
            } else if (task instanceof SelectTask t) {
                t.release();
            } else if (task instanceof ConvertTask t) {
                t.release();
            } else if (task instanceof ImageTasks.Depthwise t) {
                t.release();
            } else if (task instanceof ImageTasks.Resize t) {
                t.release();
            } else if (task instanceof RoundRowsTask t) {
                t.release();
            }
        }
    }

    /** The rows of x rounded to Q8_0 ({@link ActivationQ8}), packed [m, k] in a reused buffer. */
    private MemorySegment roundedRows(Tensor x, int m, int k) {
        if (rounded.byteSize() < 4L * m * k) {
            roundedArena.close();
            roundedArena = Arena.ofShared();
            rounded = roundedArena.allocate(4L * m * k, 64);
        }
        runAndRelease(roundRows, roundRows.set(seg(x), x.byteOffset(), x.stride(0), m, k, rounded, threads));
        return rounded;
    }

    private MemorySegment scratch(long bytes) {
        if (scratch.byteSize() < bytes) {
            scratchArena.close();
            scratchArena = Arena.ofShared();
            scratch = scratchArena.allocate(bytes, 64);
        }
        return scratch;
    }

    @Override
    public synchronized void close() {
        pool.close();
        scratchArena.close();
        scratch = MemorySegment.NULL;
        roundedArena.close();
        rounded = MemorySegment.NULL;
        reference.close();
    }
}
