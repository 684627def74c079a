package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Off-heap storage read at absolute addresses through one segment that spans all memory: the
 * access path of the decode kernels (GEMV, decode attention). A vector load from a segment passed as a
 * parameter is compiled from the JVM-wide type profile of the library's segment accessors, shared
 * by every vector load and store in the program: with native and mapped segments in it (a model's
 * own tensors and its memory-mapped weights) each access carries a type switch, and one heap segment
 * anywhere slowed them further (cache-resident, one core: Q8_0 GEMV 25 -> 16 GB/s with mapped
 * segments in the profile, 11-12 with heap ones; BF16 37 -> 22 / 14-15; {@code
 * mgm.bench.SegmentProfileReport}). Loads from this {@code static final} segment compile to the
 * native access alone, whatever the profile.
 *
 * <p>The price is the segment's checks: {@link #address} makes them once per call (range within the
 * segment, native storage, still alive), and the kernels must stay within the range they were
 * given. Callers hold the tensors for the duration of the op (ops are synchronised on the backend,
 * tensors are closed by their owner), so a range checked at the start stays valid to its end.
 */
final class AbsoluteMemory {
    private AbsoluteMemory() {}

    /** All of memory: reads at {@code address(seg, ...) + offset}. */
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /**
     * The absolute address of byte {@code offset} of seg, after checking that
     * {@code [offset, offset + bytes)} lies within seg, that seg is off heap and that its storage is
     * still alive.
     */
    static long address(MemorySegment seg, long offset, long bytes) {
        if (!seg.isNative()) {
            throw new IllegalArgumentException("cpu backend: a kernel's operand is not off-heap storage: " + seg);
        }
        if (!seg.scope().isAlive()) {
            throw new IllegalStateException("cpu backend: a kernel's operand was closed");
        }
        if (offset < 0 || bytes < 0 || offset > seg.byteSize() - bytes) {
            throw new IndexOutOfBoundsException("cpu backend: bytes [" + offset + ", " + (offset + bytes) + ") outside storage of "
                    + seg.byteSize() + " bytes");
        }
        return seg.address() + offset;
    }
}
