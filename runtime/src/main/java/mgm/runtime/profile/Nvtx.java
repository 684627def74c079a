package mgm.runtime.profile;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * NVIDIA Tools Extension ranges through FFM: {@code nvtxRangePushA} / {@code nvtxRangePop} from
 * {@code libnvToolsExt.so.1} (CUDA toolkits up to 12) or {@code libnvtx3interop.so.1} (NVTX 3, CUDA
 * 12.x and later), so that Nsight Systems and Nsight Compute attribute kernels to phases, layers and
 * ops. Ranges nest per thread. Without the library every call does nothing. Each distinct name is
 * copied to native memory once (names are constants: op names, phase names, "decoder 3").
 *
 * <p>Without an attached tool (Nsight sets {@code NVTX_INJECTION64_PATH}) the library's functions
 * return at once; {@code -Dmgm.nvtx=false} turns the binding off entirely.
 */
public final class Nvtx {
    private static final String[] LIBRARIES = {
        "libnvToolsExt.so.1", "libnvToolsExt.so", "libnvtx3interop.so.1", "libnvtx3interop.so", "nvToolsExt64_1.dll"};
    private static final MethodHandle PUSH;
    private static final MethodHandle POP;
    private static final Nvtx INSTANCE;

    static {
        MethodHandle[] handles = new MethodHandle[2];
        String library = load(handles);
        PUSH = handles[0];
        POP = handles[1];
        INSTANCE = library == null ? null : new Nvtx(library);
    }

    private final String library;
    private final Arena names = Arena.ofAuto();
    private final ConcurrentHashMap<String, MemorySegment> cache = new ConcurrentHashMap<>();

    private Nvtx(String library) {
        this.library = library;
    }

    /** The binding, when the library was found (and {@code -Dmgm.nvtx} is not false). */
    public static Optional<Nvtx> get() {
        return Optional.ofNullable(INSTANCE);
    }

    /** The library file the binding uses. */
    public String library() {
        return library;
    }

    /** Finds the library and fills {@code handles} with push and pop; returns its name, or null. */
    @SuppressWarnings("restricted")  // native access is how NVTX is reached; the jars enable it
    private static String load(MethodHandle[] handles) {
        if ("false".equalsIgnoreCase(System.getProperty("mgm.nvtx", "true"))) {
            return null;
        }
        Linker linker = Linker.nativeLinker();
        for (String name : LIBRARIES) {
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(name, Arena.global());
                Optional<MemorySegment> push = lookup.find("nvtxRangePushA");
                Optional<MemorySegment> pop = lookup.find("nvtxRangePop");
                if (push.isEmpty() || pop.isEmpty()) {
                    continue;
                }
                handles[0] = linker.downcallHandle(push.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
                handles[1] = linker.downcallHandle(pop.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
                return name;
            } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError e) {
                // not installed here (or native access denied): try the next name, else NVTX is off
            }
        }
        return null;
    }

    /** Opens a range named {@code name} on this thread. */
    public void push(String name) {
        MemorySegment cName = cache.get(name);
        if (cName == null) {
            cName = cache.computeIfAbsent(name, this::cString);
        }
        try {
            int depth = (int) PUSH.invokeExact(cName);
        } catch (Throwable t) {
            throw new IllegalStateException("nvtxRangePushA failed", t);
        }
    }

    /** Closes the innermost range of this thread. */
    public void pop() {
        try {
            int depth = (int) POP.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("nvtxRangePop failed", t);
        }
    }

    private MemorySegment cString(String s) {
        return names.allocateFrom(s);
    }
}
