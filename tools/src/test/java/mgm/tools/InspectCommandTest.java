package mgm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import mgm.model.MgmModel;
import mgm.runtime.cpu.ReferenceBackend;
import mgm.tools.tiny.TinyCheckpoints;
import mgm.tools.tiny.TinyFamily;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * inspect agrees with a real load: every tiny family (and HD, towers inside or outside the
 * checkpoint) inspects clean and loads; a config that disagrees with the weights makes both fail,
 * and inspect lists every affected tensor.
 */
class InspectCommandTest {

    @Test
    void everyFamilyInspectsCleanAndLoads(@TempDir Path tmp) {
        for (TinyFamily f : TinyFamily.values()) {
            for (boolean hd : new boolean[] {false, true}) {
                if (hd && f != TinyFamily.VICUNA && f != TinyFamily.LLAMA3) {
                    continue;
                }
                Path model = TinyCheckpoints.write(TinyCheckpoints.Options.of(f, tmp).withHd(hd)
                        .withTowersInCheckpoint(hd)).model();
                CliRun r = CliRun.run("inspect", "--model-path", model.toString());
                assertEquals(0, r.code(), f + (hd ? " hd" : "") + ": " + r.out() + r.err());
                assertTrue(r.out().contains("OK: every tensor"), r.out());
                assertTrue(r.out().contains(hd ? "2880 tokens per image" : "576 tokens per image"), r.out());
                assertTrue(r.out().lines().anyMatch(l -> l.startsWith("  --load-4bit --lm-head-8bit ")), r.out());
                try (ReferenceBackend be = new ReferenceBackend();
                     MgmModel m = MgmModel.load(MgmModel.Options.defaults(model, be))) {
                    assertEquals(hd ? 2880 : 576, m.tokensPerImage());
                }
            }
        }
    }

    @Test
    void towersCarriedByTheCheckpointNeedNoFolders(@TempDir Path tmp) throws Exception {
        Path model = TinyCheckpoints.write(TinyCheckpoints.Options.of(TinyFamily.LLAMA3, tmp).withTowersInCheckpoint(true)).model();
        deleteTree(tmp.resolve("model_zoo/OpenAI/openclip-convnext-large-d-320-laion2B-s29B-b131K-ft-soup"));
        CliRun r = CliRun.run("inspect", "--model-path", model.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("ConvNeXt tower  no folder; weights inside the checkpoint"), r.out());
        try (ReferenceBackend be = new ReferenceBackend();
             MgmModel m = MgmModel.load(MgmModel.Options.defaults(model, be))) {
            assertEquals(576, m.tokensPerImage());
        }
        // Without its folder, a carried CLIP's shape comes from the weights, which cannot tell a tiny tower's head
        // count (real ones are 64-wide heads): inspect and the load refuse alike.
        deleteTree(tmp.resolve("model_zoo"));
        r = CliRun.run("inspect", "--model-path", model.toString());
        assertEquals(3, r.code());
        assertTrue(r.out().contains("head count cannot be read from its weights"), r.out());
        try (ReferenceBackend be = new ReferenceBackend()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MgmModel.load(MgmModel.Options.defaults(model, be)).close());
            assertTrue(e.getMessage().contains("head count"), e.getMessage());
        }
        Path bare = TinyCheckpoints.write(TinyCheckpoints.Options.of(TinyFamily.YI, tmp).withTowersInCheckpoint(false)).model();
        deleteTree(tmp.resolve("model_zoo"));
        r = CliRun.run("inspect", "--model-path", bare.toString());
        assertEquals(3, r.code());
        assertTrue(r.out().contains("vision tower 'model_zoo/OpenAI/clip-vit-large-patch14-336' not found"), r.out());
        assertTrue(r.out().contains("vision tower 'model_zoo/OpenAI/openclip-convnext"), r.out());
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aConfigThatDisagreesWithTheWeightsFailsBothWays(@TempDir Path tmp) throws Exception {
        Path model = TinyCheckpoints.write(TinyCheckpoints.Options.of(TinyFamily.GEMMA, tmp)).model();
        Path config = model.resolve("config.json");
        String text = Files.readString(config);
        assertTrue(text.contains("\"intermediate_size\": 96"), text);
        Files.writeString(config, text.replace("\"intermediate_size\": 96", "\"intermediate_size\": 128"));
        CliRun r = CliRun.run("inspect", "--model-path", model.toString());
        assertEquals(3, r.code());
        long shapeProblems = r.out().lines().filter(l -> l.contains("but the config implies")).count();
        assertEquals(2 * 3, shapeProblems, "gate/up/down of both layers: " + r.out());
        assertTrue(r.err().contains("6 problem(s) found"), r.err());
        try (ReferenceBackend be = new ReferenceBackend()) {
            assertThrows(IllegalArgumentException.class, () -> MgmModel.load(MgmModel.Options.defaults(model, be)).close());
        }
    }

    @Test
    void aMissingTensorIsNamed(@TempDir Path tmp) throws Exception {
        Path model = TinyCheckpoints.write(TinyCheckpoints.Options.of(TinyFamily.VICUNA, tmp)
                .withTowersInCheckpoint(false)).model();
        Path index = model.resolve("model.safetensors.index.json");
        String text = Files.readString(index);
        // Dropping a name from the index hides the tensor from the loaders (the shard still holds it).
        String line = text.lines().filter(l -> l.contains("\"model.layers.1.self_attn.k_proj.weight\"")).findFirst().orElseThrow();
        Files.writeString(index, text.replace(line + "\n", ""));
        CliRun r = CliRun.run("inspect", "--model-path", model.toString());
        assertEquals(3, r.code(), r.out());
        assertTrue(r.out().contains("tensor 'model.layers.1.self_attn.k_proj.weight' is missing (expected shape [64, 64])"),
                r.out());
        try (Stream<Path> files = Files.list(model)) {
            assertTrue(files.count() > 3);
        }
    }
}
