package mgm.loaders;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import mgm.runtime.Tensor;

/**
 * A checkpoint split over shard files by an HF index. Every shard is opened (headers parsed and
 * validated, files mapped) up front, and every tensor the index names must be in its shard.
 */
public final class ShardedCheckpoint implements Checkpoint {
    private final ShardIndex index;
    private final Map<String, Checkpoint> shards = new HashMap<>();
    private final List<String> names;

    /** Opens every shard of {@code index} with {@code opener}; on any failure the ones opened are closed. */
    public ShardedCheckpoint(ShardIndex index, Function<Path, ? extends Checkpoint> opener) {
        this.index = index;
        try {
            for (String shard : index.shardFiles()) {
                shards.put(shard, opener.apply(index.resolve(shard)));
            }
            for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
                Checkpoint shard = shards.get(e.getValue());
                if (!shard.contains(e.getKey())) {
                    throw new CheckpointException(index.file(), "the index puts '" + e.getKey() + "' in " + e.getValue()
                            + ", which has no such tensor");
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.names = List.copyOf(index.weightMap().keySet());
    }

    public ShardIndex index() {
        return index;
    }

    @Override
    public Path path() {
        return index.file();
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return index.weightMap().containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shardOf(name).info(name);
    }

    @Override
    public Tensor tensor(String name) {
        return shardOf(name).tensor(name);
    }

    @Override
    public Map<String, String> metadata() {
        return index.metadata();
    }

    /** The open shards, by file name. */
    public List<Checkpoint> shards() {
        return new ArrayList<>(shards.values());
    }

    private Checkpoint shardOf(String name) {
        String shard = index.weightMap().get(name);
        if (shard == null) {
            throw NameSuggestions.missingTensor(index.file(), name, names);
        }
        Checkpoint c = shards.get(shard);
        if (c == null) {
            throw new CheckpointException(index.file(), "checkpoint was closed");
        }
        return c;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Checkpoint c : shards.values()) {
            try {
                c.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        shards.clear();
        if (first != null) {
            throw first;
        }
    }
}
