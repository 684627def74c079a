package mgm.loaders;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import mgm.runtime.JsonStrings;

/**
 * The index of a sharded HF checkpoint ({@code model.safetensors.index.json},
 * {@code pytorch_model.bin.index.json}): which shard file holds each tensor.
 *
 * @param file      the index file
 * @param weightMap tensor name to shard file name (a plain name in the index's folder), in file order
 * @param metadata  the {@code metadata} object, values as text (e.g. {@code total_size})
 */
public record ShardIndex(Path file, Map<String, String> weightMap, Map<String, String> metadata) {
    public ShardIndex {
        weightMap = Collections.unmodifiableMap(new LinkedHashMap<>(weightMap));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** Reads and validates an index file. */
    public static ShardIndex read(Path file) {
        JsonNode root = JsonFiles.read(file, "shard index");
        if (!root.isObject()) {
            throw new CheckpointException(file, "shard index must be a JSON object, not " + JsonFiles.typeOf(root));
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(file, "shard index has no \"weight_map\" object");
        }
        if (map.isEmpty()) {
            throw new CheckpointException(file, "shard index lists no tensors");
        }
        Map<String, String> weights = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw new CheckpointException(file, "weight_map entry '" + e.getKey() + "' must name a file, not " + JsonFiles.typeOf(v));
            }
            weights.put(e.getKey(), checkShardName(file, e.getKey(), v.textValue()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        JsonNode m = root.get("metadata");
        if (m != null && !m.isNull()) {
            if (!m.isObject()) {
                throw new CheckpointException(file, "\"metadata\" must be an object, not " + JsonFiles.typeOf(m));
            }
            for (Map.Entry<String, JsonNode> e : m.properties()) {
                meta.put(e.getKey(), e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString());
            }
        }
        return new ShardIndex(file, weights, meta);
    }

    /** The shard file names in order of first appearance. */
    public List<String> shardFiles() {
        return new ArrayList<>(new LinkedHashSet<>(weightMap.values()));
    }

    /** The path of a shard named in this index. */
    public Path resolve(String shard) {
        Path dir = file.toAbsolutePath().getParent();
        return dir.resolve(shard);
    }

    /**
     * The index text exactly as transformers' {@code save_pretrained} writes it:
     * {@code json.dumps({"metadata": {"total_size": N}, "weight_map": {...}}, indent=2, sort_keys=True) + "\n"}.
     */
    public static String toJson(long totalSize, Map<String, String> weightMap) {
        List<String> names = new ArrayList<>(weightMap.keySet());
        names.sort(JsonStrings::compareCodePoints);
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"metadata\": {\n    \"total_size\": ").append(totalSize).append("\n  },\n  \"weight_map\": {");
        for (int i = 0; i < names.size(); i++) {
            b.append(i == 0 ? "\n" : ",\n").append("    ").append(JsonStrings.quoteAscii(names.get(i))).append(": ")
                    .append(JsonStrings.quoteAscii(weightMap.get(names.get(i))));
        }
        b.append(names.isEmpty() ? "}" : "\n  }").append("\n}\n");
        return b.toString();
    }

    /** Shard names must be plain file names beside the index: no folders, no way out of the model folder. */
    private static String checkShardName(Path file, String tensor, String shard) {
        if (shard.isEmpty() || shard.equals(".") || shard.equals("..") || shard.contains("/") || shard.contains("\\")
                || shard.indexOf('\0') >= 0 || shard.contains(":")) {
            throw new CheckpointException(file, "weight_map entry '" + tensor + "' names '" + shard
                    + "', which is not a plain file name in the index's folder");
        }
        return shard;
    }
}
