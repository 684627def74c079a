package mgm.model;

import java.util.LinkedHashSet;
import java.util.Set;
import mgm.loaders.Checkpoint;
import mgm.runtime.Tensor;

/** {@link Weights} over a checkpoint on disk (zero-copy, memory-mapped tensors). */
public final class CheckpointWeights implements Weights {
    private final Checkpoint checkpoint;

    public CheckpointWeights(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    @Override
    public boolean has(String name) {
        return checkpoint.contains(name);
    }

    @Override
    public Tensor get(String name) {
        return checkpoint.tensor(name);
    }

    @Override
    public Set<String> names() {
        return new LinkedHashSet<>(checkpoint.names());
    }
}
