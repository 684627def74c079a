package mgm.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import mgm.runtime.Tensor;

/** Weights held in a map (tests, generated checkpoints before they are written). */
public final class MapWeights implements Weights {
    private final Map<String, Tensor> tensors;

    public MapWeights(Map<String, Tensor> tensors) {
        this.tensors = new LinkedHashMap<>(tensors);
    }

    @Override
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("tensor '" + name + "' is missing");
        }
        return t;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }
}
