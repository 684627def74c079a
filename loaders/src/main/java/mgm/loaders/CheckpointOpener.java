package mgm.loaders;

import java.nio.file.Files;
import java.nio.file.Path;
import mgm.loaders.safetensors.SafetensorsFile;
import mgm.loaders.torch.TorchCheckpoint;

/** Finds the weights of a model folder and picks the reader for a file. */
final class CheckpointOpener {
    private CheckpointOpener() {}

    static Checkpoint open(Path path) {
        if (Files.isDirectory(path)) {
            for (String name : Checkpoint.WEIGHT_FILES) {
                Path f = path.resolve(name);
                if (Files.isRegularFile(f)) {
                    return openFile(f);
                }
            }
            throw new CheckpointException(path, "no model weights found: looked for " + String.join(", ", Checkpoint.WEIGHT_FILES));
        }
        if (!Files.exists(path)) {
            throw new CheckpointException(path, "no such file or folder");
        }
        return openFile(path);
    }

    private static Checkpoint openFile(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".index.json")) {
            ShardIndex index = ShardIndex.read(file);
            String first = index.shardFiles().getFirst();
            boolean safetensors = isSafetensorsName(first);
            for (String shard : index.shardFiles()) {
                if (isSafetensorsName(shard) != safetensors) {
                    throw new CheckpointException(file, "shard index mixes safetensors and PyTorch shards ('" + first
                            + "', '" + shard + "')");
                }
            }
            return safetensors ? new ShardedCheckpoint(index, SafetensorsFile::open)
                    : new ShardedCheckpoint(index, TorchCheckpoint::open);
        }
        if (isSafetensorsName(name)) {
            return SafetensorsFile.open(file);
        }
        if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth")) {
            return TorchCheckpoint.open(file);
        }
        throw new CheckpointException(file, "unknown checkpoint file type: expected .safetensors, .bin, .pt, .pth or *.index.json");
    }

    private static boolean isSafetensorsName(String name) {
        return name.endsWith(".safetensors");
    }
}
