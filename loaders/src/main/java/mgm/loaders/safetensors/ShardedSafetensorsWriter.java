package mgm.loaders.safetensors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import mgm.loaders.CheckpointException;
import mgm.loaders.ShardIndex;
import mgm.runtime.Tensor;

/**
 * Writes a checkpoint the way transformers' {@code save_pretrained} does: tensors are packed in
 * the order given into shards of at most {@code maxShardBytes} (a larger tensor gets a shard of
 * its own), named {@code model-00001-of-0000N.safetensors}, with {@code model.safetensors.index.json};
 * a checkpoint that fits one shard is a single {@code model.safetensors} and no index.
 *
 * <p>All files are written to temporaries first and renamed into place only when every one is
 * complete; shards and an index of an earlier save with another shard count are removed after.
 */
public final class ShardedSafetensorsWriter {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    private static final Pattern SHARD = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    private ShardedSafetensorsWriter() {}

    /**
     * Writes {@code tensors} (iteration order decides the packing) into {@code folder}; every
     * shard carries {@code metadata}. Returns the files written, index last.
     */
    public static List<Path> write(Path folder, Map<String, Tensor> tensors, Map<String, String> metadata, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("max shard size must be positive, not " + maxShardBytes);
        }
        List<Map<String, Tensor>> shards = split(tensors, maxShardBytes);
        int n = shards.size();
        List<Path> targets = new ArrayList<>();
        List<SafetensorsWriter.Layout> layouts = new ArrayList<>();
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < n; i++) {
            String name = n == 1 ? SINGLE : String.format("model-%05d-of-%05d.safetensors", i + 1, n);
            targets.add(folder.resolve(name));
            layouts.add(SafetensorsWriter.Layout.of(shards.get(i), metadata));
            for (Map.Entry<String, Tensor> e : shards.get(i).entrySet()) {
                weightMap.put(e.getKey(), name);
                total += e.getValue().byteSize();
            }
        }
        List<Path> temps = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Path tmp = AtomicFiles.temp(targets.get(i));
                temps.add(tmp);
                SafetensorsWriter.writeTo(tmp, layouts.get(i));
            }
            Path index = folder.resolve(INDEX);
            if (n > 1) {
                Path tmp = AtomicFiles.temp(index);
                temps.add(tmp);
                Files.writeString(tmp, ShardIndex.toJson(total, weightMap), StandardCharsets.UTF_8);
                targets.add(index);
            }
            for (int i = 0; i < temps.size(); i++) {
                AtomicFiles.commit(temps.get(i), targets.get(i));
            }
            removeStale(folder, targets);
            return List.copyOf(targets);
        } catch (IOException e) {
            temps.forEach(AtomicFiles::deleteQuietly);
            throw new CheckpointException(folder, "cannot write sharded checkpoint: " + e, e);
        } catch (RuntimeException e) {
            temps.forEach(AtomicFiles::deleteQuietly);
            throw e;
        }
    }

    /** HF's packing: in order; a tensor above the limit gets its own shard; otherwise start a new shard when full. */
    static List<Map<String, Tensor>> split(Map<String, Tensor> tensors, long maxShardBytes) {
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long currentBytes = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long bytes = e.getValue().byteSize();
            if (bytes > maxShardBytes) {
                shards.add(new LinkedHashMap<>(Map.of(e.getKey(), e.getValue())));
                continue;
            }
            if (currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    /** Deletes shard files and an index left by an earlier save that the new one does not use. */
    private static void removeStale(Path folder, List<Path> written) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                boolean ours = SHARD.matcher(name).matches() || name.equals(INDEX) || name.equals(SINGLE);
                if (ours && !written.contains(p)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
