package mgm.kernels;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * FFM bindings to the CUDA driver API ({@code libcuda.so.1}), the functions the backend uses,
 * under their exported names ({@code _v2} where cuda.h maps to one). Every function returns a
 * {@code CUresult}; {@link #check} turns a failure into a {@link CudaException} carrying
 * {@code cuGetErrorName} / {@code cuGetErrorString}. Handles (contexts, streams, modules,
 * functions, events, graphs) are addresses; {@code CUdeviceptr} is a 64-bit integer.
 */
final class CudaApi {
    static final int CUDA_SUCCESS = 0;
    static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    static final int CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE = 910;
    static final int CU_STREAM_NON_BLOCKING = 1;
    static final int CU_STREAM_CAPTURE_MODE_RELAXED = 2;
    static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    // CUdevice_attribute
    static final int ATTR_CLOCK_RATE = 13;
    static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    static final int ATTR_MEMORY_CLOCK_RATE = 36;
    static final int ATTR_GLOBAL_MEMORY_BUS_WIDTH = 37;
    static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    static final int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

    final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName, cuDeviceGetAttribute,
            cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxSetCurrent, cuCtxSynchronize, cuMemAlloc,
            cuMemFree, cuMemGetInfo, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD8Async, cuStreamCreate,
            cuStreamSynchronize, cuStreamDestroy, cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime,
            cuEventDestroy, cuModuleLoadDataEx, cuModuleGetFunction, cuModuleUnload, cuLaunchKernel, cuFuncSetAttribute,
            cuStreamBeginCapture, cuStreamEndCapture, cuGraphInstantiateWithFlags, cuGraphExecUpdate, cuGraphLaunch,
            cuGraphExecDestroy, cuGraphDestroy, cuGetErrorString, cuGetErrorName;

    private CudaApi(SymbolLookup lib) {
        cuInit = fn(lib, "cuInit", JAVA_INT);
        cuDriverGetVersion = fn(lib, "cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = fn(lib, "cuDeviceGetCount", ADDRESS);
        cuDeviceGet = fn(lib, "cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = fn(lib, "cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = fn(lib, "cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = fn(lib, "cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRetain = fn(lib, "cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = fn(lib, "cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        cuCtxSetCurrent = fn(lib, "cuCtxSetCurrent", ADDRESS);
        cuCtxSynchronize = fn(lib, "cuCtxSynchronize");
        cuMemAlloc = fn(lib, "cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = fn(lib, "cuMemFree_v2", JAVA_LONG);
        cuMemGetInfo = fn(lib, "cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuMemcpyHtoDAsync = fn(lib, "cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = fn(lib, "cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = fn(lib, "cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD8Async = fn(lib, "cuMemsetD8Async", JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS);
        cuStreamCreate = fn(lib, "cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamSynchronize = fn(lib, "cuStreamSynchronize", ADDRESS);
        cuStreamDestroy = fn(lib, "cuStreamDestroy_v2", ADDRESS);
        cuEventCreate = fn(lib, "cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = fn(lib, "cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = fn(lib, "cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = fn(lib, "cuEventElapsedTime_v2", ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = fn(lib, "cuEventDestroy_v2", ADDRESS);
        cuModuleLoadDataEx = fn(lib, "cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        cuModuleGetFunction = fn(lib, "cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuModuleUnload = fn(lib, "cuModuleUnload", ADDRESS);
        cuLaunchKernel = fn(lib, "cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS);
        cuFuncSetAttribute = fn(lib, "cuFuncSetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuStreamBeginCapture = fn(lib, "cuStreamBeginCapture_v2", ADDRESS, JAVA_INT);
        cuStreamEndCapture = fn(lib, "cuStreamEndCapture", ADDRESS, ADDRESS);
        cuGraphInstantiateWithFlags = fn(lib, "cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG);
        cuGraphExecUpdate = fn(lib, "cuGraphExecUpdate_v2", ADDRESS, ADDRESS, ADDRESS);
        cuGraphLaunch = fn(lib, "cuGraphLaunch", ADDRESS, ADDRESS);
        cuGraphExecDestroy = fn(lib, "cuGraphExecDestroy", ADDRESS);
        cuGraphDestroy = fn(lib, "cuGraphDestroy", ADDRESS);
        cuGetErrorString = fn(lib, "cuGetErrorString", JAVA_INT, ADDRESS);
        cuGetErrorName = fn(lib, "cuGetErrorName", JAVA_INT, ADDRESS);
    }

    /** {@code CUgraphExecUpdateResultInfo}: result (enum), errorNode, errorFromNode. */
    static final MemoryLayout UPDATE_RESULT_INFO = MemoryLayout.structLayout(JAVA_INT, MemoryLayout.paddingLayout(4), ADDRESS, ADDRESS);

    private static volatile CudaApi instance;
    private static volatile String loadFailure;

    /**
     * The bindings, loading {@code libcuda.so.1} on first use; throws {@link CudaUnavailableException}
     * with the reason when there is no usable driver library.
     */
    static CudaApi load() {
        CudaApi api = instance;
        if (api != null) {
            return api;
        }
        synchronized (CudaApi.class) {
            if (instance != null) {
                return instance;
            }
            if (loadFailure != null) {
                throw new CudaUnavailableException(loadFailure);
            }
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
                instance = new CudaApi(lib);
                return instance;
            } catch (IllegalArgumentException e) {
                loadFailure = "no NVIDIA driver: libcuda.so.1 cannot be loaded (" + e.getMessage() + ")";
            } catch (MissingSymbolException e) {
                loadFailure = "the NVIDIA driver's libcuda.so.1 lacks " + e.getMessage() + ": it is older than CUDA 13 (R580)";
            }
            throw new CudaUnavailableException(loadFailure);
        }
    }

    /** Throws a {@link CudaException} (a {@link DeviceMemoryException} for out-of-memory) unless rc is success. */
    void check(int rc, String what) {
        if (rc == CUDA_SUCCESS) {
            return;
        }
        String message = what + " failed: " + errorName(rc) + " (" + rc + "): " + errorString(rc);
        if (rc == CUDA_ERROR_OUT_OF_MEMORY) {
            throw new DeviceMemoryException(message);
        }
        throw new CudaException(message, rc);
    }

    String errorString(int rc) {
        return describe(cuGetErrorString, rc, "unknown error");
    }

    String errorName(int rc) {
        return describe(cuGetErrorName, rc, "CUDA_ERROR_" + rc);
    }

    private static String describe(MethodHandle h, int rc, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) h.invokeExact(rc, p);
            MemorySegment s = p.get(ADDRESS, 0);
            return r == CUDA_SUCCESS && !s.equals(MemorySegment.NULL) ? s.reinterpret(1024).getString(0) : fallback;
        } catch (Throwable t) {
            return fallback;
        }
    }

    /** Calls a binding that returns a CUresult and checks it. */
    int call(MethodHandle h, String what, Object... args) {
        int rc;
        try {
            rc = (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException(what + ": " + t);
        }
        check(rc, what);
        return rc;
    }

    /** Like {@link #call} but returns the CUresult instead of throwing. */
    int callRaw(MethodHandle h, String what, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException(what + ": " + t);
        }
    }

    static float readFloat(MemorySegment s) {
        return s.get(JAVA_FLOAT, 0);
    }

    private static MethodHandle fn(SymbolLookup lib, String name, MemoryLayout... args) {
        MemorySegment addr = lib.find(name).orElseThrow(() -> new MissingSymbolException(name));
        return Linker.nativeLinker().downcallHandle(addr, FunctionDescriptor.of(JAVA_INT, args));
    }

    static final class MissingSymbolException extends RuntimeException {
        MissingSymbolException(String name) {
            super(name);
        }
    }
}
