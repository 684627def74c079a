package mgm.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.OpChecks;
import mgm.runtime.Storage;
import mgm.runtime.Tensor;
import mgm.runtime.profile.DeviceTimer;

/**
 * The CUDA backend: every {@link Backend} op is a launch of a kernel from
 * {@code kernels/src/main/cuda} on the {@link Driver}'s stream (a GPU, or the emulator in tests).
 *
 * <p>Device tensors are {@link Storage}s on {@code Device.cuda(i)} whose segment carries the
 * device address and size only; {@link #toDevice} and {@link #toHost} copy. Memory comes from a
 * caching allocator. Inputs that a kernel cannot read in place (views without a unit-stride last
 * dim, or whose rows are not evenly spaced) are first copied to contiguous scratch memory, and
 * outputs likewise written through scratch; the common contiguous case uses none.
 *
 * <p>Work is asynchronous: errors of a kernel that ran on the device (e.g. an embedding id out of
 * range) surface at the next {@link #synchronize()} or {@link #toHost}. Not thread-safe: one
 * backend serves one thread at a time, like a stream.
 *
 * <p>Precision: every op computes in fp32 from the stored values, as the {@link Backend} contract
 * says. The tensor-core GEMM (prefill, M &gt; 8) and conv2d keep the products of fp32 arithmetic
 * by splitting activations exactly into three bfloat16 terms (see gemm.cu); {@link #EXACT_PROPERTY}
 * = false trades that for speed. cuBLAS (when present and chosen) runs F32 weights as SGEMM and
 * BF16 weights as three bfloat16 GEMMs over the split activations; F16 weights use the own kernel
 * unless exactness is off.
 */
public final class CudaBackend implements Backend, DeviceTimer.Source {
    /** System property choosing the dense GEMM: {@code auto} (cuBLAS when present), {@code own}, {@code cublas}. */
    public static final String GEMM_PROPERTY = "mgm.cuda.gemm";
    /**
     * System property {@code mgm.cuda.gemm.exact} (default true): tensor-core GEMMs keep the products
     * of fp32 arithmetic (activations split exactly into three bfloat16 terms); false rounds
     * activations to bfloat16, faster, as cuBLAS-based engines do, outside the consistency suite's
     * tolerances.
     */
    public static final String EXACT_PROPERTY = "mgm.cuda.gemm.exact";
    /**
     * System property {@code mgm.cuda.attention.exact} (default true): the tensor-core prefill
     * attention splits queries and probabilities so that products stay fp32-exact; false rounds
     * them to the KV cache's 16-bit type (the usual flash attention; faster).
     */
    public static final String ATTENTION_EXACT_PROPERTY = "mgm.cuda.attention.exact";


    private final Driver driver;
    private final Device device;
    private final DeviceAllocator allocator;
    final KernelArgs args = new KernelArgs();
    private final LinearOps linear = new LinearOps(this);
    private final RowOps rows = new RowOps(this);
    private final AttentionOps attention = new AttentionOps(this);
    private final PointwiseOps pointwise = new PointwiseOps(this);
    private final ImageOps image = new ImageOps(this);
    private final SelectOps select = new SelectOps(this);
    private final DeviceAllocator.Block status;
    private String gemmPolicy;
    private boolean exact;
    private boolean attentionExact;
    private final int sms;
    private Capture capture;
    private boolean closed;

    public CudaBackend(Driver driver) {
        this.driver = driver;
        this.device = Device.cuda(driver instanceof CudaDriver c ? c.ordinal() : 0);
        this.allocator = new DeviceAllocator(driver);
        reloadGemmSettings();
        this.sms = Math.max(1, driver.info().multiprocessors());
        this.status = allocator.allocate(4);
        driver.memset(status.address(), 0, 4);
    }

    /** Re-reads {@link #GEMM_PROPERTY} and {@link #EXACT_PROPERTY} (benchmarks switch between them). */
    public void reloadGemmSettings() {
        String policy = System.getProperty(GEMM_PROPERTY, "auto").toLowerCase(Locale.ROOT);
        if (!List.of("auto", "own", "cublas").contains(policy)) {
            throw new IllegalArgumentException("-D" + GEMM_PROPERTY + "=" + policy + ": expected auto, own or cublas");
        }
        gemmPolicy = policy;
        exact = !"false".equalsIgnoreCase(System.getProperty(EXACT_PROPERTY, "true"));
        attentionExact = !"false".equalsIgnoreCase(System.getProperty(ATTENTION_EXACT_PROPERTY, "true"));
    }

    /** The CUDA kernels on the host emulator (tests without a GPU). */
    public static CudaBackend emulated() {
        return new CudaBackend(EmulatedDriver.open());
    }

    @Override
    public String name() {
        return driver.kind().equals("cuda") ? "cuda" : "cuda-emulated";
    }

    @Override
    public Device device() {
        return device;
    }

    public Driver driver() {
        return driver;
    }

    /** Bytes held by live tensors / cached for reuse / at most held, and blocks taken from the driver. */
    public String memoryReport() {
        return "in use " + DeviceAllocator.human(allocator.inUseBytes()) + ", cached " + DeviceAllocator.human(allocator.cachedBytes())
                + ", peak " + DeviceAllocator.human(allocator.peakBytes()) + ", driver allocations " + allocator.driverAllocations();
    }

    long driverAllocations() {
        return allocator.driverAllocations();
    }

    // ================================================================== memory

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        Tensor t = deviceTensor(dtype, shape);
        if (t.byteSize() > 0) {
            driver.memset(address(t), 0, t.byteSize());
        }
        return t;
    }

    /** A device tensor with undefined contents, owned by the caller. */
    Tensor deviceTensor(DType dtype, long... shape) {
        checkOpen();
        long n = 1;
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("allocate: negative size in shape " + java.util.Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, s);
        }
        long bytes = dtype.byteSize(n);
        DeviceAllocator.Block b = allocator.allocate(bytes);
        Storage s = new Storage(MemorySegment.ofAddress(b.address()).reinterpret(bytes), device, () -> release(b));
        return Tensor.wrap(s, 0, dtype, true, shape);
    }

    private void release(DeviceAllocator.Block b) {
        if (closed) {
            return;  // the driver freed everything
        }
        if (capture != null) {
            capture.kept.add(b);  // a graph being recorded may use it: keep it until the graph is closed
        } else {
            allocator.release(b);
        }
    }

    /** The device address of t's first element. */
    static long address(Tensor t) {
        return t.storage().segment().address() + t.byteOffset();
    }

    @Override
    public Tensor toDevice(Tensor t) {
        OpChecks.notNull("toDevice", "t", t);
        t.checkAlive("toDevice");
        if (t.device().equals(device)) {
            return t;
        }
        if (!t.device().isHost()) {
            throw new IllegalArgumentException("toDevice: tensor " + t.describe() + " is on " + t.device() + ", not host memory");
        }
        noCapture("toDevice");
        Tensor out = deviceTensor(t.dtype(), t.shape());
        if (t.numel() == 0) {
            return out;
        }
        if (t.isContiguous()) {
            driver.copyToDevice(address(out), t.segment(), t.byteSize());
            return out;
        }
        // Upload the bytes the view spans, then gather them on the device with the view's strides.
        long first = t.byteOffset();
        long lastElement = t.offset();
        long[] shape = t.shape(), strides = t.strides();
        for (int d = 0; d < shape.length; d++) {
            lastElement += (shape[d] - 1) * strides[d];
        }
        long end = t.byteOffsetOf(lastElement) + t.dtype().blockBytes();
        try (Tensor span = deviceTensor(DType.U8, end - first)) {
            driver.copyToDevice(address(span), t.storage().segment().asSlice(first, end - first), end - first);
            copyKernel(address(span), t.dtype(), shape, strides, address(out), out.dtype(), out.strides());
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    @Override
    public Tensor toHost(Tensor t) {
        OpChecks.notNull("toHost", "t", t);
        t.checkAlive("toHost");
        if (t.device().isHost()) {
            return t;
        }
        OpChecks.onDevice("toHost", device, t);
        noCapture("toHost");
        Tensor host = Tensor.allocate(t.dtype(), t.shape());
        if (t.numel() == 0) {
            checkStatus();
            return host;
        }
        try {
            if (t.isContiguous()) {
                driver.copyToHost(host.segment(), address(t), t.byteSize());
            } else {
                try (Tensor dense = deviceTensor(t.dtype(), t.shape())) {
                    copy(t, dense);
                    driver.copyToHost(host.segment(), address(dense), dense.byteSize());
                }
            }
            checkStatus();
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
        return host;
    }

    @Override
    public void synchronize() {
        noCapture("synchronize");
        driver.synchronize();
        checkStatus();
    }

    /** Reports (once) an error a kernel flagged in the status word. */
    private void checkStatus() {
        MemorySegment word = java.lang.foreign.Arena.ofAuto().allocate(4, 4);
        driver.copyToHost(word, status.address(), 4);
        int s = word.get(ValueLayout.JAVA_INT, 0);
        if (s != 0) {
            driver.memset(status.address(), 0, 4);
            throw new IllegalArgumentException("embedding: a token id outside [0, vocabulary size) was looked up on " + device
                    + " (its output row was zeroed)");
        }
    }

    // ================================================================== kernels and scratch

    /** The (reused) argument list of the next launch, emptied. */
    KernelArgs args() {
        return args.reset();
    }

    /** Launches a kernel with the arguments collected in {@link #args()}; 1-D blocks. */
    void launch(String module, String kernel, int gx, int gy, int gz, int block, int shared) {
        driver.launch(driver.kernel(module, kernel), gx, gy, gz, block, 1, 1, shared, args);
    }

    /** Blocks for a grid-stride loop over n elements with 256 threads. */
    int gridFor(long n) {
        return (int) Math.max(1, Math.min((n + 255) / 256, (long) sms * 16));
    }

    /** Threads for a block working on d items: a multiple of 32, at most max. */
    static int threadsFor(long d, int max) {
        long t = Math.min(max, Math.max(32, (d + 31) / 32 * 32));
        return (int) t;
    }

    int sms() {
        return sms;
    }

    String gemmPolicy() {
        return gemmPolicy;
    }

    boolean gemmExact() {
        return exact;
    }

    boolean attentionExact() {
        return attentionExact;
    }


    // ================================================================== data movement

    /**
     * {@inheritDoc} One side may be a host tensor: an upload into (or a download from) an existing
     * device tensor, converting on the device.
     */
    @Override
    public void copy(Tensor src, Tensor dst) {
        String op = "copy";
        OpChecks.notNull(op, "src", src);
        OpChecks.notNull(op, "dst", dst);
        src.checkAlive(op);
        dst.checkAlive(op);
        OpChecks.sameShape(op, "src", src, "dst", dst);
        DType s = src.dtype(), d = dst.dtype();
        boolean ok = s == d || switch (d) {
            case F32, F16, BF16, F64, I32, I64, I8, Q8_0, Q4_0 -> true;
            default -> false;
        };
        OpChecks.require(ok, op, "cannot convert " + s + " to " + d
                + " (targets: F32, F16, BF16, F64, I32, I64, I8, Q8_0, Q4_0, or the source's own dtype)");
        boolean srcHost = src.device().isHost(), dstHost = dst.device().isHost();
        if (srcHost && dstHost) {
            throw new IllegalArgumentException(op + ": src " + src.describe() + " and dst " + dst.describe()
                    + " are both host tensors; one must be on " + device);
        }
        if (srcHost || dstHost) {
            OpChecks.onDevice(op, device, srcHost ? dst : src);
            copyAcrossHost(src, dst);
            return;
        }
        OpChecks.onDevice(op, device, src, dst);
        if (src.numel() == 0) {
            return;
        }
        if (s == d && src.isContiguous() && dst.isContiguous()) {
            driver.copyOnDevice(address(dst), address(src), src.byteSize());
            return;
        }
        copyKernel(address(src), s, src.shape(), src.strides(), address(dst), d, dst.strides());
    }

    /** Upload or download into an existing tensor, converting on the device. */
    private void copyAcrossHost(Tensor src, Tensor dst) {
        noCapture("copy between host and device");
        if (src.numel() == 0) {
            return;
        }
        if (src.device().isHost()) {
            if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
                driver.copyToDevice(address(dst), src.segment(), src.byteSize());
            } else {
                try (Tensor up = toDevice(src)) {
                    copy(up, dst);
                }
            }
            return;
        }
        if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
            driver.copyToHost(dst.segment(), address(src), src.byteSize());
            checkStatus();
            return;
        }
        try (Tensor converted = deviceTensor(dst.dtype(), dst.shape())) {
            copy(src, converted);
            try (Tensor host = toHost(converted)) {
                HostCopy.scatter(host, dst);
            }
        }
    }

    /** dst = src element-wise over raw views (addresses of the first elements, strides in elements). */
    private void copyKernel(long src, DType s, long[] shape, long[] srcStrides, long dst, DType d, long[] dstStrides) {
        long n = 1;
        for (long x : shape) {
            n *= x;
        }
        if (s == d) {
            long[] sh = shape.clone(), ss = srcStrides.clone(), ds = dstStrides.clone();
            if (s.isQuantized()) {  // whole blocks as elements
                int bs = s.blockSize();
                int last = sh.length - 1;
                sh[last] /= bs;
                for (int i = 0; i < last; i++) {
                    ss[i] /= bs;
                    ds[i] /= bs;
                }
                ss[last] = 1;
                ds[last] = 1;
            }
            Views.Collapsed c = Views.collapse(sh, ss, ds);
            long count = n / s.blockSize();
            args().ptr(src).view(c.shape(), c.strides()[0]).ptr(dst).view(c.shape(), c.strides()[1]).i64(count).i32(s.blockBytes());
            launch(Modules.CONVERT, "copy_bits_strided", gridFor(count), 1, 1, 256, 0);
            return;
        }
        Views.Collapsed c = Views.collapse(shape, srcStrides, dstStrides);
        if (d.isQuantized()) {
            long blocks = n / 32;
            args().ptr(src).i32(s.ordinal()).view(c.shape(), c.strides()[0]).ptr(dst).view(c.shape(), c.strides()[1]).i64(blocks);
            launch(Modules.CONVERT, d == DType.Q8_0 ? "quantize_q8_0" : "quantize_q4_0", gridFor(blocks), 1, 1, 256, 0);
            return;
        }
        args().ptr(src).i32(s.ordinal()).view(c.shape(), c.strides()[0]).ptr(dst).i32(d.ordinal()).view(c.shape(), c.strides()[1])
                .i64(n);
        launch(Modules.CONVERT, "convert_strided", gridFor(n), 1, 1, 256, 0);
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        String op = "embedding";
        OpChecks.notNull(op, "table", table);
        OpChecks.notNull(op, "ids", ids);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, table, ids, out);
        OpChecks.rank(op, "table", table, 2);
        OpChecks.require(table.dtype().isWeightType(), op, "table " + table.describe() + " must have a weight dtype");
        OpChecks.dtype(op, "ids", ids, DType.I32);
        OpChecks.rank(op, "ids", ids, 1);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.shape(op, "out", out, ids.dim(0), table.dim(1));
        long T = ids.dim(0), D = table.dim(1);
        if (T == 0 || D == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(this)) {
            Tensor tab = sc.rows(table);
            Tensor o = sc.target(out, false);
            args().ptr(address(tab)).i32(tab.dtype().ordinal()).i64(tab.dim(0)).i64(Views.rowStride(tab)).ptr(address(ids))
                    .i64(ids.stride(0)).ptr(address(o)).i64(Views.rowStride(o)).i32((int) D).ptr(status.address());
            launch(Modules.EMBEDDING, "embedding_rows", (int) T, 1, 1, threadsFor(D, 256), 0);
            sc.commit(o, out);
        }
        if (capture == null) {
            checkStatus();  // ids live on the device: a bad id is known only after the kernel ran
        }
    }

    // ================================================================== ops (one class per family)

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        linear.matmul(x, w, bias, out);
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        linear.conv2d(x, w, bias, stride, padding, out);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        rows.rmsNorm(x, weight, eps, weightOffset, out);
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        rows.layerNorm(x, weight, bias, eps, out);
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        rows.softmax(x, out);
    }

    @Override
    public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        attention.rope(x, startPos, invFreq, out);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        attention.attention(q, k, v, scale, causal, queryStart, out);
    }

    /** {@inheritDoc} One fused kernel: a block per token scores its window, softmaxes and sums. */
    @Override
    public void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        attention.windowAttention(q, map, window, scale, out);
    }

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        pointwise.activation(act, x, out);
    }

    @Override
    public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        pointwise.gatedActivation(act, gate, up, out);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        pointwise.binary("add", 0, a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        pointwise.binary("mul", 1, a, b, out);
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        pointwise.scale(x, s, out);
    }

    @Override
    public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        image.depthwiseConv2d(x, w, bias, padding, out);
    }

    @Override
    public void resizeBilinear(Tensor x, Tensor out) {
        image.resizeBilinear(x, out);
    }

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        select.topK(x, k, values, indices);
    }

    @Override
    public void argmax(Tensor x, Tensor out) {
        select.argmax(x, out);
    }

    /**
     * Top-p (nucleus) sampling on the device, one token per row of logits [M, N] F32: probabilities
     * p = softmax(logits / temperature); the nucleus is the set {i : p_i &gt;= tau} for the largest tau
     * whose nucleus mass reaches topP (the shortest prefix of the sorted distribution, ties at its
     * end included); the token is the first one, in index order over the nucleus, whose cumulative
     * probability exceeds {@code uniforms[row] * nucleus mass}. uniforms F32 [M] in [0, 1), out I32 [M].
     */
    public void sampleTopP(Tensor logits, float temperature, float topP, Tensor uniforms, Tensor out) {
        select.sampleTopP(logits, temperature, topP, uniforms, out);
    }

    // ================================================================== graphs

    /**
     * Records {@code work} (a sequence of ops on this backend, e.g. one decode step) into a CUDA
     * graph without running it. Memory released while recording stays reserved for the graph
     * until it is closed; tensors the work uses must outlive the graph. Host copies and
     * synchronisation are not allowed inside.
     */
    public DeviceGraph capture(Runnable work) {
        Recorded r = record(work);
        try {
            return new DeviceGraph(this, driver.instantiate(r.graph), r.kept);
        } finally {
            r.graph.close();
        }
    }

    record Recorded(Driver.Graph graph, List<DeviceAllocator.Block> kept) {}

    private long graphSteps;
    private long graphInstantiations;

    /** Repeated steps (decode steps) launched as graphs, and how many graph instantiations they needed. */
    public String graphReport() {
        return graphSteps + " steps as graphs, " + graphInstantiations + " instantiations";
    }

    public long graphSteps() {
        return graphSteps;
    }

    public long graphInstantiations() {
        return graphInstantiations;
    }

    /** CUDA events on this backend's stream, for the profiler (see {@link DeviceTimer}). */
    @Override
    public DeviceTimer openTimer() {
        return new CudaEventTimer(this);
    }

    /** Whether a graph is being recorded now (nothing may be recorded on the stream but ops). */
    boolean capturing() {
        return capture != null;
    }

    /** {@code -Dmgm.cuda.graphs=false} runs repeated steps (decode) kernel by kernel, for comparisons. */
    public static final String GRAPHS_PROPERTY = "mgm.cuda.graphs";

    /**
     * Decode steps as CUDA graphs: the first step is recorded and instantiated, later ones are
     * recorded again and the executable graph updated in place (only kernel parameters such as the
     * position change), then launched with one call.
     */
    @Override
    public RepeatedStep repeatedStep() {
        if (!Boolean.parseBoolean(System.getProperty(GRAPHS_PROPERTY, "true"))) {
            return RepeatedStep.DIRECT;
        }
        return new RepeatedStep() {
            private DeviceGraph graph;

            @Override
            public void run(Runnable ops) {
                if (graph == null) {
                    graph = capture(ops);
                    graphInstantiations++;
                } else if (!graph.update(ops)) {
                    graphInstantiations++;
                }
                graph.replay();
                graphSteps++;
            }

            @Override
            public void close() {
                if (graph != null) {
                    graph.close();
                    graph = null;
                }
            }
        };
    }


    Recorded record(Runnable work) {
        noCapture("capture");
        checkOpen();
        capture = new Capture();
        driver.beginCapture();
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            Capture c = capture;
            capture = null;
            try {
                driver.endCapture().close();
            } catch (RuntimeException ignored) {
                // the capture is abandoned; the original failure is what matters
            }
            releaseAll(c.kept);
            throw e;
        }
        Capture c = capture;
        capture = null;
        return new Recorded(driver.endCapture(), c.kept);
    }

    void releaseAll(List<DeviceAllocator.Block> blocks) {
        if (!closed) {
            for (DeviceAllocator.Block b : blocks) {
                allocator.release(b);
            }
        }
    }

    private static final class Capture {
        final List<DeviceAllocator.Block> kept = new ArrayList<>();
    }

    private void noCapture(String what) {
        if (capture != null) {
            throw new IllegalStateException(what + ": not allowed while a graph is being captured on " + device);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name() + " backend is closed");
        }
    }

    // ================================================================== lifetime

    /** Frees the device memory the allocator holds and closes the driver; live tensors become invalid. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            allocator.release(status);
            allocator.releaseCached();
        } finally {
            closed = true;
            driver.close();
        }
    }
}
