package mgm.loaders.torch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mgm.loaders.Fixtures;
import mgm.loaders.Fuzz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Mutated torch.save files load or fail with a clean CheckpointException, never anything else. */
class TorchFuzzTest {
    private static final int CASES = Integer.getInteger("mgm.fuzz.cases", 300);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void mutatedArchives() throws IOException {
        for (String name : new String[] {"state_dict.bin", "nested.bin"}) {
            byte[] valid = Files.readAllBytes(Fixtures.resource("checkpoints/torch/" + name));
            Random rnd = new Random(name.hashCode());
            int loaded = 0;
            for (int i = 0; i < CASES; i++) {
                if (Fuzz.loadsOrFailsCleanly(dir.resolve("m.bin"), Fuzz.mutate(valid, rnd), TorchCheckpoint::open, name + " case " + i)) {
                    loaded++;
                }
            }
            assertTrue(loaded < CASES, name + ": every mutant loaded");
        }
    }

    /**
     * The same with a mutated pickle re-zipped with a correct CRC, so that the unpickler, the
     * policy and the tensor bounds checks see the damage (the CRC check would catch most first).
     * Deflated variants exercise the inflater with corrupt streams.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void mutatedPicklesAndDeflateStreams() {
        for (String name : new String[] {"state_dict.bin", "nested.bin"}) {
            Map<String, byte[]> entries = Zips.read(Fixtures.resource("checkpoints/torch/" + name));
            String pkl = entries.keySet().stream().filter(n -> n.endsWith("/data.pkl")).findFirst().orElseThrow();
            Random rnd = new Random(~name.hashCode());
            int loaded = 0;
            for (int i = 0; i < CASES; i++) {
                Map<String, byte[]> m = new LinkedHashMap<>(entries);
                m.put(pkl, Fuzz.mutate(entries.get(pkl), rnd));
                byte[] zip = Zips.write(m, i % 3 == 0 ? m.keySet() : Set.of());
                if (i % 3 == 0) {
                    zip = Fuzz.mutate(zip, rnd); // damage deflate streams too
                }
                if (Fuzz.loadsOrFailsCleanly(dir.resolve("p.bin"), zip, TorchCheckpoint::open, name + " pickle case " + i)) {
                    loaded++;
                }
            }
            assertTrue(loaded < CASES, name + ": every mutant loaded");
        }
    }
}
