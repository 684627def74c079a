package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void fileMappingsAreAdvisedForHugePages(@TempDir Path dir) throws IOException {
        assumeTrue(System.getProperty("os.name", "").startsWith("Linux"), "huge pages are requested on Linux only");
        assumeTrue(Boolean.parseBoolean(System.getProperty("mgm.hugepages", "true")), "-Dmgm.hugepages=false");
        Path file = dir.resolve("weights.bin");
        Files.write(file, new byte[6 << 20]);
        try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            assertFalse(HugePageMemory.adviseMapped(mapping.asSlice(100)), "a slice off a page boundary is not advised");
            assertFalse(HugePageMemory.adviseMapped(mapping.asSlice(0, 1 << 20)), "under one huge page: nothing to gain");
            Storage s = Storage.wrapMappedFile(mapping, 64);
            assertEquals(mapping.address() + 64, s.segment().address());
            assertEquals(mapping.byteSize() - 64, s.byteSize());
            // the kernel lists the advice as VmFlags "hg" on the mapping
            String flags = vmFlags(mapping.address());
            assumeTrue(flags != null, "mapping not found in /proc/self/smaps");
            boolean advised = flags.contains(" hg");
            if (!advised) {
                assumeTrue(HugePageMemory.adviseMapped(mapping), "the kernel refused MADV_HUGEPAGE (built without THP)");
            }
            assertTrue(advised, "wrapMappedFile left the mapping unadvised: " + flags);
        }
    }

    /** The VmFlags line of the mapping that starts at {@code address} in /proc/self/smaps, or null. */
    private static String vmFlags(long address) throws IOException {
        String start = Long.toHexString(address) + "-";
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inside = line.startsWith(start);
            } else if (inside && line.startsWith("VmFlags:")) {
                return line;
            }
        }
        return null;
    }

    @Test
    void smallAllocationsStayOnTheDefaultAllocator() {
        try (Arena arena = Arena.ofConfined()) {
            assertTrue(HugePageMemory.allocate(HugePageMemory.MIN_BYTES - 1, arena).isEmpty());
        }
    }
}
