package mgm.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .npy layout as numpy's format 1.0 documents it: magic, version, header length, padded dict, data. */
class NpyWriterTest {

    @Test
    void writesAReadableFloat32Matrix(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("x.npy");
        float[] values = {1f, -2.5f, 3f, 0.125f, 5f, -6f};
        try (Arena arena = Arena.ofConfined(); NpyWriter w = new NpyWriter(out, 2, 3)) {
            MemorySegment seg = arena.allocate(values.length * 4L);
            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
            w.writeRows(seg.asSlice(0, 12), 1);
            w.writeRows(seg.asSlice(12, 12), 1);
            w.commit();
        }
        byte[] b = Files.readAllBytes(out);
        assertEquals((byte) 0x93, b[0]);
        assertEquals("NUMPY", new String(b, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, b[6]);
        assertEquals(0, b[7]);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64, "data starts 64-byte aligned");
        String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
        assertTrue(header.endsWith("\n"));
        ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLen, b.length - 10 - headerLen).order(ByteOrder.LITTLE_ENDIAN);
        float[] back = new float[6];
        data.asFloatBuffer().get(back);
        assertArrayEquals(values, back);
    }

    @Test
    void anUnfinishedFileLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("y.npy");
        try (NpyWriter w = new NpyWriter(out, 2, 2)) {
            assertThrows(IllegalStateException.class, w::commit);
        }
        assertFalse(Files.exists(out));
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count(), "no temporary file left");
        }
    }
}
