package mgm.model;

import java.util.Set;
import mgm.runtime.Tensor;

/** Named weight tensors of a checkpoint (host tensors, usually memory-mapped). */
public interface Weights {

    /** Whether a tensor of this name exists. */
    boolean has(String name);

    /** The tensor; throws an exception naming the missing tensor (and similar names) when absent. */
    Tensor get(String name);

    /** Every tensor name. */
    Set<String> names();
}
