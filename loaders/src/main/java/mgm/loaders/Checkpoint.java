package mgm.loaders;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import mgm.runtime.Tensor;

/**
 * The tensors of a model on disk, whatever the format: a safetensors file, a PyTorch {@code .bin}
 * state dict, or shards of either with an HF index. Names, dtypes and shapes come from headers
 * alone (cheap: this is how downloads are validated); {@link #tensor} returns a zero-copy view of
 * the memory-mapped file. Tensors stay valid until {@link #close()}; using one afterwards fails
 * with a clear message.
 */
public interface Checkpoint extends AutoCloseable {

    /** File names looked for in a model folder, in order of preference (HF's order). */
    List<String> WEIGHT_FILES = List.of("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
            "pytorch_model.bin.index.json", "open_clip_model.safetensors", "open_clip_pytorch_model.bin");

    /**
     * Opens a model folder (the first of {@link #WEIGHT_FILES} present) or an explicit file: a
     * {@code .safetensors} file, a PyTorch checkpoint ({@code .bin}, {@code .pt}, {@code .pth}) or
     * an {@code *.index.json}.
     */
    static Checkpoint open(Path folderOrFile) {
        return CheckpointOpener.open(folderOrFile);
    }

    /** The file or index this checkpoint was opened from. */
    Path path();

    /** Tensor names in file order. */
    List<String> names();

    boolean contains(String name);

    /** Dtype and shape of {@code name} from the header; a missing name lists the nearest ones. */
    TensorInfo info(String name);

    /** A zero-copy view of tensor {@code name}; a missing name lists the nearest ones. */
    Tensor tensor(String name);

    /** Free-form string metadata (safetensors {@code __metadata__}, index {@code metadata}); may be empty. */
    Map<String, String> metadata();

    /** Unmaps the files; tensors handed out become unusable. Idempotent. */
    @Override
    void close();
}
