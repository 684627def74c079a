package mgm.model.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import com.fasterxml.jackson.databind.JsonNode;
import mgm.loaders.Checkpoint;
import mgm.loaders.safetensors.SafetensorsWriter;
import mgm.runtime.Tensor;

/** Altered copies of a tiny model folder (patched config.json, a tensor removed) for tests. */
public final class ModelCopies {
    private ModelCopies() {}

    /** Copies every file of {@code model} into {@code dir} and lays {@code patch} (JSON object) over config.json. */
    public static Path withConfigPatch(Path model, Path dir, JsonNode patch) {
        try {
            copyFiles(model, dir);
            ObjectMapper m = new ObjectMapper();
            ObjectNode cfg = (ObjectNode) m.readTree(model.resolve("config.json").toFile());
            for (Iterator<Map.Entry<String, JsonNode>> it = patch.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                cfg.set(e.getKey(), e.getValue());
            }
            m.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), cfg);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the model's non-weight files, and its tensors except {@code drop} into one model.safetensors. */
    public static Path without(Path model, Path dir, String drop) {
        try (Checkpoint ckpt = Checkpoint.open(model); Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (!n.endsWith(".safetensors") && !n.endsWith(".index.json")) {
                    Files.copy(f, dir.resolve(n));
                }
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : ckpt.names()) {
                if (!name.equals(drop)) {
                    tensors.put(name, ckpt.tensor(name));
                }
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copyFiles(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }
}
