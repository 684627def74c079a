package mgm.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import mgm.loaders.Fixtures;
import mgm.loaders.Fuzz;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Mutated safetensors files (seeded byte flips and truncations) load or fail with a clean CheckpointException. */
class SafetensorsFuzzTest {
    private static final int CASES = Integer.getInteger("mgm.fuzz.cases", 300);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void mutatedReferenceFile() throws IOException {
        run(Files.readAllBytes(Fixtures.resource("checkpoints/safetensors/all_dtypes.safetensors")), 1);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void mutatedQuantisedFile() throws IOException {
        Random rnd = new Random(5);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("q8", SafetensorsRoundTripTest.random(DType.Q8_0, rnd, 2, 64));
        m.put("q4", SafetensorsRoundTripTest.random(DType.Q4_0, rnd, 3, 32));
        m.put("f", SafetensorsRoundTripTest.random(DType.F32, rnd, 5));
        Path valid = dir.resolve("valid.safetensors");
        SafetensorsWriter.write(valid, m, Map.of("format", "pt"));
        m.values().forEach(Tensor::close);
        run(Files.readAllBytes(valid), 2);
    }

    private void run(byte[] valid, long seed) {
        Random rnd = new Random(seed);
        Path file = dir.resolve("mutant.safetensors");
        int loaded = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] mutant = Fuzz.mutate(valid, rnd);
            if (Fuzz.loadsOrFailsCleanly(file, mutant, SafetensorsFile::open, "seed " + seed + " case " + i)) {
                loaded++;
            }
        }
        // Flips in the data area load fine; flips in the header or truncations must be caught.
        assertTrue(loaded > 0 && loaded < CASES, "loaded " + loaded + " of " + CASES);
    }
}
