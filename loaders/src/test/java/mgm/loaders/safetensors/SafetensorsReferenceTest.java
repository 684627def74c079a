package mgm.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import mgm.loaders.Fixtures;
import mgm.loaders.TensorInfo;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a file written by the reference safetensors library (make_fixtures.py). */
class SafetensorsReferenceTest {
    private static final Path FILE = Fixtures.resource("checkpoints/safetensors/all_dtypes.safetensors");

    @TempDir
    Path dir;

    @Test
    void readsEveryDtypeTheReferenceWrote() {
        JsonNode expected = Fixtures.json("checkpoints/safetensors/expected.json");
        try (SafetensorsFile f = SafetensorsFile.open(FILE)) {
            assertEquals(expected.size(), f.names().size());
            assertEquals(Map.of("format", "pt"), f.metadata());
            for (String name : f.names()) {
                Fixtures.assertMatches(name, expected.get(name), f.tensor(name));
                TensorInfo info = f.info(name);
                assertArrayEquals(f.tensor(name).shape(), info.shape());
            }
        }
    }

    @Test
    void tensorsAreViewsOfTheMapping() {
        try (SafetensorsFile f = SafetensorsFile.open(FILE)) {
            Tensor a = f.tensor("w.f32");
            Tensor b = f.tensor("z.second_f32");
            assertEquals(a.storage(), b.storage(), "one mapped storage for the whole file, no copies");
            long[] off = f.dataOffsets("z.second_f32");
            assertEquals(off[0], b.byteOffset());
        }
    }

    @Test
    void rewritingTheReferenceFileGivesTheSameBytes() throws IOException {
        Path out = dir.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(FILE)) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String name : f.names().reversed()) {
                all.put(name, f.tensor(name)); // order given does not matter: the writer orders like the reference
            }
            SafetensorsWriter.write(out, all, f.metadata());
        }
        assertArrayEquals(Files.readAllBytes(FILE), Files.readAllBytes(out));
    }
}
