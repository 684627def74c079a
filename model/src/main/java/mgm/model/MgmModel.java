package mgm.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mgm.loaders.Checkpoint;
import mgm.loaders.config.ClipVisionConfig;
import mgm.loaders.config.LlmConfig;
import mgm.loaders.config.MgmConfig;
import mgm.loaders.image.MgmImageProcessor;
import mgm.loaders.image.RgbImage;
import mgm.loaders.tokenizer.ImagePrompt;
import mgm.loaders.tokenizer.Tokenizer;
import mgm.loaders.tokenizer.Tokenizers;
import mgm.model.llm.Decoder;
import mgm.model.llm.DecoderWeights;
import mgm.model.vision.ClipSpec;
import mgm.model.vision.ClipVisionTower;
import mgm.model.vision.ConvNextTower;
import mgm.model.vision.PatchInfoMining;
import mgm.model.vision.Projector;
import mgm.model.vision.VisionEncoder;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * A whole MGM checkpoint (or a plain LLM) loaded from one model folder: tokenizer, decoder and,
 * for multimodal configs, the image preprocessor and vision encoder with its towers resolved as
 * {@link TowerLocator} describes. Tower weights inside the checkpoint
 * ({@code model.vision_tower.vision_tower.*}, {@code model.vision_tower_aux.*}) win over the
 * tower folders, as in MGM.
 */
public final class MgmModel implements AutoCloseable {
    /** Prefix of CLIP weights inside an MGM checkpoint. */
    static final String CLIP_IN_CHECKPOINT = "model.vision_tower.vision_tower.vision_model.";
    static final String AUX_IN_CHECKPOINT = "model.vision_tower_aux.";

    /**
     * @param visionTower    overrides {@code mm_vision_tower} (null: resolve from the config)
     * @param maxContext     sequence capacity; 0 uses the config's (tokenizer_model_max_length or max_position_embeddings)
     * @param maxChunk       prompt tokens per prefill pass
     * @param checkMemory    refuse before loading when the estimate exceeds available memory
     * @param lmHead8bit     quantise lm_head to Q8_0 at load (default: as stored, as bitsandbytes leaves it)
     */
    public record Options(Path modelPath, Path visionTower, Path visionTowerAux, WeightFormat format, Backend backend,
                          int maxContext, DType kvDtype, int maxChunk, boolean checkMemory, LoadProgress progress,
                          boolean lmHead8bit) {
        /** Options with lm_head as stored. */
        public Options(Path modelPath, Path visionTower, Path visionTowerAux, WeightFormat format, Backend backend,
                       int maxContext, DType kvDtype, int maxChunk, boolean checkMemory, LoadProgress progress) {
            this(modelPath, visionTower, visionTowerAux, format, backend, maxContext, kvDtype, maxChunk, checkMemory, progress,
                    false);
        }

        public static Options defaults(Path modelPath, Backend backend) {
            return new Options(modelPath, null, null, WeightFormat.STORED, backend, 0, DType.F32, 512, true,
                    LoadProgress.NONE);
        }

        public Options withFormat(WeightFormat f) {
            return new Options(modelPath, visionTower, visionTowerAux, f, backend, maxContext, kvDtype, maxChunk,
                    checkMemory, progress, lmHead8bit);
        }

        /** lm_head quantised to Q8_0 at load ({@link WeightLoader#outputHead}), or kept as stored. */
        public Options withLmHead8bit(boolean on) {
            return new Options(modelPath, visionTower, visionTowerAux, format, backend, maxContext, kvDtype, maxChunk,
                    checkMemory, progress, on);
        }
    }

    /** Receives loading progress: a stage name and how much of it is done. */
    public interface LoadProgress {
        LoadProgress NONE = (stage, done, total) -> { };

        void update(String stage, long done, long total);
    }

    /** Raised when the memory estimate exceeds what is available (CLI exit code 4). */
    public static final class NotEnoughMemoryException extends RuntimeException {
        public NotEnoughMemoryException(String message) {
            super(message);
        }
    }

    private final Path modelPath;
    private final MgmConfig config;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final Decoder decoder;
    private final VisionEncoder vision;
    private final MgmImageProcessor processor;
    private final int contextLength;
    private final DType kvDtype;
    private final List<AutoCloseable> resources;
    private final Weights weights;
    private final WeightLoader llmLoader;

    private MgmModel(Path modelPath, MgmConfig config, Tokenizer tokenizer, Backend backend, Decoder decoder,
                     VisionEncoder vision, MgmImageProcessor processor, int contextLength, DType kvDtype,
                     List<AutoCloseable> resources, Weights weights, WeightLoader llmLoader) {
        this.weights = weights;
        this.llmLoader = llmLoader;
        this.modelPath = modelPath;
        this.config = config;
        this.tokenizer = tokenizer;
        this.backend = backend;
        this.decoder = decoder;
        this.vision = vision;
        this.processor = processor;
        this.contextLength = contextLength;
        this.kvDtype = kvDtype;
        this.resources = resources;
    }

    /** Loads everything {@code o.modelPath()} needs; nothing is mapped before the memory check passes. */
    public static MgmModel load(Options o) {
        Path dir = o.modelPath();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model folder " + dir + (Files.exists(dir) ? " is not a directory" : " does not exist"));
        }
        MgmConfig config = MgmConfig.load(dir);
        LlmConfig llm = config.llm();
        boolean multimodal = config.isMultimodal();
        Path clipDir = null;
        Path auxDir = null;
        ClipVisionConfig clipConfig = null;
        if (multimodal) {
            // A missing folder is an error only if the checkpoint does not carry that tower (checked after opening it).
            clipDir = TowerLocator.find(TowerLocator.Kind.CLIP, config.mmVisionTower(), o.visionTower(), dir);
            auxDir = TowerLocator.find(TowerLocator.Kind.OPENCLIP, config.mmVisionTowerAux(), o.visionTowerAux(), dir);
            clipConfig = clipDir != null ? ClipVisionConfig.load(clipDir) : null;
        }
        int context = contextLength(config, o.maxContext());
        int chunk = Math.max(1, Math.min(o.maxChunk(), context));
        if (o.checkMemory()) {
            MemoryEstimate need = MemoryEstimate.of(config, clipConfig, o.format(), o.lmHead8bit(), context, o.kvDtype(), chunk);
            long available = MemoryEstimate.availableBytes();
            if (need.total() > available) {
                throw new NotEnoughMemoryException("the model needs about " + need + " but only "
                        + MemoryEstimate.gib(available) + " is available; try --load-4bit or --load-8bit, or a smaller context");
            }
        }
        Tokenizer tokenizer = Tokenizers.load(dir, tokenizerPreference(llm));
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            Checkpoint checkpoint = Checkpoint.open(dir);
            resources.add(checkpoint);
            Weights weights = new CheckpointWeights(checkpoint);
            WeightLoader llmLoader = new WeightLoader(weights, o.backend(), o.format(), o.lmHead8bit());
            resources.add(llmLoader);
            DecoderWeights dw = DecoderWeights.load(llm, llmLoader, "model.",
                    (done, total) -> o.progress().update("decoder layers", done, total));
            Decoder decoder = new Decoder(llm, dw, o.backend(), chunk);
            resources.add(decoder);
            VisionEncoder vision = null;
            MgmImageProcessor processor = null;
            if (multimodal) {
                vision = loadVision(config, clipConfig, clipDir, auxDir, weights, llmLoader, o, resources);
                processor = new MgmImageProcessor(MgmImageProcessor.Config.mgm(config.imageSizeAux(), config.imageGrid(),
                        config.imageGlobal(), MgmImageProcessor.AspectMode.fromConfig(config.imageAspectRatio())), o.backend());
            }
            return new MgmModel(dir, config, tokenizer, o.backend(), decoder, vision, processor, context, o.kvDtype(),
                    resources, weights, llmLoader);
        } catch (RuntimeException | Error e) {
            closeAll(resources);
            throw e;
        }
    }

    private static VisionEncoder loadVision(MgmConfig config, ClipVisionConfig clipConfig, Path clipDir, Path auxDir,
                                            Weights llmWeights, WeightLoader llmLoader, Options o,
                                            List<AutoCloseable> resources) {
        o.progress().update("vision towers", 0, 2);
        boolean keepCls = "cls_patch".equals(config.mmVisionSelectFeature());
        boolean clipInside = llmWeights.has(CLIP_IN_CHECKPOINT + "embeddings.class_embedding");
        if (clipDir == null && !clipInside) {
            TowerLocator.locate(TowerLocator.Kind.CLIP, config.mmVisionTower(), o.visionTower(), o.modelPath());
        }
        ClipSpec spec = clipConfig == null
                ? ClipSpec.fromWeights(llmLoader.stored(), CLIP_IN_CHECKPOINT, config.mmVisionSelectLayer(), keepCls)
                : new ClipSpec(clipConfig.hiddenSize(), clipConfig.intermediateSize(), clipConfig.numLayers(),
                        clipConfig.numHeads(), clipConfig.imageSize(), clipConfig.patchSize(),
                        (float) clipConfig.layerNormEps(), clipConfig.activation(), config.mmVisionSelectLayer(), keepCls);
        if (spec.hiddenSize() != config.mmHiddenSize()) {
            throw new IllegalArgumentException("the CLIP tower" + (clipDir != null ? " in " + clipDir : "") + " is "
                    + spec.hiddenSize() + " wide but mm_hidden_size is " + config.mmHiddenSize());
        }
        ClipVisionTower clip;
        if (clipInside) {
            clip = new ClipVisionTower(spec, llmLoader.stored(), CLIP_IN_CHECKPOINT);
        } else {
            Checkpoint clipCheckpoint = Checkpoint.open(clipDir);
            resources.add(clipCheckpoint);
            WeightLoader loader = new WeightLoader(new CheckpointWeights(clipCheckpoint), o.backend(), WeightFormat.STORED);
            resources.add(loader);
            clip = new ClipVisionTower(spec, loader, "vision_model.");
        }
        o.progress().update("vision towers", 1, 2);
        ConvNextTower convNext;
        if (llmWeights.has(AUX_IN_CHECKPOINT + "vision_stem.0.weight")) {
            // MGM itself reloads these only with optimize_vision_tower_aux; frozen towers make them equal
            // to the folder's weights (up to the checkpoint dtype), and they spare users the download.
            convNext = new ConvNextTower(llmLoader.stored(), AUX_IN_CHECKPOINT + "vision_stem.", AUX_IN_CHECKPOINT + "vision_stages.");
        } else {
            if (auxDir == null) {
                TowerLocator.locate(TowerLocator.Kind.OPENCLIP, config.mmVisionTowerAux(), o.visionTowerAux(), o.modelPath());
            }
            Checkpoint auxCheckpoint = Checkpoint.open(auxDir);
            resources.add(auxCheckpoint);
            WeightLoader loader = new WeightLoader(new CheckpointWeights(auxCheckpoint), o.backend(), WeightFormat.STORED);
            resources.add(loader);
            convNext = new ConvNextTower(loader, "visual.trunk.stem.", "visual.trunk.stages.");
        }
        if (convNext.outputChannels() != config.mmHiddenSizeAux()) {
            throw new IllegalArgumentException("the ConvNeXt tower " + (auxDir != null ? "in " + auxDir : "in the checkpoint")
                    + " concatenates " + convNext.outputChannels()
                    + " channels but mm_hidden_size_aux is " + config.mmHiddenSizeAux());
        }
        o.progress().update("vision towers", 2, 2);
        PatchInfoMining mining = new PatchInfoMining(llmLoader.stored(), "model.", config.mmHiddenSize(), config.mmHiddenSizeAux());
        Projector projector = new Projector(llmLoader, "model.", config.mmProjectorType(), config.mmHiddenSize(),
                config.llm().hiddenSize());
        return new VisionEncoder(o.backend(), clip, convNext, mining, projector, config.imageGrid(), config.imageGlobal());
    }

    /** MGM loads LLaMA-family tokenizers with use_fast=False (tokenizer.model) and the others fast. */
    private static Tokenizers.Prefer tokenizerPreference(LlmConfig llm) {
        return llm.isMgmArchitecture() && llm.family() == LlmConfig.Family.LLAMA ? Tokenizers.Prefer.SLOW
                : Tokenizers.Prefer.FAST;
    }

    private static int contextLength(MgmConfig config, int requested) {
        int trained = config.llm().maxPositionEmbeddings();
        if (config.tokenizerModelMaxLength() != null) {
            trained = Math.min(trained, config.tokenizerModelMaxLength());
        }
        if (requested <= 0) {
            return trained;
        }
        if (requested > config.llm().maxPositionEmbeddings()) {
            throw new IllegalArgumentException("context length " + requested + " is longer than the model's "
                    + config.llm().maxPositionEmbeddings() + " positions (max_position_embeddings)");
        }
        return requested;
    }

    // ------------------------------------------------------------------ accessors

    public Path modelPath() {
        return modelPath;
    }

    public MgmConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Backend backend() {
        return backend;
    }

    public Decoder decoder() {
        return decoder;
    }

    public boolean isMultimodal() {
        return vision != null;
    }

    /** Tokens the sequence can hold. */
    public int contextLength() {
        return contextLength;
    }

    public DType kvDtype() {
        return kvDtype;
    }

    /** Visual tokens one image turns into (576, or 2880 for HD); 0 for a text-only model. */
    public int tokensPerImage() {
        return vision == null ? 0 : vision.tokensPerImage();
    }

    /**
     * Saves the weights as loaded with --load-8bit/--load-4bit into a new model folder (quantised
     * tensors as Q8_0/Q4_0, the rest as stored, config and tokenizer files copied), so that later
     * loads skip the quantisation. Returns the files written. Weights kept in a device layout (on
     * the GPU, or K-tiled / row-interleaved on the CPU) are copied back to plain host tensors for the writing, so this
     * needs up to the quantised weights' size again in host memory while it runs.
     */
    public List<Path> saveQuantized(Path target) {
        return QuantizedCheckpoint.save(modelPath, weights, llmLoader, target);
    }

    // ------------------------------------------------------------------ images and prompts

    /** One image to its LLM embeddings {@code [tokens, hidden]}, owned by the caller. */
    public Tensor encodeImage(RgbImage image) {
        requireVision();
        try (MgmImageProcessor.Output in = processor.process(image)) {
            return vision.encode(in.lowRes(), in.highRes().unsqueeze(0));
        }
    }

    /** The processor, for callers that want stage-by-stage access. */
    public MgmImageProcessor imageProcessor() {
        requireVision();
        return processor;
    }

    public VisionEncoder visionEncoder() {
        requireVision();
        return vision;
    }

    /** MGM's tokenizer_image_token: ids with {@link ImagePrompt#IMAGE_TOKEN_INDEX} where each {@code <image>} was. */
    public int[] tokenize(String prompt) {
        return ImagePrompt.tokenize(tokenizer, prompt);
    }

    /** Positions a prompt takes once each image marker becomes its visual tokens. */
    public int sequenceLength(int[] idsWithMarkers) {
        int n = 0;
        for (int id : idsWithMarkers) {
            n += id == ImagePrompt.IMAGE_TOKEN_INDEX ? tokensPerImage() : 1;
        }
        return n;
    }

    /**
     * Input embeddings {@code [T, hidden]} for ids where each image marker takes the next image's
     * embeddings, in order (MGM's prepare_inputs_labels_for_multimodal). Owned by the caller.
     */
    public Tensor embed(int[] idsWithMarkers, List<Tensor> images) {
        int markers = 0;
        for (int id : idsWithMarkers) {
            if (id == ImagePrompt.IMAGE_TOKEN_INDEX) {
                markers++;
            }
        }
        if (markers != images.size()) {
            throw new IllegalArgumentException(markers == 0
                    ? images.size() + " image(s) given but the prompt has no " + ImagePrompt.IMAGE_TOKEN + " marker"
                    : "the prompt has " + markers + " " + ImagePrompt.IMAGE_TOKEN + " marker(s) but " + images.size()
                    + " image(s) were given");
        }
        if (markers > 0) {
            requireVision();
        }
        int total = sequenceLength(idsWithMarkers);
        int hidden = config.llm().hiddenSize();
        Tensor out = backend.allocate(DType.F32, total, hidden);
        try {
            int row = 0;
            int image = 0;
            int start = 0;
            for (int i = 0; i <= idsWithMarkers.length; i++) {
                boolean end = i == idsWithMarkers.length;
                if (end || idsWithMarkers[i] == ImagePrompt.IMAGE_TOKEN_INDEX) {
                    if (i > start) {
                        row += embedText(java.util.Arrays.copyOfRange(idsWithMarkers, start, i), out, row);
                    }
                    if (!end) {
                        Tensor features = images.get(image++);
                        backend.copyRows(features, out, row);
                        row += (int) features.dim(0);
                    }
                    start = i + 1;
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private int embedText(int[] ids, Tensor out, int row) {
        for (int id : ids) {
            if (id < 0 || id >= config.llm().vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
                        + config.llm().vocabSize() + ")");
            }
        }
        try (Tensor host = Tensor.ofInts(ids)) {
            Tensor target = out.slice(0, row, row + ids.length);
            if (backend.device().isHost()) {
                decoder.embed(host, target);
            } else {
                try (Tensor device = backend.toDevice(host)) {
                    decoder.embed(device, target);
                }
            }
        }
        return ids.length;
    }

    private void requireVision() {
        if (vision == null) {
            throw new IllegalArgumentException("the model at " + modelPath + " takes no images (its config names no vision tower)");
        }
    }

    @Override
    public void close() {
        closeAll(resources);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception ignored) {
                // closing is best effort; the first failure already reached the caller
            }
        }
        resources.clear();
    }
}
