package mgm.tools.tiny;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import mgm.tools.tiny.TinyTensors.ClipShape;
import mgm.tools.tiny.TinyTensors.ConvNextShape;
import picocli.CommandLine;

/**
 * Writes random MGM checkpoints in the layout real users have, with the real on-disk formats and
 * tensor names, seeded so that the same options always give the same bytes:
 *
 * <pre>
 * ROOT/model_zoo/OpenAI/clip-vit-large-patch14-336/          config.json (CLIPConfig), model.safetensors, preprocessor_config.json
 * ROOT/model_zoo/OpenAI/openclip-convnext-large-d-320-laion2B-s29B-b131K-ft-soup/
 *                                                            open_clip_config.json, open_clip_model.safetensors
 * ROOT/work_dirs/MGM/MGM-tiny-FAMILY[-hd]/                   config.json, model-0000k-of-0000n.safetensors,
 *                                                            model.safetensors.index.json, generation_config.json,
 *                                                            tokenizer.json, tokenizer_config.json, special_tokens_map.json
 * </pre>
 *
 * Image geometry is real (CLIP 336 / patch 14 = 577 positions; ConvNeXt stem 4 and four stages, so
 * the high-res map is 192x192 at 768 or 384x384 at 1536 with {@code hd}; 8x8 mining windows); the
 * widths and depths are tiny. The {@link Shape#TINYLLAMA} shape writes only an LLM (no towers) of
 * the decoders benchmark size, streamed to disk a chunk at a time.
 *
 * <p>Every folder is written to a temporary sibling and renamed into place when complete. The
 * tower folders depend only on the seed; several models generated with one seed share them.
 */
public final class TinyCheckpoints {
    /** Model sizes. */
    public enum Shape {
        /** Tiny widths (hidden 64, 2 layers), the full MGM set; a forward pass takes milliseconds. */
        TINY,
        /** hidden 2048, 16 layers, 16 heads / 4 kv heads, FFN 5632, vocab 32000; LLM only (~2.2 GB in BF16). */
        TINYLLAMA,
        /** LLaMA-2-7B geometry: hidden 4096, 32 layers, 32 heads, FFN 11008, vocab 32000; LLM only (~13.5 GB in BF16). */
        LLAMA7B;

        /** An LLM without towers, of a size for benchmarks (streamed to disk, sharded as HF does). */
        boolean llmOnly() {
            return this != TINY;
        }

        LlmShape llm(TinyFamily f) {
            return switch (this) {
                case TINY -> LlmShape.tiny(f);
                case TINYLLAMA -> LlmShape.tinyllama(f);
                case LLAMA7B -> LlmShape.llama7b(f);
            };
        }
    }

    /** Weight dtypes of the model folder (the tower folders are always float32, as published). */
    public enum WeightDtype {
        F32("F32", "float32"), BF16("BF16", "bfloat16"), F16("F16", "float16");

        final String safetensors;
        final String torch;

        WeightDtype(String safetensors, String torch) {
            this.safetensors = safetensors;
            this.torch = torch;
        }

        public static WeightDtype parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "f32", "float32" -> F32;
                case "bf16", "bfloat16" -> BF16;
                case "f16", "float16" -> F16;
                default -> throw new IllegalArgumentException("unknown dtype '" + s + "' (f32, bf16, f16)");
            };
        }
    }

    /**
     * What to write.
     *
     * @param family             decoder family
     * @param hd                 MGM-HD geometry (image_size_aux 1536, 2x2 grid + global)
     * @param seed               seeds every value
     * @param dtype              weight dtype of the model folder
     * @param shape              tiny, or the tinyllama benchmark shape (LLM only)
     * @param root               output root
     * @param name               model folder name, or null for the default
     * @param towersInCheckpoint also store the towers inside the MGM checkpoint
     *                           ({@code model.vision_tower.vision_tower.*}, {@code model.vision_tower_aux.*}), as
     *                           MGM's full state-dict save does
     */
    public record Options(TinyFamily family, boolean hd, long seed, WeightDtype dtype, Shape shape, Path root,
                          String name, boolean towersInCheckpoint) {

        public static Options of(TinyFamily family, Path root) {
            return new Options(family, false, 0, WeightDtype.F32, Shape.TINY, root, null, true);
        }

        public Options withHd(boolean v) {
            return new Options(family, v, seed, dtype, shape, root, name, towersInCheckpoint);
        }

        public Options withSeed(long v) {
            return new Options(family, hd, v, dtype, shape, root, name, towersInCheckpoint);
        }

        public Options withDtype(WeightDtype v) {
            return new Options(family, hd, seed, v, shape, root, name, towersInCheckpoint);
        }

        public Options withShape(Shape v) {
            return new Options(family, hd, seed, dtype, v, root, name, towersInCheckpoint);
        }

        public Options withName(String v) {
            return new Options(family, hd, seed, dtype, shape, root, v, towersInCheckpoint);
        }

        public Options withTowersInCheckpoint(boolean v) {
            return new Options(family, hd, seed, dtype, shape, root, name, v);
        }

        /** The model folder's name. */
        public String folderName() {
            if (name != null) {
                return name;
            }
            return switch (shape) {
                case TINYLLAMA -> "TinyLlama-" + family.id();
                case LLAMA7B -> "Random7B-" + family.id();
                case TINY -> "MGM-tiny-" + family.id() + (hd ? "-hd" : "");
            };
        }
    }

    /**
     * What was written.
     *
     * @param model    the model folder
     * @param clip     the CLIP folder, or null (tinyllama)
     * @param convNext the ConvNeXt folder, or null (tinyllama)
     * @param files    every file written
     */
    public record Result(Path model, Path clip, Path convNext, List<Path> files) {}

    /** Target tokenizer size of the tiny shape (specials + byte fallback + characters + merges). */
    static final int TINY_TOKENIZER_SIZE = 512;
    /** HF's shard limit for the tinyllama shape (decimal, as save_pretrained counts). */
    static final long TINYLLAMA_SHARD_BYTES = 1_000_000_000L;

    private TinyCheckpoints() {}

    /** Writes the set; throws {@link IllegalArgumentException} for impossible options, {@link UncheckedIOException} for I/O. */
    public static Result write(Options o) {
        if (o.hd() && o.shape().llmOnly()) {
            throw new IllegalArgumentException("--hd applies to MGM sets; --shape " + o.shape().name().toLowerCase(java.util.Locale.ROOT)
                    + " writes an LLM only");
        }
        if (o.root() == null) {
            throw new IllegalArgumentException("no output root given");
        }
        if (o.name() != null && (o.name().isEmpty() || o.name().contains("/") || o.name().contains("\\")
                || o.name().startsWith("."))) {
            throw new IllegalArgumentException("model name '" + o.name() + "' must be a plain folder name");
        }
        LlmShape shape = o.shape().llm(o.family());
        TinyTokenizer tok = TinyTokenizer.train(o.family().tokenizer, TINY_TOKENIZER_SIZE);
        int vocab = Math.max(shape.minVocab(), tok.size());
        List<Path> files = new ArrayList<>();
        try {
            if (o.shape().llmOnly()) {
                Path model = o.root().resolve(o.folderName());
                files.addAll(writeFolder(model, dir -> writeLlm(dir, o, shape, vocab, tok, false)));
                return new Result(model, null, null, files);
            }
            ClipShape clip = ClipShape.TINY;
            ConvNextShape convNext = ConvNextShape.TINY;
            Path clipDir = o.root().resolve(ConfigFiles.CLIP_FOLDER);
            Path convDir = o.root().resolve(ConfigFiles.CONVNEXT_FOLDER);
            Path model = o.root().resolve("work_dirs/MGM").resolve(o.folderName());
            files.addAll(writeFolder(clipDir, dir -> writeClip(dir, clip, o.seed())));
            files.addAll(writeFolder(convDir, dir -> writeConvNext(dir, convNext, clip, o.seed())));
            files.addAll(writeFolder(model, dir -> writeLlm(dir, o, shape, vocab, tok, true)));
            return new Result(model, clipDir, convDir, files);
        } catch (IOException e) {
            throw new UncheckedIOException("make-tiny: cannot write under " + o.root() + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> writeClip(Path dir, ClipShape c, long seed) throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(json(dir.resolve("config.json"), ConfigFiles.clip(c), true));
        files.add(json(dir.resolve("preprocessor_config.json"), ConfigFiles.preprocessor(c), true));
        files.addAll(SafetensorsStream.writeSharded(dir, "model.safetensors", TinyTensors.clipModel(c), "F32", seed,
                Long.MAX_VALUE));
        return files;
    }

    private static List<Path> writeConvNext(Path dir, ConvNextShape c, ClipShape text, long seed) throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(json(dir.resolve("open_clip_config.json"), ConfigFiles.openClip(c, text), false));
        files.addAll(SafetensorsStream.writeSharded(dir, "open_clip_model.safetensors", TinyTensors.openClipModel(c, text),
                "F32", seed, Long.MAX_VALUE));
        return files;
    }

    private static List<Path> writeLlm(Path dir, Options o, LlmShape s, int vocab, TinyTokenizer tok, boolean mgm)
            throws IOException {
        TinyFamily f = o.family();
        List<TensorSpec> tensors = new ArrayList<>(TinyTensors.decoder(f, s, vocab));
        Map<String, Object> config = ConfigFiles.llm(f, s, vocab, tok, o.dtype().torch, mgm);
        int maxLength = o.hd() ? 4096 : 2048;
        if (mgm) {
            ClipShape clip = ClipShape.TINY;
            ConvNextShape convNext = ConvNextShape.TINY;
            ConfigFiles.addMgmKeys(config, clip, convNext, o.hd(), maxLength);
            if (o.towersInCheckpoint()) {
                tensors.addAll(TinyTensors.clipCopy(clip));
            }
            tensors.addAll(TinyTensors.projector(clip.width(), s.hidden()));
            if (o.towersInCheckpoint()) {
                tensors.addAll(TinyTensors.convNextCopy(convNext));
            }
            tensors.addAll(TinyTensors.mining(clip.width(), convNext.concatenated()));
        }
        if (!f.isGemma()) {
            tensors.add(TinyTensors.lmHead(s, vocab));
        }
        List<Path> files = new ArrayList<>();
        files.add(json(dir.resolve("config.json"), config, true));
        files.add(json(dir.resolve("generation_config.json"), ConfigFiles.generation(f, tok), true));
        TokenizerFiles.write(dir, tok, o.shape() == Shape.TINY ? maxLength : f.maxPositions);
        files.add(dir.resolve("tokenizer.json"));
        files.add(dir.resolve("tokenizer_config.json"));
        files.add(dir.resolve("special_tokens_map.json"));
        long maxShard = o.shape().llmOnly() ? TINYLLAMA_SHARD_BYTES : tinyShardBytes(tensors, o.dtype());
        files.addAll(SafetensorsStream.writeSharded(dir, "model.safetensors", tensors, o.dtype().safetensors, o.seed(),
                maxShard));
        return files;
    }

    /** A shard limit that splits a tiny checkpoint into about three shards (MGM's loader needs the index). */
    private static long tinyShardBytes(List<TensorSpec> tensors, WeightDtype dtype) {
        long total = 0;
        long largest = 0;
        for (TensorSpec t : tensors) {
            long b = SafetensorsStream.bytes(t, dtype.safetensors);
            total += b;
            largest = Math.max(largest, b);
        }
        return Math.max(largest, (total + 2) / 3);
    }

    private static Path json(Path file, Map<String, Object> content, boolean sortKeys) throws IOException {
        Files.writeString(file, Json.write(content, sortKeys), StandardCharsets.UTF_8);
        return file;
    }

    private interface FolderWriter {
        List<Path> write(Path dir) throws IOException;
    }

    /**
     * Writes a folder's files into a temporary sibling, then replaces {@code target} with it, so a
     * failure leaves either the old folder or nothing, never a half-written one. The returned
     * paths are rewritten to the final location.
     */
    private static List<Path> writeFolder(Path target, FolderWriter writer) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".partial-");
        try {
            List<Path> written = writer.write(tmp);
            if (Files.exists(target)) {
                deleteTree(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            openUp(target);
            List<Path> moved = new ArrayList<>();
            for (Path f : written) {
                moved.add(target.resolve(tmp.relativize(f)));
            }
            return moved;
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }

    /** {@code java mgm.tools.tiny.TinyCheckpoints --family vicuna --out ROOT} (same options as {@code mgm-run make-tiny}). */
    public static void main(String[] args) {
        System.exit(new CommandLine(new MakeTinyCommand()).execute(args));
    }

    /** Temporary folders are created owner-only; the result gets the usual rwxr-xr-x. */
    private static void openUp(Path dir) throws IOException {
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}
