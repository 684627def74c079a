package mgm.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import mgm.runtime.DType;
import mgm.runtime.Quant;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writer -> reader for every dtype, strided inputs, quantised tensors, and a file over 2 GiB. */
class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    /** A tensor of random bytes (every bit pattern is a valid element of every dtype we store). */
    static Tensor random(DType dtype, Random rnd, long... shape) {
        Tensor t = Tensor.allocate(dtype, shape);
        MemorySegment seg = t.segment();
        for (long i = 0; i < seg.byteSize(); i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        return t;
    }

    private static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void everyDtypeRoundTripsBitExactly() {
        Random rnd = new Random(7);
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (DType d : DType.values()) {
            if (mgm.runtime.InterleavedQuant.isInterleaved(d)) {
                continue; // in-memory matmul layouts, refused by the writer (below)
            }
            long[] shape = d.isQuantized() ? new long[] {3, 64} : new long[] {2, 3, 5};
            in.put("t." + d.name().toLowerCase(), random(d, rnd, shape));
        }
        in.put("scalar", random(DType.F32, rnd));
        in.put("empty", Tensor.allocate(DType.BF16, 0, 7));
        Path file = dir.resolve("all.safetensors");
        SafetensorsWriter.write(file, in, Map.of("note", "round trip", "format", "pt"));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("note", "round trip", "format", "pt", "mgm.quant.t.q8_0", "Q8_0", "mgm.quant.t.q4_0", "Q4_0"),
                    f.metadata());
            assertEquals(in.keySet(), new java.util.HashSet<>(f.names()));
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor back = f.tensor(e.getKey());
                assertEquals(e.getValue().dtype(), back.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                assertArrayEquals(bytes(e.getValue()), bytes(back), e.getKey());
                // every tensor starts aligned to its element size, as the reference layout guarantees
                if (!back.dtype().isQuantized()) {
                    assertEquals(0, back.segment().address() % back.dtype().blockBytes(), e.getKey() + " alignment");
                }
            }
        }
        in.values().forEach(Tensor::close);
    }

    @Test
    void interleavedMatmulLayoutsAreNotWritten() {
        for (DType d : new DType[] {DType.Q8_0_R32, DType.Q4_0_R32}) {
            try (Tensor t = Tensor.allocate(d, 32, 64)) {
                Path file = dir.resolve("interleaved.safetensors");
                var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> SafetensorsWriter.write(file, Map.of("w", t), Map.of()));
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("not a file format"), e.getMessage());
                org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(file), "nothing written for " + d);
            }
        }
    }

    @Test
    void quantisedTensorsKeepTheirValues() throws IOException {
        float[] values = new float[4 * 64];
        Random rnd = new Random(3);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        try (Tensor q8 = Tensor.allocate(DType.Q8_0, 4, 64); Tensor q4 = Tensor.allocate(DType.Q4_0, 4, 64)) {
            Quant.quantizeQ8_0(values, 0, values.length, q8.segment(), 0);
            Quant.quantizeQ4_0(values, 0, values.length, q4.segment(), 0);
            Path file = dir.resolve("q.safetensors");
            SafetensorsWriter.write(file, Map.of("q8", q8, "q4", q4), null);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertArrayEquals(q8.toFloatArray(), f.tensor("q8").toFloatArray());
                assertArrayEquals(q4.toFloatArray(), f.tensor("q4").toFloatArray());
                assertArrayEquals(new long[] {4, 64}, f.info("q4").shape());
            }
            // Readers that do not know the marker see U8 rows of blocks: 64 / 32 * 34 bytes per row.
            String header = new String(readHeader(dir.resolve("q.safetensors")), StandardCharsets.UTF_8);
            assertTrue(header.contains("\"q8\":{\"dtype\":\"U8\",\"shape\":[4,68]"), header);
        }
    }

    @Test
    void stridedViewsAreWrittenInRowMajorOrder() {
        Random rnd = new Random(11);
        try (Tensor base = random(DType.F16, rnd, 4, 6, 5); Tensor q = random(DType.Q8_0, rnd, 6, 64)) {
            Map<String, Tensor> views = new LinkedHashMap<>();
            views.put("transposed", base.transpose(0, 2));
            views.put("sliced", base.slice(1, 2, 5));
            views.put("selected", base.select(2, 3));
            views.put("permuted", base.permute(1, 2, 0));
            views.put("broadcast", base.select(0, 1).select(0, 2).unsqueeze(0).broadcastTo(3, 5));
            views.put("q_rows", q.slice(0, 1, 4));
            Path file = dir.resolve("views.safetensors");
            SafetensorsWriter.write(file, views, null);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (Map.Entry<String, Tensor> e : views.entrySet()) {
                    Tensor back = f.tensor(e.getKey());
                    assertTrue(back.isContiguous());
                    assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                    assertArrayEquals(e.getValue().toFloatArray(), back.toFloatArray(), e.getKey());
                }
            }
        }
    }

    @Test
    void writesAtomicallyAndLeavesNoTemporaries() throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Tensor a = Tensor.of(new float[] {1, 2})) {
            SafetensorsWriter.write(file, Map.of("a", a), null);
        }
        byte[] before = Files.readAllBytes(file);
        Tensor closed = Tensor.of(new float[] {3});
        closed.close();
        try (Tensor b = Tensor.of(new float[] {9, 9, 9})) {
            Map<String, Tensor> bad = new LinkedHashMap<>();
            bad.put("b", b);
            bad.put("closed", closed);
            assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(file, bad, null));
        }
        assertArrayEquals(before, Files.readAllBytes(file), "a failed write leaves the old file untouched");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "no temporary files left behind");
        }
    }

    @Test
    void refusesWhatCannotBeWritten() {
        try (Tensor a = Tensor.of(new float[] {1})) {
            assertThrows(IllegalArgumentException.class,
                    () -> SafetensorsWriter.write(dir.resolve("x.safetensors"), Map.of("__metadata__", a), null));
            assertThrows(IllegalArgumentException.class,
                    () -> SafetensorsWriter.write(dir.resolve("x.safetensors"), Map.of("a", a), Map.of("mgm.quant.a", "Q8_0")));
        }
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
    }

    @Test
    void mapsFilesLargerThanTwoGiB() throws IOException {
        // A sparse 2.5 GiB file: one U8 tensor whose last bytes lie beyond 2^31.
        long n = (5L << 30) / 2;
        byte[] header = ("{\"big\":{\"dtype\":\"U8\",\"shape\":[" + n + "],\"data_offsets\":[0," + n + "]}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] padded = java.util.Arrays.copyOf(header, (header.length + 7) / 8 * 8);
        java.util.Arrays.fill(padded, header.length, padded.length, (byte) ' ');
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(padded.length).array());
            raf.write(padded);
            raf.setLength(8 + padded.length + n);
            raf.seek(8 + padded.length + n - 1);
            raf.write(42);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor t = f.tensor("big");
            assertEquals(n, t.numel());
            assertEquals(42, t.getLong(n - 1));
            assertEquals(0, t.getLong(n - 2));
        } finally {
            Files.delete(file);
        }
    }

    static byte[] readHeader(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        int n = (int) java.nio.ByteBuffer.wrap(all, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        return java.util.Arrays.copyOfRange(all, 8, 8 + n);
    }
}
