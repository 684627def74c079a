package mgm.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import mgm.loaders.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each malformed file gives one clean CheckpointException that names the file and the problem. */
class SafetensorsBadInputTest {
    @TempDir
    Path dir;

    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, b.array());
        return f;
    }

    private String fails(Path f, String expected) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f).close());
        assertEquals(f, e.file());
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void truncatedAndOversizedHeaders() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        fails(f, "too short");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L).array());
        fails(f, "100000000-byte limit");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array());
        fails(f, "limit");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100).array());
        fails(f, "runs past the end");
        fails(file("[1, 2]", 0), "does not start with '{'");
        fails(file("{\"a\": ", 0), "not valid JSON");
        fails(file("{} trailing", 0), "not valid JSON");
        Path missingData = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        fails(missingData, "not inside the 8-byte data area");
    }

    @Test
    void inconsistentTensorEntries() throws IOException {
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16), "= 12 bytes, but its data_offsets span 16");
        fails(file("{\"a\":{\"dtype\":\"Q9\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4), "unknown dtype 'Q9'");
        fails(file("{\"a\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unsupported dtype 'U32'");
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "not a non-negative integer");
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), "not a non-negative integer");
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4), "not inside");
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "must have 2 entries");
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,4]}}", 4), "too large");
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4), "non-negative integer");
        fails(file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "no dtype");
        fails(file("{\"a\":[1]}", 4), "must be described by an object");
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "Duplicate field 'a'");
    }

    @Test
    void overlappingTensors() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        fails(file(h, 12), "overlap");
        // empty tensors may sit anywhere, even inside another tensor's bytes
        String empty = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}";
        SafetensorsFile.open(file(empty, 8)).close();
    }

    @Test
    void metadataAndQuantMarkers() throws IOException {
        fails(file("{\"__metadata__\":{\"a\":1}}", 0), "must be a string");
        fails(file("{\"__metadata__\":[1]}", 0), "must be an object of strings");
        String u8 = "\"q\":{\"dtype\":\"U8\",\"shape\":[2,34],\"data_offsets\":[0,68]}";
        fails(file("{\"__metadata__\":{\"mgm.quant.x\":\"Q8_0\"}," + u8 + "}", 68), "not in the file");
        fails(file("{\"__metadata__\":{\"mgm.quant.q\":\"Q2_K\"}," + u8 + "}", 68), "unknown quantisation 'Q2_K'");
        fails(file("{\"__metadata__\":{\"mgm.quant.q\":\"Q4_0\"}," + u8 + "}", 68), "not U8 rows of whole 18-byte blocks");
        try (SafetensorsFile f = SafetensorsFile.open(file("{\"__metadata__\":{\"mgm.quant.q\":\"Q8_0\"}," + u8 + "}", 68))) {
            assertEquals(mgm.runtime.DType.Q8_0, f.info("q").dtype());
            assertEquals(32, f.info("q").shape()[1], "34 bytes = one block of 32");
        }
    }
}
