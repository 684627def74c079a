package mgm.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * OpenBLAS {@code cblas_sgemm} through FFM, the GEMM baseline (bench module only: the runtime never
 * depends on it). Looks for Debian's {@code libopenblas.so.0} (package libopenblas0) at run time.
 */
final class OpenBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    private static final List<String> CANDIDATES = List.of(
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "/usr/lib/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0");

    private final MethodHandle sgemm;
    private final MethodHandle setThreads;

    private OpenBlas(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        sgemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_FLOAT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        setThreads = lib.find("openblas_set_num_threads")
                .map(a -> linker.downcallHandle(a, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)))
                .orElse(null);
    }

    /** The library, or empty with the reason printed when it is not installed. */
    static Optional<OpenBlas> load() {
        for (String p : CANDIDATES) {
            if (Files.exists(Path.of(p))) {
                try {
                    return Optional.of(new OpenBlas(SymbolLookup.libraryLookup(Path.of(p), Arena.global())));
                } catch (RuntimeException e) {
                    System.out.println("OpenBLAS at " + p + " could not be loaded: " + e.getMessage());
                }
            }
        }
        System.out.println("OpenBLAS not found (install Debian's libopenblas0); skipping the sgemm baseline");
        return Optional.empty();
    }

    void threads(int n) {
        if (setThreads != null) {
            try {
                setThreads.invokeExact(n);
            } catch (Throwable e) {
                throw new IllegalStateException("openblas_set_num_threads failed", e);
            }
        }
    }

    /** {@code c[m, n] = a[m, k] · b[n, k]ᵀ}, all row-major F32. */
    void sgemmNt(int m, int n, int k, MemorySegment a, MemorySegment b, MemorySegment c) {
        try {
            sgemm.invokeExact(ROW_MAJOR, NO_TRANS, TRANS, m, n, k, 1f, a, k, b, k, 0f, c, n);
        } catch (Throwable e) {
            throw new IllegalStateException("cblas_sgemm failed", e);
        }
    }
}
