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
public final class CudaBackend implements Backend {
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

    private static final String CONVERT = "convert", ELEMENTWISE = "elementwise", NORM = "norm", ROPE = "rope",
            EMBEDDING = "embedding", GEMV = "gemv", GEMM = "gemm", ATTENTION = "attention", CONV = "conv",
            RESIZE = "resize", SELECT = "select";
    private static final int GEMV_MAX_ROWS = 8;
    /** Dynamic shared memory of the tensor-core GEMM / conv kernels (SMEM_BYTES in gemm.cu). */
    static final int GEMM_SHARED_BYTES = 52736;

    private final Driver driver;
    private final Device device;
    private final DeviceAllocator allocator;
    private final KernelArgs args = new KernelArgs();
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
    private Tensor deviceTensor(DType dtype, long... shape) {
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

    private KernelArgs args() {
        return args.reset();
    }

    private void launch(String module, String kernel, int gx, int gy, int gz, int block, int shared) {
        driver.launch(driver.kernel(module, kernel), gx, gy, gz, block, 1, 1, shared, args);
    }

    /** Blocks for a grid-stride loop over n elements with 256 threads. */
    private int gridFor(long n) {
        return (int) Math.max(1, Math.min((n + 255) / 256, (long) sms * 16));
    }

    private static int threadsFor(long d, int max) {
        long t = Math.min(max, Math.max(32, (d + 31) / 32 * 32));
        return (int) t;
    }

    /** Temporaries of one op, released when it ends. */
    private final class Scratch implements AutoCloseable {
        private final List<Tensor> owned = new ArrayList<>();

        Tensor tensor(DType dtype, long... shape) {
            Tensor t = deviceTensor(dtype, shape);
            owned.add(t);
            return t;
        }

        /** t itself when its rows are evenly spaced with a unit last stride, else a contiguous copy. */
        Tensor rows(Tensor t) {
            if (Views.rowStride(t) >= 0) {
                return t;
            }
            Tensor c = tensor(t.dtype(), t.shape());
            copy(t, c);
            return c;
        }

        /** t itself when contiguous, else a contiguous copy. */
        Tensor dense(Tensor t) {
            if (t == null || t.isContiguous()) {
                return t;
            }
            Tensor c = tensor(t.dtype(), t.shape());
            copy(t, c);
            return c;
        }

        /** Where to write `out`: itself when the kernel can, else scratch copied back by {@link #commit}. */
        Tensor target(Tensor out, boolean needDense) {
            boolean ok = needDense ? out.isContiguous() : Views.rowStride(out) >= 0;
            return ok ? out : tensor(out.dtype(), out.shape());
        }

        void commit(Tensor written, Tensor out) {
            if (written != out) {
                copy(written, out);
            }
        }

        @Override
        public void close() {
            for (Tensor t : owned) {
                t.close();
            }
        }
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
            launch(CONVERT, "copy_bits_strided", gridFor(count), 1, 1, 256, 0);
            return;
        }
        Views.Collapsed c = Views.collapse(shape, srcStrides, dstStrides);
        if (d.isQuantized()) {
            long blocks = n / 32;
            args().ptr(src).i32(s.ordinal()).view(c.shape(), c.strides()[0]).ptr(dst).view(c.shape(), c.strides()[1]).i64(blocks);
            launch(CONVERT, d == DType.Q8_0 ? "quantize_q8_0" : "quantize_q4_0", gridFor(blocks), 1, 1, 256, 0);
            return;
        }
        args().ptr(src).i32(s.ordinal()).view(c.shape(), c.strides()[0]).ptr(dst).i32(d.ordinal()).view(c.shape(), c.strides()[1])
                .i64(n);
        launch(CONVERT, "convert_strided", gridFor(n), 1, 1, 256, 0);
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
        try (Scratch sc = new Scratch()) {
            Tensor tab = sc.rows(table);
            Tensor o = sc.target(out, false);
            args().ptr(address(tab)).i32(tab.dtype().ordinal()).i64(tab.dim(0)).i64(Views.rowStride(tab)).ptr(address(ids))
                    .i64(ids.stride(0)).ptr(address(o)).i64(Views.rowStride(o)).i32((int) D).ptr(status.address());
            launch(EMBEDDING, "embedding_rows", (int) T, 1, 1, threadsFor(D, 256), 0);
            sc.commit(o, out);
        }
        if (capture == null) {
            checkStatus();  // ids live on the device: a bad id is known only after the kernel ran
        }
    }

    // ================================================================== linear algebra

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        String op = "matmul";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        OpChecks.rank(op, "w", w, 2);
        OpChecks.require(w.dtype().isWeightType(), op, "w " + w.describe() + " must have a weight dtype (F32, F16, BF16, Q8_0, Q4_0)");
        OpChecks.contiguous(op, "w", w);
        long M = x.dim(0), K = x.dim(1), N = w.dim(0);
        OpChecks.shape(op, "w", w, N, K);
        if (bias != null) {
            OpChecks.dtype(op, "bias", bias, DType.F32);
            OpChecks.shape(op, "bias", bias, N);
        }
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.shape(op, "out", out, M, N);
        OpChecks.require(M <= Integer.MAX_VALUE && N <= Integer.MAX_VALUE && K <= Integer.MAX_VALUE, op, "dims above 2^31");
        if (M == 0 || N == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            if (K == 0) {
                zeroThenBias(out, bias, sc);
                return;
            }
            Tensor xs = sc.rows(x);
            Tensor b = sc.dense(bias);
            Tensor o = sc.target(out, false);
            long xStride = Views.rowStride(xs), oStride = Views.rowStride(o);
            DType wt = w.dtype();
            if (M <= GEMV_MAX_ROWS) {
                for (long m0 = 0; m0 < M; m0 += GEMV_MAX_ROWS) {
                    int rows = (int) Math.min(GEMV_MAX_ROWS, M - m0);
                    args().ptr(address(xs) + m0 * xStride * 4).i64(xStride).ptr(address(w)).ptr(b == null ? 0 : address(b))
                            .ptr(address(o) + m0 * oStride * 4).i64(oStride).i32(rows).i32((int) N).i32((int) K);
                    launch(GEMV, "gemv_" + wt.name().toLowerCase(Locale.ROOT), (int) ((N + 3) / 4), 1, 1, 128, 0);
                }
            } else if (useCublas(wt)) {
                cublasGemm(xs, xStride, w, b, o, oStride, (int) M, (int) N, (int) K, sc);
            } else {
                String kernel = switch (wt) {
                    case F32 -> "gemm_f32";
                    case F16 -> "gemm_wmma_f16";
                    case BF16 -> "gemm_wmma_bf16";
                    case Q8_0 -> "gemm_wmma_q8_0";
                    case Q4_0 -> "gemm_wmma_q4_0";
                    default -> throw new AssertionError(wt);
                };
                long gy = (M + 63) / 64;
                OpChecks.require(gy <= 65535, op, "M = " + M + " is too large for one launch");
                args().ptr(address(xs)).i64(xStride).ptr(address(w)).ptr(b == null ? 0 : address(b)).ptr(address(o)).i64(oStride)
                        .i32((int) M).i32((int) N).i32((int) K);
                if (wt != DType.F32) {
                    args.i32(exact ? 1 : 0);
                }
                launch(GEMM, kernel, (int) ((N + 63) / 64), (int) gy, 1, wt == DType.F32 ? 256 : 128,
                        wt == DType.F32 ? 0 : GEMM_SHARED_BYTES);
            }
            sc.commit(o, out);
        }
    }

    /** cuBLAS runs F32 and BF16 weights with the same precision as the own kernels, F16 only when exactness is off. */
    private boolean useCublas(DType wt) {
        if (gemmPolicy.equals("own") || wt.isQuantized() || (wt == DType.F16 && exact)) {
            return false;
        }
        boolean present = driver.blas().isPresent();
        if (gemmPolicy.equals("cublas") && !present) {
            throw new IllegalStateException("-D" + GEMM_PROPERTY + "=cublas but cuBLAS is not available on " + driver.info().name());
        }
        return present;
    }

    private void cublasGemm(Tensor x, long xStride, Tensor w, Tensor bias, Tensor out, long oStride, int M, int N, int K, Scratch sc) {
        Blas blas = driver.blas().orElseThrow();
        DType wt = w.dtype();
        int ldo = (int) oStride;
        if (wt == DType.F32) {
            blas.gemm(Blas.R_32F, address(x), (int) xStride, address(w), K, address(out), ldo, M, N, K, 0f);
        } else if (wt == DType.BF16) {  // out = x1 . w + x2 . w + x3 . w (x split exactly), or x1 . w
            Tensor parts = sc.tensor(DType.BF16, 3, M, K);
            long step = (long) M * K * 2;
            args().ptr(address(x)).i64(xStride).ptr(address(parts)).ptr(address(parts) + step).ptr(address(parts) + 2 * step).i32(M)
                    .i32(K);
            launch(CONVERT, "split_bf16_rows", gridFor((long) M * K), 1, 1, 256, 0);
            for (int t = 0; t < (exact ? 3 : 1); t++) {
                blas.gemm(Blas.R_16BF, address(parts) + t * step, K, address(w), K, address(out), ldo, M, N, K, t == 0 ? 0f : 1f);
            }
        } else {  // F16 with exactness off: activations rounded to fp16
            Tensor xh = sc.tensor(DType.F16, M, K);
            copy(x, xh);
            blas.gemm(Blas.R_16F, address(xh), K, address(w), K, address(out), ldo, M, N, K, 0f);
        }
        if (bias != null) {
            add(out, bias, out);
        }
    }

    private void zeroThenBias(Tensor out, Tensor bias, Scratch sc) {
        Tensor o = sc.target(out, true);
        driver.memset(address(o), 0, o.byteSize());
        if (bias != null) {
            add(o, bias, o);
        }
        sc.commit(o, out);
    }

    // ================================================================== normalisation

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        String op = "rmsNorm";
        checkRowOp(op, x, out);
        long D = x.dim(-1);
        checkVector(op, "weight", weight, D);
        rowKernel(NORM, "rms_norm", x, out, (xs, xStride, o, oStride, sc) -> {
            Tensor wd = sc.dense(weight);
            args().ptr(address(xs)).i64(xStride).ptr(address(wd)).i32(wd.dtype().ordinal()).f32(eps).f32(weightOffset)
                    .ptr(address(o)).i64(oStride).i32((int) D);
        });
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        String op = "layerNorm";
        checkRowOp(op, x, out);
        long D = x.dim(-1);
        checkVector(op, "weight", weight, D);
        if (bias != null) {
            checkVector(op, "bias", bias, D);
        }
        rowKernel(NORM, "layer_norm", x, out, (xs, xStride, o, oStride, sc) -> {
            Tensor wd = sc.dense(weight);
            Tensor bd = sc.dense(bias);
            args().ptr(address(xs)).i64(xStride).ptr(address(wd)).i32(wd.dtype().ordinal()).ptr(bd == null ? 0 : address(bd))
                    .i32(bd == null ? 0 : bd.dtype().ordinal()).f32(eps).ptr(address(o)).i64(oStride).i32((int) D);
        });
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        String op = "softmax";
        checkRowOp(op, x, out);
        long D = x.dim(-1);
        rowKernel(NORM, "softmax_rows", x, out, (xs, xStride, o, oStride, sc) ->
                args().ptr(address(xs)).i64(xStride).ptr(address(o)).i64(oStride).i32((int) D));
    }

    private void checkRowOp(String op, Tensor x, Tensor out) {
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        OpChecks.require(x.rank() >= 1, op, "x " + x.describe() + " needs at least one dim");
        OpChecks.require(x.dim(-1) <= Integer.MAX_VALUE, op, "rows longer than 2^31");
    }

    private void checkVector(String op, String name, Tensor v, long d) {
        OpChecks.notNull(op, name, v);
        OpChecks.onDevice(op, device, v);
        OpChecks.dtype(op, name, v, DType.F32, DType.F16, DType.BF16);
        OpChecks.shape(op, name, v, d);
    }

    private interface RowArgs {
        void pack(Tensor x, long xStride, Tensor out, long outStride, Scratch sc);
    }

    /** One block per row of x seen as [rows, D]. */
    private void rowKernel(String module, String kernel, Tensor x, Tensor out, RowArgs pack) {
        long rows = Views.rows(x), D = x.dim(-1);
        if (rows == 0 || D == 0) {
            return;
        }
        OpChecks.require(rows <= Integer.MAX_VALUE, kernel, "more than 2^31 rows");
        try (Scratch sc = new Scratch()) {
            Tensor xs = sc.rows(x);
            Tensor o = out == x && xs == x ? x : sc.target(out, false);
            pack.pack(xs, Views.rowStride(xs), o, Views.rowStride(o), sc);
            launch(module, kernel, (int) rows, 1, 1, threadsFor(D / 4, 1024), 0);
            sc.commit(o, out);
        }
    }

    // ================================================================== attention

    @Override
    public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        String op = "rope";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "invFreq", invFreq);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, invFreq, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "x", x, 3);
        OpChecks.sameShape(op, "x", x, "out", out);
        long T = x.dim(0), H = x.dim(1), Dh = x.dim(2);
        OpChecks.require(Dh % 2 == 0, op, "head dim " + Dh + " must be even");
        OpChecks.dtype(op, "invFreq", invFreq, DType.F32);
        OpChecks.shape(op, "invFreq", invFreq, Dh / 2);
        OpChecks.require(startPos >= 0, op, "startPos " + startPos + " is negative");
        long n = T * H * (Dh / 2);
        if (n == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            Tensor xs = unitLast(x, sc);
            Tensor o = out == x && xs == x ? x : (out.stride(2) == 1 ? out : sc.tensor(DType.F32, out.shape()));
            Tensor f = sc.dense(invFreq);
            args().ptr(address(xs)).i64(xs.stride(0)).i64(xs.stride(1)).ptr(address(o)).i64(o.stride(0)).i64(o.stride(1))
                    .ptr(address(f)).i32((int) T).i32((int) H).i32((int) Dh).i32(startPos);
            launch(ROPE, "rope_half", gridFor(n), 1, 1, 256, 0);
            sc.commit(o, out);
        }
    }

    /** t when its last dim has unit stride (or size 1), else a contiguous copy. */
    private Tensor unitLast(Tensor t, Scratch sc) {
        if (t.stride(-1) == 1 || t.dim(-1) == 1) {
            return t;
        }
        Tensor c = sc.tensor(t.dtype(), t.shape());
        copy(t, c);
        return c;
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        String op = "attention";
        OpChecks.notNull(op, "q", q);
        OpChecks.notNull(op, "k", k);
        OpChecks.notNull(op, "v", v);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, q, k, v, out);
        OpChecks.dtype(op, "q", q, DType.F32);
        OpChecks.dtype(op, "k", k, DType.F32, DType.F16, DType.BF16);
        OpChecks.dtype(op, "v", v, DType.F32, DType.F16, DType.BF16);
        OpChecks.require(k.dtype() == v.dtype(), op, "k " + k.describe() + " and v " + v.describe() + " must have one dtype");
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "q", q, 3);
        OpChecks.rank(op, "k", k, 3);
        long T = q.dim(0), Hq = q.dim(1), Dh = q.dim(2), S = k.dim(0), Hkv = k.dim(1);
        OpChecks.shape(op, "k", k, S, Hkv, Dh);
        OpChecks.shape(op, "v", v, S, Hkv, Dh);
        OpChecks.sameShape(op, "q", q, "out", out);
        OpChecks.require(Hkv > 0 && Hq % Hkv == 0, op, "query heads " + Hq + " must be a multiple of kv heads " + Hkv);
        OpChecks.require(Dh <= 1024, op, "head dim " + Dh + " above 1024 is not supported on CUDA");
        OpChecks.require(!causal || queryStart >= 0, op, "queryStart " + queryStart + " is negative");
        OpChecks.require(!causal || queryStart + T <= S, op, "causal queries at positions " + queryStart + ".."
                + (queryStart + T - 1) + " need " + (queryStart + T) + " keys, got " + S);
        if (T == 0 || Hq == 0 || Dh == 0) {
            return;
        }
        long visible = causal ? Math.min(S, (long) queryStart + T) : S;
        OpChecks.require(visible > 0, op, "no key is visible (S = " + S + ", queryStart = " + queryStart + ")");
        try (Scratch sc = new Scratch()) {
            Tensor qs = unitLast(q, sc), ks = unitLast(k, sc), vs = unitLast(v, sc);
            Tensor o = out.stride(-1) == 1 ? out : sc.tensor(DType.F32, out.shape());
            int dt = ks.dtype().ordinal();
            if (T == 1 && Dh <= 256) {
                decodeAttention(qs, ks, vs, dt, scale, (int) visible, (int) Hq, (int) Hkv, (int) Dh, o, sc);
            } else {
                args().ptr(address(qs)).i64(qs.stride(0)).i64(qs.stride(1)).ptr(address(ks)).ptr(address(vs)).i32(dt)
                        .i64(ks.stride(0)).i64(ks.stride(1)).i64(vs.stride(0)).i64(vs.stride(1)).ptr(address(o)).i64(o.stride(0))
                        .i64(o.stride(1)).f32(scale).i32(causal ? 1 : 0).i32(queryStart).i32((int) T).i32((int) S).i32((int) Hq)
                        .i32((int) Hkv).i32((int) Dh);
                int tcShared = tensorCoreAttentionBytes((int) Dh);
                if (ks.dtype() != DType.F32 && (Dh == 64 || Dh == 80 || Dh == 96 || Dh == 128)
                        && tcShared <= driver.info().maxSharedPerBlock()) {
                    args.i32(attentionExact ? 1 : 0);
                    launch(ATTENTION, "attn_prefill_tc", (int) ((T + 63) / 64), (int) Hq, 1, 128, tcShared);
                } else if (Dh <= 256) {
                    int shared = 4 * (int) (32 * Dh + 32 * (Dh + 1) + 32 * 33);
                    launch(ATTENTION, "attn_prefill", (int) ((T + 31) / 32), (int) Hq, 1, 128, shared);
                } else {
                    launch(ATTENTION, "attn_rowwise", (int) T, (int) Hq, 1, 256, 4 * (int) (8 * Dh + 16));
                }
            }
            sc.commit(o, out);
        }
    }

    /** {@inheritDoc} One fused kernel: a block per token scores its window, softmaxes and sums. */
    @Override
    public void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        String op = "windowAttention";
        OpChecks.notNull(op, "q", q);
        OpChecks.notNull(op, "map", map);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, q, map, out);
        OpChecks.dtype(op, "q", q, DType.F32);
        OpChecks.dtype(op, "map", map, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "map", map, 3);
        long d = map.dim(2);
        OpChecks.require(window >= 1 && map.dim(0) % window == 0 && map.dim(1) % window == 0, op,
                "map " + map.describe() + " is not divisible into " + window + "x" + window + " windows");
        long rows = map.dim(0) / window, cols = map.dim(1) / window;
        OpChecks.shape(op, "q", q, rows * cols, d);
        OpChecks.sameShape(op, "q", q, "out", out);
        OpChecks.contiguous(op, "q", q);
        OpChecks.contiguous(op, "out", out);
        long T = rows * cols;
        OpChecks.require(d <= Integer.MAX_VALUE && T <= Integer.MAX_VALUE && (long) window * window <= 8192, op, "too large");
        if (T == 0 || d == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            Tensor m = unitLast(map, sc);
            args().ptr(address(q)).ptr(address(m)).i64(m.stride(0)).i64(m.stride(1)).i32((int) cols).i32(window).i32((int) d)
                    .f32(scale).ptr(address(out));
            launch(ATTENTION, "window_attention", (int) T, 1, 1, 256, 4 * window * window);
        }
    }

    /** Dynamic shared memory of attn_prefill_tc (layout in attention.cu). */
    static int tensorCoreAttentionBytes(int dh) {
        int ldq = dh + 8, ldp = 32 + 8, lds = 32 + 4;
        return 2 * (3 * 64 * ldq + 32 * ldq + 3 * 64 * ldp) + 4 * (64 * lds + 3 * 64 + 256);
    }

    /** Split-K decode: chunks of keys in parallel, then a merge. S here is the visible key count. */
    private void decodeAttention(Tensor q, Tensor k, Tensor v, int dt, float scale, int S, int Hq, int Hkv, int Dh, Tensor out,
                                 Scratch sc) {
        int group = Hq / Hkv;
        int gb = 1;  // query heads per block: the largest divisor of the group within the kernel's limits
        for (int g = 1; g <= Math.min(group, 8); g++) {
            if (group % g == 0 && g * Dh <= 2048) {
                gb = g;
            }
        }
        int blocksPerSplit = Hq / gb;
        int wantSplits = Math.max(1, (2 * sms + blocksPerSplit - 1) / blocksPerSplit);
        int chunk = Math.max(32, (S + wantSplits - 1) / wantSplits);
        chunk = (chunk + 31) / 32 * 32;
        int splits = (S + chunk - 1) / chunk;
        Tensor partO = sc.tensor(DType.F32, (long) Hq * splits * Dh);
        Tensor partMl = sc.tensor(DType.F32, (long) Hq * splits * 2);
        int shared = 4 * (gb * Dh + 32 * (Dh + 1) + gb * 32 + 3 * gb);
        args().ptr(address(q)).i64(q.stride(1)).ptr(address(k)).ptr(address(v)).i32(dt).i64(k.stride(0)).i64(k.stride(1))
                .i64(v.stride(0)).i64(v.stride(1)).f32(scale).i32(S).i32(Hq).i32(Hkv).i32(Dh).i32(gb).i32(chunk)
                .ptr(address(partO)).ptr(address(partMl));
        launch(ATTENTION, "attn_decode_split", blocksPerSplit, splits, 1, 128, shared);
        args().ptr(address(partO)).ptr(address(partMl)).i32(splits).i32(Dh).ptr(address(out)).i64(out.stride(1));
        launch(ATTENTION, "attn_decode_merge", Hq, 1, 1, 128, 0);
    }

    // ================================================================== pointwise

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        String op = "activation";
        OpChecks.require(act != null, op, "activation is null");
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        long n = x.numel();
        if (n == 0) {
            return;
        }
        Views.Collapsed c = Views.collapse(x.shape(), out.strides(), x.strides());
        if (c.dense(0) && c.dense(1)) {
            args().i32(act.ordinal()).ptr(address(x)).ptr(address(out)).i64(n);
            launch(ELEMENTWISE, "activation_contig", gridFor(n), 1, 1, 256, 0);
        } else {
            args().i32(act.ordinal()).ptr(address(x)).view(c.shape(), c.strides()[1]).ptr(address(out))
                    .view(c.shape(), c.strides()[0]).i64(n);
            launch(ELEMENTWISE, "activation_strided", gridFor(n), 1, 1, 256, 0);
        }
    }

    @Override
    public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        String op = "gatedActivation";
        OpChecks.require(act != null, op, "activation is null");
        OpChecks.notNull(op, "gate", gate);
        OpChecks.notNull(op, "up", up);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, gate, up, out);
        OpChecks.dtype(op, "gate", gate, DType.F32);
        OpChecks.dtype(op, "up", up, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "gate", gate, "up", up);
        OpChecks.sameShape(op, "gate", gate, "out", out);
        long n = gate.numel();
        if (n == 0) {
            return;
        }
        Views.Collapsed c = Views.collapse(gate.shape(), out.strides(), gate.strides(), up.strides());
        if (c.dense(0) && c.dense(1) && c.dense(2)) {
            args().i32(act.ordinal()).ptr(address(gate)).ptr(address(up)).ptr(address(out)).i64(n);
            launch(ELEMENTWISE, "gated_contig", gridFor(n), 1, 1, 256, 0);
        } else {
            args().i32(act.ordinal()).ptr(address(gate)).view(c.shape(), c.strides()[1]).ptr(address(up))
                    .view(c.shape(), c.strides()[2]).ptr(address(out)).view(c.shape(), c.strides()[0]).i64(n);
            launch(ELEMENTWISE, "gated_strided", gridFor(n), 1, 1, 256, 0);
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        binary("add", 0, a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        binary("mul", 1, a, b, out);
    }

    private void binary(String op, int code, Tensor a, Tensor b, Tensor out) {
        OpChecks.notNull(op, "a", a);
        OpChecks.notNull(op, "b", b);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, a, b, out);
        OpChecks.dtype(op, "a", a, DType.F32);
        OpChecks.dtype(op, "b", b, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.broadcastable(op, a, b);
        OpChecks.sameShape(op, "a", a, "out", out);
        long n = a.numel();
        if (n == 0) {
            return;
        }
        Tensor bb = b.broadcastTo(a.shape());
        Views.Collapsed c = Views.collapse(a.shape(), out.strides(), a.strides(), bb.strides());
        long period = -1;
        if (c.dense(0) && c.dense(1) && c.dense(2)) {
            period = n;
        } else if (c.rank() == 2 && c.strides()[0][0] == c.shape()[1] && c.strides()[0][1] == 1 && c.strides()[1][0] == c.shape()[1]
                && c.strides()[1][1] == 1 && c.strides()[2][0] == 0 && c.strides()[2][1] == 1) {
            period = c.shape()[1];  // a row vector (a bias) repeated over dense rows
        }
        if (period > 0) {
            args().i32(code).ptr(address(a)).ptr(address(b)).i64(period).ptr(address(out)).i64(n);
            launch(ELEMENTWISE, "binary_contig", gridFor(n / 4 + 1), 1, 1, 256, 0);
        } else {
            args().i32(code).ptr(address(a)).view(c.shape(), c.strides()[1]).ptr(address(b)).view(c.shape(), c.strides()[2])
                    .ptr(address(out)).view(c.shape(), c.strides()[0]).i64(n);
            launch(ELEMENTWISE, "binary_strided", gridFor(n), 1, 1, 256, 0);
        }
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        String op = "scale";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        long n = x.numel();
        if (n == 0) {
            return;
        }
        Views.Collapsed c = Views.collapse(x.shape(), out.strides(), x.strides());
        if (c.dense(0) && c.dense(1)) {
            args().ptr(address(x)).f32(s).ptr(address(out)).i64(n);
            launch(ELEMENTWISE, "scale_contig", gridFor(n), 1, 1, 256, 0);
        } else {
            args().ptr(address(x)).view(c.shape(), c.strides()[1]).f32(s).ptr(address(out)).view(c.shape(), c.strides()[0]).i64(n);
            launch(ELEMENTWISE, "scale_strided", gridFor(n), 1, 1, 256, 0);
        }
    }

    // ================================================================== convolution and resampling

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        String op = "conv2d";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "w", w, 4);
        OpChecks.require(w.dtype().isWeightType(), op, "w " + w.describe() + " must have a weight dtype");
        OpChecks.require(stride >= 1, op, "stride " + stride + " must be positive");
        OpChecks.require(padding >= 0, op, "padding " + padding + " is negative");
        long N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), O = w.dim(0), kh = w.dim(2), kw = w.dim(3);
        OpChecks.shape(op, "w", w, O, C, kh, kw);
        long Ho = (H + 2L * padding - kh) / stride + 1, Wo = (W + 2L * padding - kw) / stride + 1;
        OpChecks.require(H + 2L * padding >= kh && W + 2L * padding >= kw, op, "kernel " + kh + "x" + kw
                + " larger than the padded input " + (H + 2L * padding) + "x" + (W + 2L * padding));
        if (bias != null) {
            OpChecks.dtype(op, "bias", bias, DType.F32);
            OpChecks.shape(op, "bias", bias, O);
        }
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.shape(op, "out", out, N, Ho, Wo, O);
        long M = N * Ho * Wo, K = C * kh * kw;
        OpChecks.require(M <= Integer.MAX_VALUE && K <= Integer.MAX_VALUE && x.numel() <= Integer.MAX_VALUE, op, "too large");
        if (M == 0 || O == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            Tensor xs = sc.dense(x);
            Tensor ws = sc.dense(w);
            if (ws.dtype().isQuantized()) {  // rare (kw a multiple of 32): run the fp32 path on a dequantised copy
                Tensor f = sc.tensor(DType.F32, ws.shape());
                copy(ws, f);
                ws = f;
            }
            Tensor b = sc.dense(bias);
            Tensor o = sc.target(out, true);
            String kernel = switch (ws.dtype()) {
                case F32 -> "conv2d_f32";
                case F16 -> "conv2d_wmma_f16";
                case BF16 -> "conv2d_wmma_bf16";
                default -> throw new AssertionError(ws.dtype());
            };
            long gy = (M + 63) / 64;
            OpChecks.require(gy <= 65535, op, "output too large for one launch");
            args().ptr(address(xs)).ints((int) N, (int) H, (int) W, (int) C, (int) kh, (int) kw, stride, padding, (int) Ho, (int) Wo)
                    .ptr(address(ws)).ptr(b == null ? 0 : address(b)).ptr(address(o)).i32((int) O);
            if (ws.dtype() != DType.F32) {
                args.i32(exact ? 1 : 0);
            }
            launch(GEMM, kernel, (int) ((O + 63) / 64), (int) gy, 1, ws.dtype() == DType.F32 ? 256 : 128,
                    ws.dtype() == DType.F32 ? 0 : GEMM_SHARED_BYTES);
            sc.commit(o, out);
        }
    }

    @Override
    public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        String op = "depthwiseConv2d";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "w", w, 4);
        OpChecks.dtype(op, "w", w, DType.F32, DType.F16, DType.BF16);
        OpChecks.require(padding >= 0, op, "padding " + padding + " is negative");
        long N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), k = w.dim(2);
        OpChecks.shape(op, "w", w, C, 1, k, k);
        long Ho = H + 2L * padding - k + 1, Wo = W + 2L * padding - k + 1;
        OpChecks.require(Ho >= 0 && Wo >= 0, op, "kernel " + k + " larger than the padded input");
        if (bias != null) {
            OpChecks.dtype(op, "bias", bias, DType.F32);
            OpChecks.shape(op, "bias", bias, C);
        }
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.shape(op, "out", out, N, Ho, Wo, C);
        long n = out.numel();
        if (n == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            Tensor xs = sc.dense(x), ws = sc.dense(w), b = sc.dense(bias), o = sc.target(out, true);
            args().ptr(address(xs)).ptr(address(ws)).i32(ws.dtype().ordinal()).ptr(b == null ? 0 : address(b)).ptr(address(o))
                    .i32((int) N).i32((int) H).i32((int) W).i32((int) C).i32((int) k).i32(padding).i32((int) Ho).i32((int) Wo);
            launch(CONV, "depthwise_conv2d", gridFor(n), 1, 1, 256, 0);
            sc.commit(o, out);
        }
    }

    @Override
    public void resizeBilinear(Tensor x, Tensor out) {
        String op = "resizeBilinear";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "out", out, 4);
        long N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), Ho = out.dim(1), Wo = out.dim(2);
        OpChecks.shape(op, "out", out, N, -1, -1, C);
        long n = out.numel();
        if (n == 0) {
            return;
        }
        OpChecks.require(H > 0 && W > 0, op, "empty input " + x.describe());
        try (Scratch sc = new Scratch()) {
            Tensor xs = sc.dense(x), o = sc.target(out, true);
            args().ptr(address(xs)).ptr(address(o)).i32((int) N).i32((int) H).i32((int) W).i32((int) C).i32((int) Ho).i32((int) Wo)
                    .f32((float) H / (float) Ho).f32((float) W / (float) Wo);
            launch(RESIZE, "resize_bilinear", gridFor(n), 1, 1, 256, 0);
            sc.commit(o, out);
        }
    }

    // ================================================================== selection

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        String op = "topK";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "values", values);
        OpChecks.notNull(op, "indices", indices);
        OpChecks.onDevice(op, device, x, values, indices);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        long M = x.dim(0), N = x.dim(1);
        OpChecks.require(k >= 1 && k <= N, op, "k = " + k + " outside [1, " + N + "]");
        OpChecks.dtype(op, "values", values, DType.F32);
        OpChecks.shape(op, "values", values, M, k);
        OpChecks.dtype(op, "indices", indices, DType.I32);
        OpChecks.shape(op, "indices", indices, M, k);
        if (M == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            Tensor xs = sc.rows(x), v = sc.target(values, false), i = sc.target(indices, false);
            args().ptr(address(xs)).i64(Views.rowStride(xs)).i32((int) N).i32(k).ptr(address(v)).i64(Views.rowStride(v))
                    .ptr(address(i)).i64(Views.rowStride(i));
            launch(SELECT, "topk_rows", (int) M, 1, 1, threadsFor(N, 256), 0);
            sc.commit(v, values);
            sc.commit(i, indices);
        }
    }

    @Override
    public void argmax(Tensor x, Tensor out) {
        String op = "argmax";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        OpChecks.dtype(op, "out", out, DType.I32);
        OpChecks.shape(op, "out", out, x.dim(0));
        long M = x.dim(0), N = x.dim(1);
        OpChecks.require(N > 0 || M == 0, op, "rows of x " + x.describe() + " are empty");
        if (M == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            Tensor xs = sc.rows(x);
            args().ptr(address(xs)).i64(Views.rowStride(xs)).i32((int) N).ptr(address(out)).i64(out.stride(0));
            launch(SELECT, "argmax_rows", (int) M, 1, 1, threadsFor(N, 1024), 0);
        }
    }

    /**
     * Top-p (nucleus) sampling on the device, one token per row of logits [M, N] F32: probabilities
     * p = softmax(logits / temperature); the nucleus is the set {i : p_i &gt;= tau} for the largest tau
     * whose nucleus mass reaches topP (the shortest prefix of the sorted distribution, ties at its
     * end included); the token is the first one, in index order over the nucleus, whose cumulative
     * probability exceeds {@code uniforms[row] * nucleus mass}. uniforms F32 [M] in [0, 1), out I32 [M].
     */
    public void sampleTopP(Tensor logits, float temperature, float topP, Tensor uniforms, Tensor out) {
        String op = "sampleTopP";
        OpChecks.notNull(op, "logits", logits);
        OpChecks.notNull(op, "uniforms", uniforms);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, device, logits, uniforms, out);
        OpChecks.dtype(op, "logits", logits, DType.F32);
        OpChecks.rank(op, "logits", logits, 2);
        long M = logits.dim(0), N = logits.dim(1);
        OpChecks.require(N > 0, op, "empty rows");
        OpChecks.require(temperature > 0 && Float.isFinite(temperature), op, "temperature " + temperature + " must be > 0");
        OpChecks.require(topP > 0 && topP <= 1, op, "topP " + topP + " outside (0, 1]");
        OpChecks.dtype(op, "uniforms", uniforms, DType.F32);
        OpChecks.shape(op, "uniforms", uniforms, M);
        OpChecks.dtype(op, "out", out, DType.I32);
        OpChecks.shape(op, "out", out, M);
        if (M == 0) {
            return;
        }
        try (Scratch sc = new Scratch()) {
            Tensor xs = sc.rows(logits), u = sc.dense(uniforms), o = sc.target(out, true);
            args().ptr(address(xs)).i64(Views.rowStride(xs)).i32((int) N).f32(temperature).f32(topP).ptr(address(u)).ptr(address(o));
            launch(SELECT, "sample_top_p", (int) M, 1, 1, 1024, 0);
            sc.commit(o, out);
        }
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
