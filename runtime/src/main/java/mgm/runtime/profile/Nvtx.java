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
 * {@code libnvToolsExt.so.1} (CUDA toolkits up to 12) or {@code libnvtx3interop.so.1} (NVTX 3), so
 * that Nsight Systems and Nsight Compute attribute kernels to phases, layers and ops. Ranges nest per
 * thread. Without the library every call does nothing. The range names are copied to native memory
 * once per distinct name (names are constants: op names, phase names, "decoder 3").
 *
 * <p>Without an attached Nsight tool the library's functions return at once; {@code -Dmgm.nvtx=false}
 * turns the binding off entirely.
 */
public final class Nvtx {
    private static final String[] LIBRARIES = {
        "libnvToolsExt.so.1", "libnvToolsExt.so", "libnvtx3interop.so.1", "libnvtx3interop.so", "nvToolsExt64_1.dll"};
    private static final Nvtx INSTANCE = load();

    private final MethodHandle push;
    private final MethodHandle pop;
    private final String library;
    private final Arena names = Arena.ofAuto();
    private final ConcurrentHashMap<String, MemorySegment> cache = new ConcurrentHashMap<>();

    private Nvtx(MethodHandle push, MethodHandle pop, String library) {
        this.push = push;
        this.pop = pop;
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

    @SuppressWarnings("restricted")  // native access is how NVTX is reached; the jar enables it
    private static Nvtx load() {
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
                FunctionDescriptor pushType = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS);
                FunctionDescriptor popType = FunctionDescriptor.of(ValueLayout.JAVA_INT);
                return new Nvtx(linker.downcallHandle(push.get(), pushType),
                        linker.downcallHandle(pop.get(), popType), name);
            } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError e) {
                // not installed here (or native access denied): try the next name, else NVTX is off
            }
        }
        return null;
    }

    /** Opens a range named {@code name} on this thread. */
    public void push(String name) {
        MemorySegment cName = cache.computeIfAbsent(name, names::allocateFrom);
        try {
            int ignored = (int) push.invokeExact(cName);
        } catch (Throwable t) {
            throw new IllegalStateException("nvtxRangePushA failed", t);
        }
    }

    /** Closes the innermost range of this thread. */
    public void pop() {
        try {
            int ignored = (int) pop.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("nvtxRangePop failed", t);
        }
    }
}
