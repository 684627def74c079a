package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/** The once-per-call checks that stand in for the segment's own before kernels read at absolute addresses. */
class AbsoluteMemoryTest {

    @Test
    void addressReadsTheSameBytesAsTheSegment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(256, 64);
            for (int i = 0; i < 64; i++) {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f);
            }
            long at = AbsoluteMemory.address(seg, 40, 200);
            assertEquals(seg.address() + 40, at);
            for (int i = 10; i < 60; i++) {
                assertEquals(seg.getAtIndex(ValueLayout.JAVA_FLOAT, i), AbsoluteMemory.ALL.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at + 4L * (i - 10)));
            }
            assertEquals(seg.address() + 256, AbsoluteMemory.address(seg, 256, 0), "an empty range at the end is inside");
        }
    }

    @Test
    void rangesOutsideTheSegmentAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(256, 64);
            assertThrows(IndexOutOfBoundsException.class, () -> AbsoluteMemory.address(seg, 0, 257));
            assertThrows(IndexOutOfBoundsException.class, () -> AbsoluteMemory.address(seg, 200, 57));
            assertThrows(IndexOutOfBoundsException.class, () -> AbsoluteMemory.address(seg, -1, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> AbsoluteMemory.address(seg, 8, -1));
            assertThrows(IndexOutOfBoundsException.class, () -> AbsoluteMemory.address(seg, Long.MAX_VALUE, 2), "no overflow past the end");
        }
    }

    @Test
    void heapAndClosedStorageAreRefused() {
        IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                () -> AbsoluteMemory.address(MemorySegment.ofArray(new float[16]), 0, 64));
        assertTrue(heap.getMessage().contains("off-heap"), heap.getMessage());
        MemorySegment closed;
        try (Arena arena = Arena.ofConfined()) {
            closed = arena.allocate(64);
        }
        assertThrows(IllegalStateException.class, () -> AbsoluteMemory.address(closed, 0, 64));
    }
}
