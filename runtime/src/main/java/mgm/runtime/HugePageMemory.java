package mgm.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Large zero-filled host allocations backed by transparent huge pages on Linux: an anonymous
 * {@code mmap} aligned to 2 MiB and advised {@code MADV_HUGEPAGE} before any page is touched.
 * With the usual {@code madvise} THP mode, memory from malloc (what {@link Arena#allocate} uses)
 * gets 4 KiB pages, and streaming weights through 4 KiB pages costs a TLB miss per page and stops
 * the hardware prefetchers at every page boundary: a BF16 GEMV over such weights measured 9-13%
 * slower than over the same bytes in huge pages. Elsewhere, or if the kernel refuses, callers
 * fall back to {@link Arena#allocate}. Memory-mapped checkpoints are advised the same way
 * ({@link #adviseMapped}). {@code -Dmgm.hugepages=false} turns both off.
 */
final class HugePageMemory {
    private HugePageMemory() {}

    private static final long HUGE = 2L << 20;

    /**
     * Allocations from this size on hold at least one whole huge page once aligned (at most 2 MiB
     * of address space wasted, no memory). It was 8 MiB, which left every layer matrix of a
     * TinyLlama-sized model (2.4-6.5 MB in Q4_0) on 4 KiB pages: its Q4_0 decode ran 5% slower
     * (in one JVM, a model built either way, rounds alternating).
     */
    static final long MIN_BYTES = HUGE;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;

    private record Calls(MethodHandle mmap, MethodHandle munmap, MethodHandle madvise) {}

    private static final Optional<Calls> CALLS = bind();

    private static Optional<Calls> bind() {
        if (!Boolean.parseBoolean(System.getProperty("mgm.hugepages", "true"))
                || !System.getProperty("os.name", "").startsWith("Linux")) {
            return Optional.empty();
        }
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG));
            MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            return Optional.of(new Calls(mmap, munmap, madvise));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty(); // no libc symbols or native access denied: plain allocations
        }
    }

    /**
     * {@code bytes} zero-filled bytes, 2 MiB aligned, unmapped when {@code arena} closes; empty when
     * the allocation is small, the platform is not Linux, or the kernel refused the mapping.
     */
    static Optional<MemorySegment> allocate(long bytes, Arena arena) {
        if (bytes < MIN_BYTES || CALLS.isEmpty()) {
            return Optional.empty();
        }
        Calls c = CALLS.get();
        long rounded = (bytes + HUGE - 1) / HUGE * HUGE;
        long length = rounded + HUGE; // room to align the start
        try {
            MemorySegment base = (MemorySegment) c.mmap().invokeExact(MemorySegment.NULL, length, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (base.address() == -1L || base.address() == 0L) {
                return Optional.empty();
            }
            long start = (base.address() + HUGE - 1) / HUGE * HUGE;
            MemorySegment aligned = MemorySegment.ofAddress(start);
            // advice only (a kernel without THP answers EINVAL and the memory stays usable), and only
            // for whole huge pages inside the allocation, so that the tail costs no extra memory
            int ignored = (int) c.madvise().invokeExact(aligned, bytes / HUGE * HUGE, MADV_HUGEPAGE);
            long baseAddress = base.address();
            return Optional.of(aligned.reinterpret(bytes, arena, seg -> unmap(c, baseAddress, length)));
        } catch (Throwable e) {
            return Optional.empty();
        }
    }

    /**
     * Advises a file mapping for transparent huge pages ({@code MADV_HUGEPAGE}), so that the page
     * cache reads the file into 2 MiB folios and maps them whole where file offset and address
     * agree (the kernel aligns large file mappings for that). {@code mapping} must start at a page
     * boundary, as a mapping does. Advice only: returns whether the kernel took it; where it does
     * not (no THP for files, another OS, {@code -Dmgm.hugepages=false}) the mapping is unchanged.
     */
    static boolean adviseMapped(MemorySegment mapping) {
        if (CALLS.isEmpty() || mapping.byteSize() < HUGE || mapping.address() % 4096 != 0) {
            return false;
        }
        try {
            return (int) CALLS.get().madvise().invokeExact(mapping, mapping.byteSize(), MADV_HUGEPAGE) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    private static void unmap(Calls c, long address, long length) {
        try {
            int ignored = (int) c.munmap().invokeExact(MemorySegment.ofAddress(address), length);
        } catch (Throwable e) {
            throw new IllegalStateException("munmap of " + length + " bytes failed", e);
        }
    }
}
