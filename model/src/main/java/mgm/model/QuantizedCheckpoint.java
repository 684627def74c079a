package mgm.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import mgm.loaders.Checkpoint;
import mgm.loaders.safetensors.ShardedSafetensorsWriter;
import mgm.runtime.Backend;
import mgm.runtime.InterleavedQuant;
import mgm.runtime.Tensor;
import mgm.runtime.TiledWeights;

/**
 * Saves a model loaded with {@code --load-8bit}/{@code --load-4bit} so that the quantisation
 * happens once: a model folder like the source (config.json, tokenizer and generation files
 * copied) whose safetensors hold every linear weight the loader quantised as Q8_0/Q4_0 (stored
 * as U8 rows with the loaders' per-tensor marker) and every other tensor exactly as stored.
 * Loading that folder in any {@link WeightFormat} gives the same weights back: quantised tensors
 * on disk are used as they are.
 */
public final class QuantizedCheckpoint {
    /** Shard metadata key naming the format the weights were quantised to ("Q8_0" or "Q4_0"). */
    public static final String FORMAT_KEY = "mgm.weight_format";
    /** transformers' default shard limit. */
    static final long MAX_SHARD_BYTES = 5_000_000_000L;

    private QuantizedCheckpoint() {}

    /**
     * Writes {@code target} (which must not exist or be empty), atomically: into a temporary
     * sibling folder renamed into place when complete.
     *
     * @param sourceFolder the model folder the weights came from (its non-weight files are copied)
     * @param source       its weights
     * @param loader       the loader the model was built with, in format Q8_0 or Q4_0
     * @return the files written
     */
    public static List<Path> save(Path sourceFolder, Weights source, WeightLoader loader, Path target) {
        if (loader.quantized().isEmpty()) {
            throw new IllegalArgumentException("nothing to save: the model was loaded without quantisation "
                    + "(load it with --load-8bit, --load-4bit or --lm-head-8bit first)");
        }
        checkTarget(target);
        Backend backend = loader.backend();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<Tensor> downloads = new ArrayList<>();
        Path tmp = null;
        try {
            // the stored tensors, each replaced by its quantised form where there is one; then quantised
            // tensors with no stored counterpart (the Q8_0 copy of a head tied to the embeddings)
            List<String> names = new ArrayList<>(source.names());
            for (String name : loader.quantized().keySet()) {
                if (!source.has(name)) {
                    names.add(name);
                }
            }
            for (String name : names) {
                Tensor q = loader.quantized().get(name);
                if (q == null) {
                    tensors.put(name, source.get(name));
                    continue;
                }
                Tensor host = q.device().isHost() ? q : backend.toHost(q);
                if (host != q) {
                    downloads.add(host);
                }
                if (TiledWeights.isTiled(host) || InterleavedQuant.isInterleaved(host.dtype())) {
                    // the CPU matmul layout: back to GGML [N, K] rows for the file (a transient copy)
                    Tensor plain = TiledWeights.plainCopy(host);
                    downloads.add(plain);
                    host = plain;
                }
                tensors.put(name, host);
            }
            Path parent = target.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".partial-");
            List<Path> written = new ArrayList<>(ShardedSafetensorsWriter.write(tmp, tensors,
                    Map.of("format", "pt", FORMAT_KEY, loader.format().name()), MAX_SHARD_BYTES));
            written.addAll(copyOtherFiles(sourceFolder, tmp));
            if (Files.exists(target)) {
                Files.delete(target); // an empty folder, checked above
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            openUp(target);
            List<Path> out = new ArrayList<>();
            for (Path f : written) {
                out.add(target.resolve(tmp.relativize(f)));
            }
            return out;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot save the quantised model to " + target + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        } finally {
            downloads.forEach(Tensor::close);
        }
    }

    /** The format a checkpoint was saved in by {@link #save}, or {@link WeightFormat#STORED} for any other. */
    public static WeightFormat formatOf(Checkpoint checkpoint) {
        String v = checkpoint.metadata().get(FORMAT_KEY);
        if (v == null) {
            for (String name : checkpoint.names()) {
                if (checkpoint.info(name).dtype().isQuantized()) {
                    return WeightFormat.valueOf(checkpoint.info(name).dtype().name());
                }
            }
            return WeightFormat.STORED;
        }
        try {
            return WeightFormat.valueOf(v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(checkpoint.path() + ": metadata " + FORMAT_KEY + " = '" + v
                    + "' is not a known weight format (Q8_0, Q4_0)");
        }
    }

    private static void checkTarget(Path target) {
        if (!Files.exists(target)) {
            return;
        }
        if (!Files.isDirectory(target)) {
            throw new IllegalArgumentException("cannot save the quantised model to " + target + ": it is a file");
        }
        try (Stream<Path> s = Files.list(target)) {
            if (s.findAny().isPresent()) {
                throw new IllegalArgumentException("cannot save the quantised model to " + target
                        + ": the folder is not empty");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + target + ": " + e.getMessage(), e);
        }
    }

    /** Copies the source folder's plain files except weights (config, tokenizer, generation config ...). */
    private static List<Path> copyOtherFiles(Path sourceFolder, Path to) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(sourceFolder)) {
            for (Path f : s.sorted().toList()) {
                String n = f.getFileName().toString();
                if (!Files.isRegularFile(f) || isWeightFile(n) || n.startsWith(".")) {
                    continue;
                }
                out.add(Files.copy(f, to.resolve(n)));
            }
        }
        return out;
    }

    static boolean isWeightFile(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".safetensors") || n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth")
                || n.endsWith(".index.json") || n.endsWith(".gguf");
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // best effort: the partial folder is hidden (dot name) and harmless
        }
    }

    /** Temporary folders are created owner-only; the result gets the usual rwxr-xr-x. */
    private static void openUp(Path dir) throws IOException {
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}
