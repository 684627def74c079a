package mgm.kernels;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * cuBLAS through FFM ({@code libcublas.so.13}, else {@code .12}, found at run time), on the
 * driver's stream and context, with a fixed workspace so that GEMMs can be captured in graphs.
 * Used as the dense-GEMM baseline and, by default, for dense F16/BF16/F32 prefill GEMMs.
 */
final class CublasApi implements Blas {
    private static final int OP_N = 0, OP_T = 1;
    private static final int COMPUTE_32F = 68;
    private static final int GEMM_DEFAULT = -1;
    private static final long WORKSPACE = 32L << 20;

    private final CudaDriver driver;
    private final String library;
    private final MethodHandle gemmEx, destroy;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha = arena.allocate(JAVA_FLOAT), beta = arena.allocate(JAVA_FLOAT);
    private final long workspace;
    private final int version;

    private CublasApi(CudaDriver driver, String library, SymbolLookup lib, MemorySegment stream) {
        this.driver = driver;
        this.library = library;
        Linker linker = Linker.nativeLinker();
        MethodHandle create = linker.downcallHandle(find(lib, "cublasCreate_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = linker.downcallHandle(find(lib, "cublasDestroy_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle setStream = linker.downcallHandle(find(lib, "cublasSetStream_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle setWorkspace = linker.downcallHandle(find(lib, "cublasSetWorkspace_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        MethodHandle getVersion = linker.downcallHandle(find(lib, "cublasGetVersion_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        gemmEx = linker.downcallHandle(find(lib, "cublasGemmEx"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS,
                JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        alpha.set(JAVA_FLOAT, 0, 1f);
        beta.set(JAVA_FLOAT, 0, 0f);
        try {
            MemorySegment p = arena.allocate(ADDRESS);
            check((int) create.invokeExact(p), "cublasCreate");
            handle = p.get(ADDRESS, 0);
            check((int) setStream.invokeExact(handle, stream), "cublasSetStream");
            workspace = driver.malloc(WORKSPACE);
            check((int) setWorkspace.invokeExact(handle, workspace, WORKSPACE), "cublasSetWorkspace");
            MemorySegment v = arena.allocate(JAVA_INT);
            check((int) getVersion.invokeExact(handle, v), "cublasGetVersion");
            version = v.get(JAVA_INT, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuBLAS setup: " + t);
        }
    }

    /** cuBLAS for the driver's device, or empty when no cuBLAS library can be loaded. */
    static Optional<Blas> open(CudaDriver driver, MemorySegment stream) {
        for (String name : new String[] {"libcublas.so.13", "libcublas.so.12", "libcublas.so",
                "/usr/local/cuda/lib64/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.12"}) {
            SymbolLookup lib;
            try {
                lib = SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException e) {
                continue;
            }
            return Optional.of(new CublasApi(driver, name, lib, stream));
        }
        return Optional.empty();
    }

    @Override
    public void gemm(int abType, long x, int ldx, long w, int ldw, long out, int ldo, int M, int N, int K, float betaValue) {
        driver.ensureBound();
        beta.set(JAVA_FLOAT, 0, betaValue);
        // Row-major out[M, N] is column-major out^T [N, M] = w^T x^T: A = w (column-major K x N, transposed), B = x (K x M).
        int rc;
        try {
            rc = (int) gemmEx.invokeExact(handle, OP_T, OP_N, N, M, K, alpha, w, abType, ldw, x, abType, ldx, beta, out,
                    Blas.R_32F, ldo, COMPUTE_32F, GEMM_DEFAULT);
        } catch (Throwable t) {
            throw new CudaException("cublasGemmEx: " + t);
        }
        check(rc, "cublasGemmEx(M=" + M + ", N=" + N + ", K=" + K + ", type " + abType + ")");
    }

    @Override
    public String describe() {
        return library + " (cuBLAS " + version / 10000 + "." + version / 100 % 100 + "." + version % 100 + ")";
    }

    void destroy() {
        try {
            int rc = (int) destroy.invokeExact(handle);
            driver.free(workspace);
            check(rc, "cublasDestroy");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cublasDestroy: " + t);
        } finally {
            arena.close();
        }
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new CudaException("cuBLAS library lacks " + name));
    }

    private static void check(int status, String what) {
        if (status == 0) {
            return;
        }
        String name = switch (status) {
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cuBLAS status " + status;
        };
        throw new CudaException(what + " failed: " + name, status);
    }
}
