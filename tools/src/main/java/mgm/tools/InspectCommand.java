package mgm.tools;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import mgm.loaders.Checkpoint;
import mgm.loaders.chat.TemplateSelector;
import mgm.loaders.config.ClipVisionConfig;
import mgm.loaders.config.LlmConfig;
import mgm.loaders.config.MgmConfig;
import mgm.loaders.config.OpenClipConfig;
import mgm.loaders.tokenizer.Tokenizer;
import mgm.loaders.tokenizer.Tokenizers;
import mgm.model.MemoryEstimate;
import mgm.model.TowerLocator;
import mgm.model.WeightFormat;
import mgm.model.vision.ClipSpec;
import mgm.runtime.DType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mgm-run inspect}: what a model folder holds and whether it would load, from configs and
 * checkpoint headers only (no weight is read): architecture, every component and where it was
 * found, parameter counts, dtypes, the memory each precision needs, and every problem a load
 * would hit (exit code 3 when there is one).
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Checks a checkpoint folder from its headers: components, shapes, parameters, memory.",
        description = {"Describes an MGM checkpoint folder and checks that it would load: configs, towers, tokenizer,",
                "and every tensor the model needs (present, usable dtype, the shape the config implies), from the",
                "file headers alone. Exits with status 3 listing the problems: run it on a fresh download."},
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run inspect --model-path work_dirs/MGM/MGM-7B-HD",
                "  mgm-run inspect --model-path MGM-2B --vision-tower model_zoo/OpenAI/clip-vit-large-patch14-336"})
final class InspectCommand implements Callable<Integer> {
    static final String CLIP_IN_CHECKPOINT = "model.vision_tower.vision_tower.vision_model.";
    static final String AUX_IN_CHECKPOINT = "model.vision_tower_aux.";

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model-path", required = true, paramLabel = "DIR", description = "The checkpoint folder.")
    Path modelPath;

    @Option(names = "--vision-tower", paramLabel = "DIR", description = "CLIP tower folder (default: from config.json).")
    Path visionTower;

    @Option(names = "--vision-tower-aux", paramLabel = "DIR", description = "ConvNeXt tower folder (default: from config.json).")
    Path visionTowerAux;

    @Option(names = "--context", paramLabel = "TOKENS", defaultValue = "0",
            description = "Context length for the memory figures (default: the model's).")
    int context;

    private final List<String> problems = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private PrintWriter out;
    private int clipPatches;

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        try {
            inspect();
        } finally {
            for (AutoCloseable c : open) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // header-only files: nothing to lose
                }
            }
        }
        for (String n : notes) {
            row("note", n);
        }
        if (problems.isEmpty()) {
            out.println();
            out.println("OK: every tensor a load needs is present with the expected shape and a usable dtype.");
            return 0;
        }
        out.println();
        out.println("PROBLEMS (" + problems.size() + "):");
        for (String p : problems) {
            out.println("  - " + p);
        }
        out.flush();
        throw MgmRun.CommandFailure.file(modelPath + ": " + problems.size() + " problem(s) found; this model would not load");
    }

    private void inspect() {
        row("model", modelPath.toAbsolutePath().normalize().toString());
        if (!Files.isDirectory(modelPath)) {
            problems.add("model folder " + modelPath + (Files.exists(modelPath) ? " is not a directory" : " does not exist"));
            return;
        }
        MgmConfig config;
        try {
            config = MgmConfig.load(modelPath);
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
            return;
        }
        LlmConfig c = config.llm();
        row("architecture", c.architecture() + " (" + c.family().name().toLowerCase(Locale.ROOT) + " decoder, "
                + (config.isMultimodal() ? "vision-language" : "text only") + ")");
        row("decoder", c.numLayers() + " layers, hidden " + c.hiddenSize() + ", " + c.numHeads() + " heads / " + c.numKvHeads()
                + " kv heads of " + c.headDim() + ", FFN " + c.intermediateSize()
                + (c.isMoe() ? " x " + c.numExperts() + " experts (top-" + c.numExpertsPerTok() + ")" : "")
                + ", vocab " + c.vocabSize() + ", " + c.maxPositionEmbeddings() + " positions, rope theta "
                + fmt(c.ropeTheta()) + ", " + c.activation().name().toLowerCase(Locale.ROOT)
                + (c.tieWordEmbeddings() ? ", tied lm_head" : ""));
        Checkpoint ckpt;
        try {
            ckpt = Checkpoint.open(modelPath);
            open.add(ckpt);
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
            return;
        }
        row("weights", describeFiles(ckpt));
        TensorCheck model = new TensorCheck(ckpt, "model", problems);
        model.decoder(c, "model.");
        List<TensorCheck> checks = new ArrayList<>(List.of(model));
        ClipVisionConfig clipConfig = null;
        if (config.isMultimodal()) {
            clipConfig = vision(config, ckpt, model, checks);
        }
        tokenizer(c);
        unused(ckpt, model.used());
        parameters(checks);
        memory(config, clipConfig);
    }

    /** As MgmModel: a tower folder is needed only when the checkpoint does not carry that tower. */
    private ClipVisionConfig vision(MgmConfig config, Checkpoint ckpt, TensorCheck model, List<TensorCheck> checks) {
        ClipVisionConfig clipConfig = null;
        Path clipDir = TowerLocator.find(TowerLocator.Kind.CLIP, config.mmVisionTower(), visionTower, modelPath);
        if (clipDir != null) {
            try {
                clipConfig = ClipVisionConfig.load(clipDir);
            } catch (RuntimeException e) {
                problems.add(e.getMessage());
            }
        }
        boolean clipInside = ckpt.contains(CLIP_IN_CHECKPOINT + "embeddings.class_embedding");
        if (clipDir == null && !clipInside) {
            locate(TowerLocator.Kind.CLIP, config.mmVisionTower(), visionTower);
        }
        boolean keepCls = "cls_patch".equals(config.mmVisionSelectFeature());
        ClipSpec s = null;
        try {
            if (clipConfig != null) {
                s = new ClipSpec(clipConfig.hiddenSize(), clipConfig.intermediateSize(), clipConfig.numLayers(),
                        clipConfig.numHeads(), clipConfig.imageSize(), clipConfig.patchSize(), (float) clipConfig.layerNormEps(),
                        clipConfig.activation(), config.mmVisionSelectLayer(), keepCls);
            } else if (clipInside) {
                s = model.clipSpecFromHeaders(CLIP_IN_CHECKPOINT, config.mmVisionSelectLayer(), keepCls);
            }
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
        }
        if (s != null) {
            clipPatches = s.patches();
            if (s.hiddenSize() != config.mmHiddenSize()) {
                problems.add("the CLIP tower" + (clipDir != null ? " in " + clipDir : "") + " is " + s.hiddenSize()
                        + " wide but mm_hidden_size is " + config.mmHiddenSize());
            }
            TensorCheck clip = clipInside ? model : tower(clipDir);
            if (clip != null) {
                clip.clip(clipInside ? CLIP_IN_CHECKPOINT : "vision_model.", s.hiddenSize(), s.intermediateSize(),
                        s.patchSize(), s.patches(), s.layersToRun());
                if (clip != model) {
                    checks.add(clip);
                }
            }
            row("CLIP tower", (clipDir != null ? "config " + clipDir : "no folder (shape read from the checkpoint)")
                    + "; weights " + (clipInside ? "inside the checkpoint (they win, as in MGM)" : "from that folder") + "; "
                    + s.layers() + " layers (" + s.layersToRun() + " run, select layer " + config.mmVisionSelectLayer()
                    + "), width " + s.hiddenSize() + ", " + s.imageSize() + " px / " + s.patchSize() + " = " + s.patches()
                    + " patches");
        }
        Path auxDir = TowerLocator.find(TowerLocator.Kind.OPENCLIP, config.mmVisionTowerAux(), visionTowerAux, modelPath);
        OpenClipConfig openClip = null;
        if (auxDir != null) {
            try {
                openClip = OpenClipConfig.load(auxDir);
            } catch (RuntimeException e) {
                problems.add(e.getMessage());
            }
        }
        boolean auxInside = ckpt.contains(AUX_IN_CHECKPOINT + "vision_stem.0.weight");
        if (auxDir == null && !auxInside) {
            locate(TowerLocator.Kind.OPENCLIP, config.mmVisionTowerAux(), visionTowerAux);
        }
        TensorCheck aux = auxInside ? model : (auxDir == null ? null : tower(auxDir));
        if (aux != null) {
            List<Integer> widths = auxInside
                    ? aux.convNext(AUX_IN_CHECKPOINT + "vision_stem.", AUX_IN_CHECKPOINT + "vision_stages.")
                    : aux.convNext("visual.trunk.stem.", "visual.trunk.stages.");
            if (aux != model) {
                checks.add(aux);
            }
            int sum = widths.stream().mapToInt(Integer::intValue).sum();
            if (!widths.isEmpty() && sum != config.mmHiddenSizeAux()) {
                problems.add("the ConvNeXt tower concatenates " + sum + " channels " + widths + " but mm_hidden_size_aux is "
                        + config.mmHiddenSizeAux());
            }
            if (openClip != null && !widths.isEmpty() && !widths.equals(openClip.stageDims())) {
                notes.add("the ConvNeXt weights have stage widths " + widths + ", not " + openClip.timmModelName() + "'s "
                        + openClip.stageDims() + " (a test model?); the weights decide");
            }
            row("ConvNeXt tower", (auxDir == null ? "no folder; " : "config " + auxDir + "; ") + "weights "
                    + (auxInside ? "inside the checkpoint" : "from that folder") + "; stage widths " + widths
                    + (openClip != null ? ", " + openClip.timmModelName() : ""));
        }
        model.mining("model.", config.mmHiddenSize(), config.mmHiddenSizeAux());
        model.projector("model.", config.mmProjectorType(), config.projectorMlpDepth(), config.mmHiddenSize(),
                config.llm().hiddenSize());
        int grid = config.imageGrid();
        int patches = clipPatches;
        int tokens = grid > 1 ? patches * (grid * grid + (config.imageGlobal() ? 1 : 0)) : patches;
        row("image", "aspect " + (config.imageAspectRatio() == null ? "none" : config.imageAspectRatio()) + ", high-res "
                + config.imageSizeAux() + " px, low-res " + 336 * grid + " px" + (grid > 1 ? " (" + grid + "x" + grid
                + " crops" + (config.imageGlobal() ? " + global" : "") + ", HD)" : "") + ", " + tokens + " tokens per image");
        row("projector", config.mmProjectorType() + " " + config.mmHiddenSize() + " -> " + config.llm().hiddenSize()
                + "; patch info mining " + config.mmHiddenSize() + " <- " + config.mmHiddenSizeAux());
        return clipConfig;
    }

    private Path locate(TowerLocator.Kind kind, String configured, Path override) {
        try {
            return TowerLocator.locate(kind, configured, override, modelPath);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            return null;
        }
    }

    private TensorCheck tower(Path dir) {
        try {
            Checkpoint t = Checkpoint.open(dir);
            open.add(t);
            return new TensorCheck(t, dir.toString(), problems);
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
            return null;
        }
    }

    private void tokenizer(LlmConfig c) {
        Tokenizers.Prefer prefer = c.isMgmArchitecture() && c.family() == LlmConfig.Family.LLAMA
                ? Tokenizers.Prefer.SLOW : Tokenizers.Prefer.FAST;
        try {
            Tokenizer tok = Tokenizers.load(modelPath, prefer);
            boolean slow = prefer == Tokenizers.Prefer.SLOW && Files.isRegularFile(modelPath.resolve("tokenizer.model"));
            var st = tok.specialTokens();
            row("tokenizer", (slow || !Files.isRegularFile(modelPath.resolve("tokenizer.json")) ? "tokenizer.model" : "tokenizer.json")
                    + ", " + tok.vocabSize() + " tokens, bos " + st.bos() + " (" + st.bosId() + "), eos " + st.eos() + " ("
                    + st.eosId() + ")");
            if (tok.vocabSize() > c.vocabSize()) {
                problems.add("the tokenizer has " + tok.vocabSize() + " tokens but the model's vocab_size is " + c.vocabSize());
            }
            row("template", TemplateSelector.autoMode(modelPath.toString(), tok) + " (auto; --conv-mode overrides)");
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
        }
    }

    private void unused(Checkpoint ckpt, Set<String> used) {
        List<String> rest = ckpt.names().stream().filter(n -> !used.contains(n)).toList();
        if (!rest.isEmpty()) {
            row("not used", rest.size() + " tensor(s), e.g. " + String.join(", ", rest.subList(0, Math.min(3, rest.size()))));
        }
    }

    private void parameters(List<TensorCheck> checks) {
        Map<String, Long> params = new LinkedHashMap<>();
        Map<DType, Integer> dtypes = new LinkedHashMap<>();
        for (TensorCheck t : checks) {
            t.parameters().forEach((k, v) -> params.merge(k, v, Long::sum));
            t.dtypes().forEach((k, v) -> dtypes.merge(k, v, Integer::sum));
        }
        long total = params.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder sb = new StringBuilder(count(total) + " total");
        params.forEach((k, v) -> sb.append(", ").append(k).append(' ').append(count(v)));
        row("parameters", sb.toString());
        StringBuilder d = new StringBuilder();
        dtypes.forEach((k, v) -> d.append(d.isEmpty() ? "" : ", ").append(k).append(" x ").append(v));
        row("dtypes", d.toString());
    }

    private void memoryRow(String name, MemoryEstimate e) {
        out.printf(Locale.ROOT, "  %-27s %10s %10s %10s %10s%n", name, size(e.weightBytes()), size(e.kvCacheBytes()),
                size(e.scratchBytes() + e.visionBytes()), size(e.total()));
    }

    private void memory(MgmConfig config, ClipVisionConfig clipConfig) {
        int ctx = context > 0 ? context : config.tokenizerModelMaxLength() != null
                ? Math.min(config.tokenizerModelMaxLength(), config.llm().maxPositionEmbeddings())
                : config.llm().maxPositionEmbeddings();
        DType stored = config.llm().torchDtype() != null ? config.llm().torchDtype() : DType.BF16;
        out.println();
        out.printf(Locale.ROOT, "memory (context %d, f16 KV cache):%n", ctx);
        out.printf(Locale.ROOT, "  %-27s %10s %10s %10s %10s%n", "precision", "weights", "KV cache", "other", "total");
        for (WeightFormat f : WeightFormat.values()) {
            String name = switch (f) {
                case STORED -> "as stored (" + stored.name().toLowerCase(Locale.ROOT) + ")";
                case Q8_0 -> "--load-8bit (Q8_0)";
                case Q4_0 -> "--load-4bit (Q4_0)";
            };
            memoryRow(name, MemoryEstimate.of(config, clipConfig, f, ctx, DType.F16, 512));
        }
        memoryRow("--load-4bit --lm-head-8bit", MemoryEstimate.of(config, clipConfig, WeightFormat.Q4_0, true, ctx, DType.F16, 512));
        out.println("  CPU (--device cpu): the total in RAM (weights are memory-mapped; quantised copies are made at load).");
        out.println("  GPU (--device cuda): the total in GPU memory; the host maps the files while uploading.");
        out.println("  RAM available now: " + size(MemoryEstimate.availableBytes()));
    }

    private static String describeFiles(Checkpoint ckpt) {
        long bytes = 0;
        for (String n : ckpt.names()) {
            bytes += ckpt.info(n).byteSize();
        }
        return ckpt.path().getFileName() + ", " + ckpt.names().size() + " tensors, " + size(bytes);
    }

    private void row(String key, String value) {
        out.printf(Locale.ROOT, "%-15s %s%n", key, value);
    }

    /** 812 KiB, 3.4 MiB, 13.5 GiB. */
    static String size(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.0f KiB", Math.ceil(bytes / 1024.0));
    }

    private static String count(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        }
        return Long.toString(n);
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
