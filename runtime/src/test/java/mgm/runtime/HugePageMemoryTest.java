package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class HugePageMemoryTest {
    @Test
    void largeHostStorageIsZeroFilledWritableAndReleased() {
        long bytes = HugePageMemory.MIN_BYTES + 12345;
        Storage s = Storage.allocateHost(bytes);
        MemorySegment seg = s.segment();
        assertEquals(bytes, seg.byteSize());
        assertEquals(0, seg.address() % 64);
        for (long i = 0; i < bytes; i += 4093) {
            assertEquals(0, seg.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
        }
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, bytes - 8, 0x0123456789abcdefL);
        assertEquals(0x0123456789abcdefL, seg.get(ValueLayout.JAVA_LONG_UNALIGNED, bytes - 8));
        s.close();
        assertFalse(s.isAlive());
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void onLinuxLargeAllocationsAreHugePageAligned() {
        assumeTrue(System.getProperty("os.name", "").startsWith("Linux"), "huge pages are requested on Linux only");
        assumeTrue(Boolean.parseBoolean(System.getProperty("mgm.hugepages", "true")), "-Dmgm.hugepages=false");
        try (Arena arena = Arena.ofShared()) {
            Optional<MemorySegment> seg = HugePageMemory.allocate(HugePageMemory.MIN_BYTES * 2, arena);
            assertTrue(seg.isPresent(), "mmap of an anonymous region failed");
            assertEquals(0, seg.get().address() % (2L << 20));
            seg.get().fill((byte) 7);
            assertEquals(7, seg.get().get(ValueLayout.JAVA_BYTE, seg.get().byteSize() - 1));
        }
    }

    @Test
    void smallAllocationsStayOnTheDefaultAllocator() {
        try (Arena arena = Arena.ofConfined()) {
            assertTrue(HugePageMemory.allocate(HugePageMemory.MIN_BYTES - 1, arena).isEmpty());
        }
    }
}
