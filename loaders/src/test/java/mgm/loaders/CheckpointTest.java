package mgm.loaders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.loaders.safetensors.SafetensorsFile;
import mgm.loaders.safetensors.SafetensorsWriter;
import mgm.loaders.torch.TorchCheckpoint;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path dir;

    private void writeSmall(Path file) {
        try (Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2); Tensor b = Tensor.of(new float[] {5}, 1)) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("model.layers.0.self_attn.q_proj.weight", a);
            m.put("model.norm.weight", b);
            SafetensorsWriter.write(file, m, Map.of("format", "pt"));
        }
    }

    @Test
    void findsTheWeightsOfAFolderInHfOrder() throws IOException {
        writeSmall(dir.resolve("model.safetensors"));
        Files.copy(Fixtures.resource("checkpoints/torch/state_dict.bin"), dir.resolve("pytorch_model.bin"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertInstanceOf(SafetensorsFile.class, c, "safetensors is preferred over .bin, as HF does");
            assertEquals(List.of("model.layers.0.self_attn.q_proj.weight", "model.norm.weight"), c.names());
        }
        Files.delete(dir.resolve("model.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertInstanceOf(TorchCheckpoint.class, c);
            assertTrue(c.contains("f32"));
        }
    }

    @Test
    void opensExplicitFilesAndIndexes() {
        try (Checkpoint c = Checkpoint.open(Fixtures.resource("checkpoints/torch/sharded/pytorch_model.bin.index.json"))) {
            assertInstanceOf(ShardedCheckpoint.class, c);
            JsonNode expected = Fixtures.json("checkpoints/torch/expected.json").get("sharded");
            assertEquals(4, c.names().size());
            for (String name : c.names()) {
                Fixtures.assertMatches(name, expected.get(name), c.tensor(name));
            }
            assertEquals(DType.F16, c.info("lm_head.weight").dtype());
            assertEquals("pytorch_model-00002-of-00002.bin", c.info("lm_head.weight").file().getFileName().toString());
        }
        try (Checkpoint c = Checkpoint.open(Fixtures.resource("checkpoints/torch/sharded"))) {
            assertInstanceOf(ShardedCheckpoint.class, c, "a folder with only pytorch_model.bin.index.json");
        }
    }

    @Test
    void missingNamesListTheNearestOnes() {
        writeSmall(dir.resolve("model.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.tensor("model.layers.0.self_attn.k_proj.weight"));
            assertTrue(e.getMessage().contains("no tensor named 'model.layers.0.self_attn.k_proj.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("did you mean 'model.layers.0.self_attn.q_proj.weight'"), e.getMessage());
            assertEquals(dir.resolve("model.safetensors"), e.file());
            CheckpointException p = assertThrows(CheckpointException.class, () -> c.info("layers.0.self_attn.q_proj.weight"));
            assertTrue(p.getMessage().contains("'model.layers.0.self_attn.q_proj.weight'"), "prefix near-miss: " + p.getMessage());
            CheckpointException none = assertThrows(CheckpointException.class, () -> c.tensor("vision_tower.something.else"));
            assertFalse(none.getMessage().contains("did you mean"), none.getMessage());
        }
    }

    @Test
    void tensorsOfAClosedCheckpointFailClearly() {
        writeSmall(dir.resolve("model.safetensors"));
        Checkpoint c = Checkpoint.open(dir);
        Tensor t = c.tensor("model.norm.weight");
        assertEquals(5f, t.getFloat(0));
        c.close();
        c.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, t::toFloatArray);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        CheckpointException again = assertThrows(CheckpointException.class, () -> c.tensor("model.norm.weight"));
        assertTrue(again.getMessage().contains("closed"), again.getMessage());
    }

    @Test
    void badFoldersAndIndexesGiveOneLineErrors() throws IOException {
        CheckpointException empty = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(empty.getMessage().contains("no model weights found"), empty.getMessage());
        assertThrows(CheckpointException.class, () -> Checkpoint.open(dir.resolve("absent")));
        Path txt = Files.writeString(dir.resolve("weights.txt"), "x");
        assertThrows(CheckpointException.class, () -> Checkpoint.open(txt));

        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"../../etc/passwd\"}}");
        CheckpointException traversal = assertThrows(CheckpointException.class, () -> Checkpoint.open(index));
        assertTrue(traversal.getMessage().contains("not a plain file name"), traversal.getMessage());

        Files.writeString(index, "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\"}}");
        CheckpointException missing = assertThrows(CheckpointException.class, () -> Checkpoint.open(index));
        assertTrue(missing.getMessage().contains("model-00001-of-00002.safetensors"), missing.getMessage());

        writeSmall(dir.resolve("model-00001-of-00001.safetensors"));
        Files.writeString(index, "{\"weight_map\": {\"absent.weight\": \"model-00001-of-00001.safetensors\"}}");
        CheckpointException notInShard = assertThrows(CheckpointException.class, () -> Checkpoint.open(index));
        assertTrue(notInShard.getMessage().contains("has no such tensor"), notInShard.getMessage());

        Files.writeString(index, "{\"weight_map\": {\"a\": \"x.safetensors\", \"b\": \"y.bin\"}}");
        assertTrue(assertThrows(CheckpointException.class, () -> Checkpoint.open(index)).getMessage().contains("mixes"));

        Files.writeString(index, "{\"weight_map\": [1, 2]}");
        assertThrows(CheckpointException.class, () -> Checkpoint.open(index));
        Files.writeString(index, "{\"weight_map\": {\"a\": \"x.safetensors\",");
        CheckpointException json = assertThrows(CheckpointException.class, () -> Checkpoint.open(index));
        assertFalse(json.getMessage().contains("\n"), "one line: " + json.getMessage());
    }
}
