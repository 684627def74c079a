package mgm.kernels;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link Driver} on a real GPU through the CUDA driver API (FFM, {@link CudaApi}): the device's
 * primary context (shared with cuBLAS), one non-blocking stream, modules JIT-compiled from the
 * PTX the build put in the jar ({@code mgm/kernels/ptx/sm_XX/<module>.ptx}, the newest target
 * not above the device), loaded on first use.
 *
 * <p>{@link #open} checks, in order, and says what is wrong: kernels built, {@code libcuda.so.1}
 * present, {@code cuInit}, a driver for CUDA 13 or newer (R580+: PTX from nvcc 13 needs it), the
 * device ordinal, compute capability 8.0 or newer.
 */
public final class CudaDriver implements Driver {
    /** The oldest driver API version the PTX runs on: CUDA 13.0. */
    static final int MIN_DRIVER_VERSION = 13000;
    static final int[] PTX_TARGETS = {90, 80};
    private static final String PTX_ROOT = "/mgm/kernels/ptx/";

    private final CudaApi api;
    private final int ordinal;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final DeviceInfo info;
    private final int ptxTarget;
    private final Map<String, MemorySegment> modules = new HashMap<>();
    private final Map<String, Kernel> kernels = new HashMap<>();
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);
    private final Arena arena = Arena.ofShared();
    private final MemorySegment out8 = arena.allocate(8, 8);
    private Optional<Blas> blas;
    private boolean closed;

    private CudaDriver(CudaApi api, int ordinal, DeviceInfo info, int ptxTarget) {
        this.api = api;
        this.ordinal = ordinal;
        this.info = info;
        this.ptxTarget = ptxTarget;
        MemorySegment p = arena.allocate(ADDRESS);
        api.call(api.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", p, ordinal);
        context = p.get(ADDRESS, 0);
        bind();
        api.call(api.cuStreamCreate, "cuStreamCreate", p, CudaApi.CU_STREAM_NON_BLOCKING);
        stream = p.get(ADDRESS, 0);
    }

    /** Opens device {@code ordinal}; throws {@link CudaUnavailableException} saying why it cannot. */
    public static CudaDriver open(int ordinal) {
        int target = ptxTargetsPresent();
        if (target == 0) {
            throw new CudaUnavailableException("CUDA kernels not built: this jar has no PTX (nvcc was missing when it was built)");
        }
        CudaApi api = CudaApi.load();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment i = a.allocate(JAVA_INT);
            int rc = api.callRaw(api.cuInit, "cuInit", 0);
            if (rc != CudaApi.CUDA_SUCCESS) {
                throw new CudaUnavailableException("cuInit failed: " + api.errorName(rc) + ": " + api.errorString(rc));
            }
            api.call(api.cuDriverGetVersion, "cuDriverGetVersion", i);
            int version = i.get(JAVA_INT, 0);
            if (version < MIN_DRIVER_VERSION) {
                throw new CudaUnavailableException("the NVIDIA driver supports CUDA " + version / 1000 + "." + version % 1000 / 10
                        + "; the kernels are PTX from nvcc 13 and need a CUDA 13 driver (R580 or newer): update the driver");
            }
            api.call(api.cuDeviceGetCount, "cuDeviceGetCount", i);
            int count = i.get(JAVA_INT, 0);
            if (count == 0) {
                throw new CudaUnavailableException("the NVIDIA driver sees no CUDA device");
            }
            if (ordinal < 0 || ordinal >= count) {
                throw new CudaUnavailableException("CUDA device " + ordinal + " does not exist (" + count + " present)");
            }
            DeviceInfo info = queryInfo(api, ordinal, version);
            if (info.ccMajor() < 8) {
                throw new CudaUnavailableException(info.name() + " has compute capability " + info.ccMajor() + "." + info.ccMinor()
                        + "; the kernels need 8.0 or newer (Ampere or later)");
            }
            int cc = info.ccMajor() * 10 + info.ccMinor();
            int pick = 0;
            for (int t : PTX_TARGETS) {
                if (t <= cc && ptxExists(t, "convert")) {
                    pick = Math.max(pick, t);
                }
            }
            if (pick == 0) {
                throw new CudaUnavailableException("no PTX target in this jar fits compute capability " + cc);
            }
            return new CudaDriver(api, ordinal, info, pick);
        }
    }

    /** The newest PTX target in the jar, 0 when the kernels were not built. */
    static int ptxTargetsPresent() {
        for (int t : PTX_TARGETS) {
            if (ptxExists(t, "convert")) {
                return t;
            }
        }
        return 0;
    }

    private static boolean ptxExists(int target, String module) {
        return CudaDriver.class.getResource(PTX_ROOT + "sm_" + target + "/" + module + ".ptx") != null;
    }

    private static DeviceInfo queryInfo(CudaApi api, int ordinal, int version) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            api.call(api.cuDeviceGetName, "cuDeviceGetName", name, 256, ordinal);
            MemorySegment bytes = a.allocate(JAVA_LONG);
            api.call(api.cuDeviceTotalMem, "cuDeviceTotalMem", bytes, ordinal);
            return new DeviceInfo(name.getString(0), attribute(api, a, ordinal, CudaApi.ATTR_COMPUTE_CAPABILITY_MAJOR),
                    attribute(api, a, ordinal, CudaApi.ATTR_COMPUTE_CAPABILITY_MINOR),
                    attribute(api, a, ordinal, CudaApi.ATTR_MULTIPROCESSOR_COUNT), bytes.get(JAVA_LONG, 0),
                    attributeOrZero(api, a, ordinal, CudaApi.ATTR_CLOCK_RATE),
                    attributeOrZero(api, a, ordinal, CudaApi.ATTR_MEMORY_CLOCK_RATE),
                    attributeOrZero(api, a, ordinal, CudaApi.ATTR_GLOBAL_MEMORY_BUS_WIDTH),
                    attribute(api, a, ordinal, CudaApi.ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN), version);
        }
    }

    private static int attribute(CudaApi api, Arena a, int ordinal, int attr) {
        MemorySegment v = a.allocate(JAVA_INT);
        api.call(api.cuDeviceGetAttribute, "cuDeviceGetAttribute(" + attr + ")", v, attr, ordinal);
        return v.get(JAVA_INT, 0);
    }

    /** Clock attributes may be unsupported on newer drivers: 0 then (peaks unknown). */
    private static int attributeOrZero(CudaApi api, Arena a, int ordinal, int attr) {
        MemorySegment v = a.allocate(JAVA_INT);
        int rc = api.callRaw(api.cuDeviceGetAttribute, "cuDeviceGetAttribute", v, attr, ordinal);
        return rc == CudaApi.CUDA_SUCCESS ? v.get(JAVA_INT, 0) : 0;
    }

    /** The device ordinal. */
    public int ordinal() {
        return ordinal;
    }

    /** The PTX target this driver loads (80 or 90). */
    public int ptxTarget() {
        return ptxTarget;
    }

    @Override
    public String kind() {
        return "cuda";
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    /** Makes the context current on the calling thread (once per thread). */
    private void bind() {
        if (closed) {
            throw new IllegalStateException("CUDA driver for device " + ordinal + " is closed");
        }
        if (!bound.get()) {
            api.call(api.cuCtxSetCurrent, "cuCtxSetCurrent", context);
            bound.set(true);
        }
    }

    @Override
    public synchronized long malloc(long bytes) {
        bind();
        api.call(api.cuMemAlloc, "cuMemAlloc(" + bytes + " bytes)", out8, bytes);
        return out8.get(JAVA_LONG, 0);
    }

    @Override
    public void free(long address) {
        bind();
        api.call(api.cuMemFree, "cuMemFree", address);
    }

    /** Free and total device memory in bytes. */
    public synchronized long[] memoryInfo() {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            api.call(api.cuMemGetInfo, "cuMemGetInfo", f, t);
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        }
    }

    @Override
    public void memset(long address, int value, long bytes) {
        bind();
        int rc;
        try {
            rc = (int) api.cuMemsetD8Async.invokeExact(address, (byte) value, bytes, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        api.check(rc, "cuMemsetD8Async");
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes) {
        bind();
        MemorySegment from = src;
        Arena tmp = null;
        if (!src.isNative()) {  // a heap segment: stage it off-heap
            tmp = Arena.ofConfined();
            from = tmp.allocate(bytes, 16);
            MemorySegment.copy(src, 0, from, 0, bytes);
        }
        try {
            int rc = (int) api.cuMemcpyHtoDAsync.invokeExact(dst, from, bytes, stream);
            api.check(rc, "cuMemcpyHtoDAsync (" + bytes + " bytes)");
            if (tmp != null) {
                sync();  // the staging buffer must live until the copy has read it
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        } finally {
            if (tmp != null) {
                tmp.close();
            }
        }
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes) {
        bind();
        MemorySegment to = dst;
        Arena tmp = null;
        if (!dst.isNative()) {
            tmp = Arena.ofConfined();
            to = tmp.allocate(bytes, 16);
        }
        try {
            int rc = (int) api.cuMemcpyDtoHAsync.invokeExact(to, src, bytes, stream);
            api.check(rc, "cuMemcpyDtoHAsync (" + bytes + " bytes)");
            sync();
            if (tmp != null) {
                MemorySegment.copy(to, 0, dst, 0, bytes);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        } finally {
            if (tmp != null) {
                tmp.close();
            }
        }
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        bind();
        int rc;
        try {
            rc = (int) api.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        api.check(rc, "cuMemcpyDtoDAsync (" + bytes + " bytes)");
    }

    @Override
    public synchronized Kernel kernel(String module, String name) {
        Kernel k = kernels.get(module + "/" + name);
        if (k != null) {
            return k;
        }
        bind();
        MemorySegment mod = module(module);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(ADDRESS);
            api.call(api.cuModuleGetFunction, "cuModuleGetFunction(" + module + "/" + name + ")", f, mod, a.allocateFrom(name));
            k = new Kernel(module, name, f.get(ADDRESS, 0).address());
        }
        kernels.put(module + "/" + name, k);
        return k;
    }

    private MemorySegment module(String module) {
        MemorySegment m = modules.get(module);
        if (m != null) {
            return m;
        }
        String path = PTX_ROOT + "sm_" + ptxTarget + "/" + module + ".ptx";
        byte[] ptx;
        try (InputStream in = CudaDriver.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new CudaException("CUDA kernels not built: " + path + " is not on the class path");
            }
            ptx = in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("reading " + path + ": " + e.getMessage());
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocate(ptx.length + 1L);
            MemorySegment.copy(ptx, 0, image, JAVA_BYTE_LAYOUT, 0, ptx.length);
            int logSize = 16 * 1024;
            MemorySegment log = a.allocate(logSize);
            MemorySegment options = a.allocate(JAVA_INT, 2);
            options.setAtIndex(JAVA_INT, 0, CudaApi.CU_JIT_ERROR_LOG_BUFFER);
            options.setAtIndex(JAVA_INT, 1, CudaApi.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment values = a.allocate(ADDRESS, 2);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(logSize));
            MemorySegment out = a.allocate(ADDRESS);
            int rc = api.callRaw(api.cuModuleLoadDataEx, "cuModuleLoadDataEx", out, image, 2, options, values);
            if (rc != CudaApi.CUDA_SUCCESS) {
                throw new CudaException("loading " + path + " (JIT from PTX) failed: " + api.errorName(rc) + ": " + api.errorString(rc)
                        + "; JIT log: " + log.getString(0), rc);
            }
            m = out.get(ADDRESS, 0);
        }
        modules.put(module, m);
        return m;
    }

    private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT = java.lang.foreign.ValueLayout.JAVA_BYTE;

    @Override
    public void launch(Kernel kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, KernelArgs args) {
        bind();
        MemorySegment fn = MemorySegment.ofAddress(kernel.handle());
        if (sharedBytes > kernel.dynamicSharedLimit) {
            if (sharedBytes > info.maxSharedPerBlock()) {
                throw new CudaException("kernel " + kernel + " needs " + sharedBytes + " bytes of shared memory; " + info.name()
                        + " allows " + info.maxSharedPerBlock());
            }
            api.call(api.cuFuncSetAttribute, "cuFuncSetAttribute(" + kernel + ", max dynamic shared = " + sharedBytes + ")", fn,
                    CudaApi.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes);
            kernel.dynamicSharedLimit = sharedBytes;
        }
        int rc;
        try {
            rc = (int) api.cuLaunchKernel.invokeExact(fn, gx, gy, gz, bx, by, bz, sharedBytes, stream, args.pointers(),
                    MemorySegment.NULL);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (rc != CudaApi.CUDA_SUCCESS) {
            api.check(rc, "cuLaunchKernel(" + kernel + " <<<(" + gx + "," + gy + "," + gz + "), (" + bx + "," + by + "," + bz + "), "
                    + sharedBytes + ">>>)");
        }
    }

    @Override
    public void synchronize() {
        bind();
        sync();
    }

    private void sync() {
        int rc;
        try {
            rc = (int) api.cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        api.check(rc, "cuStreamSynchronize (an earlier kernel or copy failed)");
    }

    // ------------------------------------------------------------------ graphs

    @Override
    public void beginCapture() {
        bind();
        api.call(api.cuStreamBeginCapture, "cuStreamBeginCapture", stream, CudaApi.CU_STREAM_CAPTURE_MODE_RELAXED);
    }

    @Override
    public Graph endCapture() {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment g = a.allocate(ADDRESS);
            api.call(api.cuStreamEndCapture, "cuStreamEndCapture", stream, g);
            return new CudaGraph(g.get(ADDRESS, 0));
        }
    }

    @Override
    public GraphExec instantiate(Graph graph) {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(ADDRESS);
            api.call(api.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", e, ((CudaGraph) graph).handle, 0L);
            return new CudaGraphExec(e.get(ADDRESS, 0));
        }
    }

    @Override
    public boolean update(GraphExec exec, Graph graph) {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(CudaApi.UPDATE_RESULT_INFO);
            int rc = api.callRaw(api.cuGraphExecUpdate, "cuGraphExecUpdate", ((CudaGraphExec) exec).handle,
                    ((CudaGraph) graph).handle, info);
            if (rc == CudaApi.CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE) {
                return false;
            }
            api.check(rc, "cuGraphExecUpdate");
            return true;
        }
    }

    @Override
    public void launch(GraphExec exec) {
        bind();
        api.call(api.cuGraphLaunch, "cuGraphLaunch", ((CudaGraphExec) exec).handle, stream);
    }

    private final class CudaGraph implements Graph {
        final MemorySegment handle;

        CudaGraph(MemorySegment handle) {
            this.handle = handle;
        }

        @Override
        public void close() {
            if (!closed) {
                api.call(api.cuGraphDestroy, "cuGraphDestroy", handle);
            }
        }
    }

    private final class CudaGraphExec implements GraphExec {
        final MemorySegment handle;

        CudaGraphExec(MemorySegment handle) {
            this.handle = handle;
        }

        @Override
        public void close() {
            if (!closed) {
                api.call(api.cuGraphExecDestroy, "cuGraphExecDestroy", handle);
            }
        }
    }

    // ------------------------------------------------------------------ timing

    @Override
    public long recordEvent() {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(ADDRESS);
            api.call(api.cuEventCreate, "cuEventCreate", e, 0);
            MemorySegment ev = e.get(ADDRESS, 0);
            api.call(api.cuEventRecord, "cuEventRecord", ev, stream);
            return ev.address();
        }
    }

    @Override
    public float elapsedMillis(long start, long end) {
        bind();
        api.call(api.cuEventSynchronize, "cuEventSynchronize", MemorySegment.ofAddress(end));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_INT);
            api.call(api.cuEventElapsedTime, "cuEventElapsedTime", ms, MemorySegment.ofAddress(start), MemorySegment.ofAddress(end));
            return CudaApi.readFloat(ms);
        }
    }

    @Override
    public void destroyEvent(long event) {
        bind();
        api.call(api.cuEventDestroy, "cuEventDestroy", MemorySegment.ofAddress(event));
    }

    @Override
    public synchronized Optional<Blas> blas() {
        if (blas == null) {
            bind();
            blas = CublasApi.open(this, stream);
        }
        return blas;
    }

    /** Called by cuBLAS wrappers to make sure the context is current on their thread. */
    void ensureBound() {
        bind();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            bind();
            sync();
            if (blas != null && blas.isPresent()) {
                ((CublasApi) blas.get()).destroy();
            }
            for (MemorySegment m : modules.values()) {
                api.callRaw(api.cuModuleUnload, "cuModuleUnload", m);
            }
            api.callRaw(api.cuStreamDestroy, "cuStreamDestroy", stream);
            api.callRaw(api.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease", ordinal);
        } finally {
            closed = true;
            arena.close();
        }
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new CudaException("driver call failed: " + t);
    }
}
