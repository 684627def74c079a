package mgm.loaders.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mgm.loaders.CheckpointException;
import mgm.loaders.Fixtures;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against files written by torch.save (PyTorch 1.13), with values recorded by torch itself. */
class TorchCheckpointTest {
    private static final JsonNode EXPECTED = Fixtures.json("checkpoints/torch/expected.json");

    @TempDir
    Path dir;

    private static Path fixture(String name) {
        return Fixtures.resource("checkpoints/torch/" + name);
    }

    @Test
    void readsAStateDictOfEveryDtypeAndLayout() {
        try (TorchCheckpoint c = TorchCheckpoint.open(fixture("state_dict.bin"))) {
            JsonNode expected = EXPECTED.get("state_dict.bin");
            assertEquals(List.of("f32", "f16", "bf16", "f64", "i64", "i32", "i16", "i8", "u8", "bool", "transposed",
                    "shared.base", "shared.view", "expanded", "scalar", "empty", "param"), c.names());
            for (String name : c.names()) {
                Fixtures.assertMatches(name, expected.get(name), c.tensor(name));
            }
            Tensor t = c.tensor("transposed");
            assertFalse(t.isContiguous());
            assertArrayEquals(new long[] {1, 5}, t.strides());
            assertArrayEquals(new long[] {0, 1}, c.tensor("expanded").strides());
        }
    }

    @Test
    void sharedStoragesStayShared() {
        try (TorchCheckpoint c = TorchCheckpoint.open(fixture("state_dict.bin"))) {
            Tensor base = c.tensor("shared.base");
            Tensor view = c.tensor("shared.view");
            assertSame(base.storage(), view.storage(), "one storage, as in torch");
            assertEquals(6, view.offset());
            assertEquals(base.getFloat(1, 2), view.getFloat(0, 0));
        }
    }

    @Test
    void storedStoragesAreSlicesOfTheMappedFile() throws IOException {
        try (TorchCheckpoint c = TorchCheckpoint.open(fixture("state_dict.bin"))) {
            Tensor t = c.tensor("f32");
            assertTrue(t.storage().segment().isMapped(), "zero copy: the storage is the mapped zip entry");
            // torch aligns entry data to 64 bytes; the mapping honours the local header's padding
            byte[] file = Files.readAllBytes(fixture("state_dict.bin"));
            byte[] want = t.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            assertTrue(indexOf(file, want) >= 0);
        }
    }

    @Test
    void flattensNestedDictsAndLists() {
        try (TorchCheckpoint c = TorchCheckpoint.open(fixture("nested.bin"))) {
            JsonNode expected = EXPECTED.get("nested.bin");
            assertEquals(List.of("model.weight", "model.bias", "list.0", "list.1"), c.names());
            for (String name : c.names()) {
                Fixtures.assertMatches(name, expected.get(name), c.tensor(name));
            }
        }
    }

    @Test
    void refusesPicklesThatReferenceOtherGlobals() {
        assertRefused("evil_system.bin", "refusing to load global 'posix.system'");
        assertRefused("evil_eval.bin", "refusing to load global '__builtin__.eval'");
        assertRefused("evil_class.bin", "refusing to load global '__main__.Custom'");
        assertRefused("legacy.bin", "legacy PyTorch format");
    }

    private static void assertRefused(String name, String expected) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(fixture(name)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(fixture(name), e.file());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void readsDeflatedEntriesAndZip64Directories() throws IOException {
        Map<String, byte[]> entries = Zips.read(fixture("state_dict.bin"));
        Path deflated = dir.resolve("deflated.bin");
        Files.write(deflated, Zips.write(entries, entries.keySet()));
        Path zip64 = dir.resolve("zip64.bin");
        Files.write(zip64, Zips.toZip64(Zips.write(entries, Set.of())));
        JsonNode expected = EXPECTED.get("state_dict.bin");
        for (Path p : List.of(deflated, zip64)) {
            try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
                for (String name : c.names()) {
                    Fixtures.assertMatches(p.getFileName() + " " + name, expected.get(name), c.tensor(name));
                }
            }
        }
    }

    @Test
    void refusesZipBombs() throws IOException {
        // A real-looking checkpoint whose one storage is 64 MiB of zeros, deflated about 1000:1.
        long numel = 16L << 20;
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", Pickles.oneTensor("big", "0", "FloatStorage", numel, 0, new long[] {numel}, new long[] {1}));
        entries.put("archive/data/0", new byte[(int) numel * 4]);
        entries.put("archive/version", "3\n".getBytes());
        Path file = dir.resolve("bomb.bin");
        Files.write(file, Zips.write(entries, Set.of("archive/data/0")));
        assertTrue(Files.size(file) < (1 << 20));

        try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
            assertEquals(numel, c.info("big").numel(), "the header alone reads without inflating anything");
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.tensor("big"));
            assertTrue(e.getMessage().contains("ratio above 200") && e.getMessage().contains("zip bomb"), e.getMessage());
        }
        try (TorchCheckpoint c = TorchCheckpoint.open(file, new ZipLimits(1 << 20, 16 << 20, 5000, 100))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.tensor("big"));
            assertTrue(e.getMessage().contains("limit of 16777216 inflated bytes per file"), e.getMessage());
        }
        try (TorchCheckpoint c = TorchCheckpoint.open(file, new ZipLimits(1 << 20, 1L << 30, 5000, 100))) {
            Tensor big = c.tensor("big");
            assertEquals(0f, big.getFloat(numel - 1), "within generous limits the entry inflates");
            assertFalse(big.storage().segment().isMapped());
        }
    }

    @Test
    void refusesTensorsOutsideTheirStorage() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", Pickles.oneTensor("w", "0", "FloatStorage", 6, 1, new long[] {2, 3}, new long[] {3, 1}));
        entries.put("archive/data/0", new byte[24]);
        Path file = dir.resolve("oob.bin");
        Files.write(file, Zips.write(entries, Set.of()));
        assertMessage(file, "reaches outside its storage '0' of 6 elements");
        entries.put("archive/data.pkl", Pickles.oneTensor("w", "0", "FloatStorage", 7, 0, new long[] {7}, new long[] {1}));
        Files.write(file, Zips.write(entries, Set.of()));
        assertMessage(file, "should hold 7 x 4 bytes, but its entry has 24");
        entries.put("archive/data.pkl", Pickles.oneTensor("w", "../0", "FloatStorage", 6, 0, new long[] {6}, new long[] {1}));
        Files.write(file, Zips.write(entries, Set.of()));
        assertMessage(file, "invalid storage key");
    }

    @Test
    void refusesEntriesThatInflateBeyondTheirDeclaredSize() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>(Zips.read(fixture("state_dict.bin")));
        String pkl = entries.keySet().stream().filter(n -> n.endsWith("data.pkl")).findFirst().orElseThrow();
        byte[] zip = Zips.write(entries, Set.of(pkl));
        int cd = Zips.central(zip, pkl);
        int declared = Zips.le(zip).getInt(cd + 24);
        Zips.le(zip).putInt(cd + 24, declared - 10); // central directory now under-declares the inflated size
        Path file = dir.resolve("lying.bin");
        Files.write(file, zip);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("more than the " + (declared - 10) + " bytes it declares"), e.getMessage());

        Zips.le(zip).putInt(cd + 24, declared + 10);
        Files.write(file, zip);
        CheckpointException shorter = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file));
        assertTrue(shorter.getMessage().contains("fewer than"), shorter.getMessage());
    }

    @Test
    void refusesBrokenArchives() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>(Zips.read(fixture("state_dict.bin")));
        String root = entries.keySet().iterator().next().split("/")[0] + "/";
        Path file = dir.resolve("x.bin");

        Map<String, byte[]> noPickle = new LinkedHashMap<>(entries);
        noPickle.remove(root + "data.pkl");
        Files.write(file, Zips.write(noPickle, Set.of()));
        assertMessage(file, "no <folder>/data.pkl");

        Map<String, byte[]> noStorage = new LinkedHashMap<>(entries);
        noStorage.remove(root + "data/3");
        Files.write(file, Zips.write(noStorage, Set.of()));
        assertMessage(file, "has no archive entry '" + root + "data/3'");

        Map<String, byte[]> bigEndian = new LinkedHashMap<>(entries);
        bigEndian.put(root + "byteorder", "big".getBytes());
        Files.write(file, Zips.write(bigEndian, Set.of()));
        assertMessage(file, "big-endian");

        byte[] zip = Zips.write(entries, Set.of());
        byte[] encrypted = zip.clone();
        int cd = Zips.central(encrypted, root + "data.pkl");
        Zips.le(encrypted).putShort(cd + 8, (short) 1);
        Files.write(file, encrypted);
        assertMessage(file, "encrypted");

        byte[] bzip = zip.clone();
        Zips.le(bzip).putShort(cd + 10, (short) 12);
        Files.write(file, bzip);
        assertMessage(file, "compression method 12");

        byte[] badCrc = zip.clone();
        Zips.le(badCrc).putInt(cd + 16, Zips.le(badCrc).getInt(cd + 16) ^ 1);
        Files.write(file, badCrc);
        assertMessage(file, "CRC");

        Files.write(file, java.util.Arrays.copyOf(zip, zip.length - 30));
        assertMessage(file, "end-of-central-directory");

        Files.write(file, new byte[0]);
        assertMessage(file, "not a PyTorch checkpoint");
    }

    private static void assertMessage(Path file, String expected) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
                c.names().forEach(c::tensor);
            }
        });
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
