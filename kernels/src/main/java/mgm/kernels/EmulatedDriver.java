package mgm.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Driver} without a GPU: "device" memory is host memory (never touched by Java except
 * through this driver's copies), and launches run the real kernels, compiled for the CPU against
 * the emulator ({@code kernels/src/emu}), through the same argument packing as cuLaunchKernel.
 *
 * <p>It is stricter than a GPU where that finds bugs: fresh allocations are filled with 0xFF
 * (NaN as floats), each allocation has guard bytes on both sides that are checked after every
 * launch (an out-of-bounds write fails the launch that did it), copies and memsets must fall
 * inside one allocation, and the emulator itself rejects deadlocks, divergent warp collectives
 * and misaligned WMMA pointers. Graph capture records launches and replays them.
 */
public final class EmulatedDriver implements Driver {
    /** System property naming the emulator library (set by the kernels module's surefire config). */
    public static final String LIBRARY_PROPERTY = "mgm.emulator.lib";
    static final String LIBRARY_NAME = "libmgm_kernels_emu.so";
    private static final int GUARD = 256;
    private static final byte GUARD_BYTE = (byte) 0xA5;
    private static final MemorySegment GUARD_PATTERN;
    private static final Map<Path, Library> LIBRARIES = new ConcurrentHashMap<>();

    static {
        GUARD_PATTERN = Arena.global().allocate(GUARD);
        GUARD_PATTERN.fill(GUARD_BYTE);
    }

    private final Library lib;
    private final TreeMap<Long, Allocation> live = new TreeMap<>();
    private final Map<String, Kernel> kernels = new HashMap<>();
    private final Map<Long, Long> events = new HashMap<>();
    private final MemorySegment error = Arena.ofAuto().allocate(1024);
    private List<Node> recording;
    private long nextEvent = 1;
    private boolean checkGuards = true;
    private boolean closed;

    private EmulatedDriver(Library lib) {
        this.lib = lib;
    }

    /**
     * The emulator library at {@link #LIBRARY_PROPERTY}, or in {@code target/emu} of the kernels module
     * (seen from the repository root, the kernels module or a sibling module).
     */
    public static EmulatedDriver open() {
        Path p = findLibrary().orElseThrow(() -> new IllegalStateException(unavailableReason().orElse("emulator unavailable")));
        return open(p);
    }

    /** An emulator over the kernels compiled into {@code library}. */
    public static EmulatedDriver open(Path library) {
        Path key = library.toAbsolutePath().normalize();
        if (!Files.isRegularFile(key)) {
            throw new IllegalStateException("CUDA emulator library " + key + " does not exist (built by the kernels module's"
                    + " Maven build with g++)");
        }
        // Loaded once per process and never unloaded: its worker threads live as long as the JVM.
        return new EmulatedDriver(LIBRARIES.computeIfAbsent(key, Library::load));
    }

    /** Why {@link #open()} would fail, if it would (no library built, e.g. no g++). */
    public static Optional<String> unavailableReason() {
        if (findLibrary().isPresent()) {
            return Optional.empty();
        }
        return Optional.of("the CUDA emulator library " + LIBRARY_NAME + " was not built (the kernels module builds it with g++;"
                + " set -D" + LIBRARY_PROPERTY + "=<path> to use another)");
    }

    static Optional<Path> findLibrary() {
        String prop = System.getProperty(LIBRARY_PROPERTY);
        if (prop != null && !prop.isBlank()) {
            Path p = Path.of(prop);
            return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
        }
        for (String c : new String[] {"target/emu/" + LIBRARY_NAME, "kernels/target/emu/" + LIBRARY_NAME,
                "../kernels/target/emu/" + LIBRARY_NAME}) {
            Path p = Path.of(c);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Host threads that run blocks in parallel (default: the CPU count, at most 8). */
    public void setThreads(int n) {
        try {
            lib.setThreads.invokeExact(n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int threads() {
        try {
            return (int) lib.threads.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The order in which a block's ready threads are resumed (global to the process). */
    public enum Schedule {
        /** Thread 0 first. */
        FORWARD,
        /** The last thread first. */
        REVERSE,
        /** A different deterministic permutation at every scheduling pass. */
        SHUFFLED
    }

    /**
     * Sets the scheduling order. Correct kernels give the same results in every order; a missing
     * barrier or __syncwarp usually shows in one of them.
     */
    public void setSchedule(Schedule schedule) {
        try {
            lib.setSchedule.invokeExact(schedule.ordinal());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Whether guard bytes are checked after every launch (on by default). */
    public void checkGuards(boolean on) {
        checkGuards = on;
    }

    /** Bytes currently allocated. */
    public synchronized long allocatedBytes() {
        return live.values().stream().mapToLong(Allocation::bytes).sum();
    }

    /** Number of live allocations. */
    public synchronized int allocationCount() {
        return live.size();
    }

    @Override
    public String kind() {
        return "emulator";
    }

    @Override
    public DeviceInfo info() {
        return new DeviceInfo("CUDA emulator (" + threads() + " host threads, " + lib.path.getFileName() + ")", 9, 0, threads(),
                Runtime.getRuntime().maxMemory(), 0, 0, 0, 1 << 20, 13000);
    }

    @Override
    public synchronized long malloc(long bytes) {
        checkOpen();
        Arena arena = Arena.ofShared();
        MemorySegment whole;
        try {
            whole = arena.allocate(bytes + 2L * GUARD, 256);
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            arena.close();
            throw new DeviceMemoryException("emulator: cannot allocate " + bytes + " bytes of host memory: " + e.getMessage());
        }
        whole.asSlice(0, GUARD).fill(GUARD_BYTE);
        whole.asSlice(GUARD + bytes, GUARD).fill(GUARD_BYTE);
        whole.asSlice(GUARD, bytes).fill((byte) 0xFF);  // uninitialised memory reads as NaN
        long address = whole.address() + GUARD;
        live.put(address, new Allocation(address, bytes, arena, whole));
        return address;
    }

    @Override
    public synchronized void free(long address) {
        Allocation a = live.remove(address);
        if (a == null) {
            throw new CudaException("emulator: free of 0x" + Long.toHexString(address) + ", which is not a live allocation");
        }
        String damage = guardDamage(a);
        a.arena.close();
        if (damage != null) {
            throw new CudaException("emulator: " + damage);
        }
    }

    @Override
    public void memset(long address, int value, long bytes) {
        MemorySegment dst = range(address, bytes, "memset");
        if (recording != null) {
            recording.add(new Memset(address, value, bytes));
            return;
        }
        dst.fill((byte) value);
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes) {
        noCapture("host-to-device copy");
        MemorySegment.copy(src, 0, range(dst, bytes, "copy to device"), 0, bytes);
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes) {
        noCapture("device-to-host copy");
        MemorySegment.copy(range(src, bytes, "copy to host"), 0, dst, 0, bytes);
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        MemorySegment to = range(dst, bytes, "device copy (destination)");
        MemorySegment from = range(src, bytes, "device copy (source)");
        if (recording != null) {
            recording.add(new Copy(dst, src, bytes));
            return;
        }
        MemorySegment.copy(from, 0, to, 0, bytes);
    }

    @Override
    public synchronized Kernel kernel(String module, String name) {
        return kernels.computeIfAbsent(module + "/" + name, k -> {
            MemorySegment entry = lib.lookup.find("mgm_emu__" + name).orElseThrow(() -> new CudaException(
                    "emulator: kernel " + name + " (module " + module + ") is not in " + lib.path));
            return new Kernel(module, name, entry.address());
        });
    }

    @Override
    public void launch(Kernel kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, KernelArgs args) {
        checkOpen();
        if (recording != null) {
            recording.add(new Launch(kernel, new int[] {gx, gy, gz, bx, by, bz, sharedBytes}, args.copy()));
            return;
        }
        run(kernel, gx, gy, gz, bx, by, bz, sharedBytes, args);
    }

    private void run(Kernel kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, KernelArgs args) {
        int rc;
        try {
            rc = (int) lib.launch.invokeExact(MemorySegment.ofAddress(kernel.handle()), gx, gy, gz, bx, by, bz, sharedBytes,
                    args.pointers(), error, (int) error.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != 0) {
            throw new CudaException("kernel " + kernel + " <<<(" + gx + "," + gy + "," + gz + "), (" + bx + "," + by + "," + bz
                    + "), " + sharedBytes + ">>> failed in the emulator: " + error.getString(0));
        }
        if (checkGuards) {
            synchronized (this) {
                for (Allocation a : live.values()) {
                    String damage = guardDamage(a);
                    if (damage != null) {
                        throw new CudaException("kernel " + kernel + " <<<(" + gx + "," + gy + "," + gz + "), (" + bx + "," + by
                                + "," + bz + ")>>>: " + damage);
                    }
                }
            }
        }
    }

    @Override
    public void synchronize() {
        checkOpen();
    }

    // ------------------------------------------------------------------ graphs

    @Override
    public void beginCapture() {
        if (recording != null) {
            throw new IllegalStateException("emulator: a graph capture is already in progress");
        }
        recording = new ArrayList<>();
    }

    @Override
    public Graph endCapture() {
        if (recording == null) {
            throw new IllegalStateException("emulator: endCapture without beginCapture");
        }
        EmuGraph g = new EmuGraph(List.copyOf(recording));
        recording = null;
        return g;
    }

    @Override
    public GraphExec instantiate(Graph graph) {
        return new EmuExec(new ArrayList<>(((EmuGraph) graph).nodes));
    }

    @Override
    public boolean update(GraphExec exec, Graph graph) {
        EmuExec e = (EmuExec) exec;
        List<Node> nodes = ((EmuGraph) graph).nodes;
        if (nodes.size() != e.nodes.size()) {
            return false;
        }
        for (int i = 0; i < nodes.size(); i++) {
            Node a = nodes.get(i), b = e.nodes.get(i);
            if (a.getClass() != b.getClass() || (a instanceof Launch la && la.kernel != ((Launch) b).kernel)) {
                return false;
            }
        }
        e.nodes.clear();
        e.nodes.addAll(nodes);
        return true;
    }

    @Override
    public void launch(GraphExec exec) {
        noCapture("graph launch");
        for (Node n : ((EmuExec) exec).nodes) {
            switch (n) {
                case Launch l -> run(l.kernel, l.dims[0], l.dims[1], l.dims[2], l.dims[3], l.dims[4], l.dims[5], l.dims[6], l.args);
                case Memset m -> range(m.address, m.bytes, "memset (graph)").fill((byte) m.value);
                case Copy c -> MemorySegment.copy(range(c.src, c.bytes, "device copy (graph)"), 0,
                        range(c.dst, c.bytes, "device copy (graph)"), 0, c.bytes);
            }
        }
    }

    /** Kernel launches recorded in a graph (tests). */
    static int launchCount(Graph g) {
        return (int) ((EmuGraph) g).nodes.stream().filter(n -> n instanceof Launch).count();
    }

    // ------------------------------------------------------------------ timing

    @Override
    public synchronized long recordEvent() {
        long id = nextEvent++;
        events.put(id, System.nanoTime());
        return id;
    }

    @Override
    public synchronized float elapsedMillis(long start, long end) {
        Long a = events.get(start), b = events.get(end);
        if (a == null || b == null) {
            throw new CudaException("emulator: unknown event");
        }
        return (b - a) / 1e6f;
    }

    @Override
    public synchronized void destroyEvent(long event) {
        events.remove(event);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Allocation a : live.values()) {
            a.arena.close();
        }
        live.clear();
    }

    // ------------------------------------------------------------------ helpers

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("emulator driver is closed");
        }
    }

    private void noCapture(String what) {
        if (recording != null) {
            throw new IllegalStateException("emulator: " + what + " is not allowed while a graph is being captured");
        }
    }

    /** The host view of device bytes [address, address + bytes), which must lie in one live allocation. */
    private synchronized MemorySegment range(long address, long bytes, String op) {
        checkOpen();
        Map.Entry<Long, Allocation> e = live.floorEntry(address);
        if (e == null || address + bytes > e.getKey() + e.getValue().bytes || bytes < 0) {
            throw new CudaException("emulator: " + op + " of " + bytes + " bytes at 0x" + Long.toHexString(address)
                    + " is outside every device allocation");
        }
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    private static String guardDamage(Allocation a) {
        if (MemorySegment.mismatch(a.whole, 0, GUARD, GUARD_PATTERN, 0, GUARD) >= 0) {
            return "bytes just before the allocation of " + a.bytes + " bytes at 0x" + Long.toHexString(a.address) + " were overwritten";
        }
        long end = GUARD + a.bytes;
        if (MemorySegment.mismatch(a.whole, end, end + GUARD, GUARD_PATTERN, 0, GUARD) >= 0) {
            return "bytes just past the end of the allocation of " + a.bytes + " bytes at 0x" + Long.toHexString(a.address)
                    + " were overwritten";
        }
        return null;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    private record Allocation(long address, long bytes, Arena arena, MemorySegment whole) {}

    private sealed interface Node permits Launch, Memset, Copy {}

    private record Launch(Kernel kernel, int[] dims, KernelArgs args) implements Node {}

    private record Memset(long address, int value, long bytes) implements Node {}

    private record Copy(long dst, long src, long bytes) implements Node {}

    private record EmuGraph(List<Node> nodes) implements Graph {
        @Override
        public void close() {}
    }

    private record EmuExec(List<Node> nodes) implements GraphExec {
        @Override
        public void close() {}
    }

    /** The loaded emulator library and its entry points. */
    private record Library(Path path, SymbolLookup lookup, MethodHandle launch, MethodHandle setThreads, MethodHandle threads,
                           MethodHandle setSchedule) {
        static Library load(Path path) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
            Linker linker = Linker.nativeLinker();
            MethodHandle launch = linker.downcallHandle(find(lookup, path, "mgm_emu_launch"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle set = linker.downcallHandle(find(lookup, path, "mgm_emu_set_threads"),
                    FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
            MethodHandle threads = linker.downcallHandle(find(lookup, path, "mgm_emu_threads"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
            MethodHandle schedule = linker.downcallHandle(find(lookup, path, "mgm_emu_set_schedule"),
                    FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
            return new Library(path, lookup, launch, set, threads, schedule);
        }

        private static MemorySegment find(SymbolLookup lookup, Path path, String name) {
            return lookup.find(name).orElseThrow(() -> new IllegalStateException(path + " is not a CUDA emulator library (no " + name + ")"));
        }
    }
}
