package mgm.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import mgm.loaders.Checkpoint;
import mgm.loaders.Fixtures;
import mgm.loaders.ShardIndex;
import mgm.loaders.ShardedCheckpoint;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {
    @TempDir
    Path dir;

    private final List<Tensor> owned = new ArrayList<>();

    @AfterEach
    void free() {
        owned.forEach(Tensor::close);
    }

    /** Tensors of the given byte sizes (F32), named t0, t1, ... in order. */
    private Map<String, Tensor> tensors(long... bytes) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < bytes.length; i++) {
            Tensor t = Tensor.allocate(DType.F32, bytes[i] / 4);
            for (long j = 0; j < t.numel(); j++) {
                t.setFloat(i * 1000 + j, j);
            }
            owned.add(t);
            m.put("t" + i, t);
        }
        return m;
    }

    @Test
    void packsLikeTransformers() {
        // limit 100: [40, 40] | [32, 60] | [120 alone, placed when met] ...
        List<Map<String, Tensor>> shards = ShardedSafetensorsWriter.split(tensors(40, 40, 32, 60, 120, 8), 100);
        List<List<String>> names = shards.stream().map(s -> List.copyOf(s.keySet())).toList();
        assertEquals(List.of(List.of("t0", "t1"), List.of("t4"), List.of("t2", "t3", "t5")), names);
    }

    @Test
    void writesShardsAndAnIndexThatReadBack() throws IOException {
        Map<String, Tensor> in = tensors(40, 40, 32, 60, 120, 8);
        List<Path> files = ShardedSafetensorsWriter.write(dir, in, Map.of("format", "pt"), 100);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"),
                files.stream().map(p -> p.getFileName().toString()).toList());
        ShardIndex index = ShardIndex.read(dir.resolve("model.safetensors.index.json"));
        assertEquals("300", index.metadata().get("total_size"));
        assertEquals("model-00002-of-00003.safetensors", index.weightMap().get("t4"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertTrue(c instanceof ShardedCheckpoint);
            assertEquals(List.of("t0", "t1", "t2", "t3", "t4", "t5"), c.names(), "index order: sorted names");
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), c.tensor(e.getKey()).toFloatArray(), e.getKey());
            }
        }
    }

    @Test
    void indexTextIsExactlyWhatPythonJsonWrites() throws IOException {
        Map<String, String> wm = new LinkedHashMap<>();
        wm.put("b.weight", "model-00002-of-00002.safetensors");
        wm.put("a.weight", "model-00001-of-00002.safetensors");
        wm.put("caf\u00e9.\u2603", "model-00001-of-00002.safetensors");
        assertEquals(Files.readString(Fixtures.resource("checkpoints/safetensors/index_format.json")), ShardIndex.toJson(1234, wm));
    }

    @Test
    void aCheckpointThatFitsOneShardIsASingleFileAndStaleShardsGo() throws IOException {
        ShardedSafetensorsWriter.write(dir, tensors(40, 40, 40), null, 50);
        assertTrue(Files.exists(dir.resolve("model-00003-of-00003.safetensors")));
        List<Path> files = ShardedSafetensorsWriter.write(dir, tensors(40, 40), null, 1000);
        assertEquals(List.of(dir.resolve("model.safetensors")), files);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("model.safetensors"), s.map(p -> p.getFileName().toString()).toList());
        }
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(2, c.names().size());
        }
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
    }
}
