package mgm.model.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mgm.loaders.Checkpoint;
import mgm.loaders.config.ClipVisionConfig;
import mgm.loaders.config.MgmConfig;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.ImageException;
import mgm.loaders.image.MgmImageProcessor;
import mgm.loaders.image.RgbImage;
import mgm.model.CheckpointWeights;
import mgm.model.WeightFormat;
import mgm.model.WeightLoader;
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
 * A whole tiny MGM model assembled from its parts as MGM loads it (the CLIP and ConvNeXt folders
 * that config.json names, relative to the root; CLIP tensors from the checkpoint when it carries
 * them), plus the splice of image features into the text embeddings. This is test glue standing
 * in for {@code MgmModel}, which is not on main yet.
 */
public final class TinyMgm implements AutoCloseable {
    public final MgmConfig config;
    public final Backend backend;
    public final ClipVisionTower clip;
    public final ConvNextTower convNext;
    public final VisionEncoder encoder;
    public final Decoder decoder;
    public final MgmImageProcessor processor;
    private final List<AutoCloseable> open = new ArrayList<>();

    public TinyMgm(Path root, Path model, Backend backend) {
        this.backend = backend;
        this.config = MgmConfig.load(model);
        try {
            Checkpoint ckpt = track(Checkpoint.open(model));
            WeightLoader main = track(new WeightLoader(new CheckpointWeights(ckpt), backend, WeightFormat.STORED));
            Path clipDir = root.resolve(config.mmVisionTower());
            ClipVisionConfig cv = ClipVisionConfig.load(clipDir);
            ClipSpec spec = new ClipSpec(cv.hiddenSize(), cv.intermediateSize(), cv.numLayers(), cv.numHeads(),
                    cv.imageSize(), cv.patchSize(), (float) cv.layerNormEps(), cv.activation(),
                    config.mmVisionSelectLayer(), config.mmVisionSelectFeature().equals("cls_patch"));
            String copy = "model.vision_tower.vision_tower.vision_model.";
            if (ckpt.contains(copy + "embeddings.patch_embedding.weight")) {
                clip = new ClipVisionTower(spec, main, copy);
            } else {
                Checkpoint c = track(Checkpoint.open(clipDir));
                clip = new ClipVisionTower(spec, track(new WeightLoader(new CheckpointWeights(c), backend,
                        WeightFormat.STORED)), "vision_model.");
            }
            Checkpoint aux = track(Checkpoint.open(root.resolve(config.mmVisionTowerAux())));
            convNext = new ConvNextTower(track(new WeightLoader(new CheckpointWeights(aux), backend, WeightFormat.STORED)),
                    "visual.trunk.stem.", "visual.trunk.stages.");
            int hidden = config.llm().hiddenSize();
            PatchInfoMining mining = new PatchInfoMining(main, "model.", config.mmHiddenSize(), config.mmHiddenSizeAux());
            Projector projector = new Projector(main, "model.", config.mmProjectorType(), config.mmHiddenSize(), hidden);
            encoder = new VisionEncoder(backend, clip, convNext, mining, projector, config.imageGrid(), config.imageGlobal());
            DecoderWeights dw = DecoderWeights.load(config.llm(), main, "model.", DecoderWeights.ProgressListener.NONE);
            decoder = track(new Decoder(config.llm(), dw, backend, 4096));
            processor = new MgmImageProcessor(MgmImageProcessor.Config.mgm(config.imageSizeAux(), config.imageGrid(),
                    config.imageGlobal(), MgmImageProcessor.AspectMode.fromConfig(config.imageAspectRatio())), backend);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T track(T t) {
        open.add(t);
        return t;
    }

    public static RgbImage image(Path file) {
        try {
            return new ImageDecoder().decode(file);
        } catch (ImageException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * Text ids with -200 image markers, embedded, with each marker replaced by the next image's
     * features ({@code [tokens, hidden]}): {@code [L, hidden]}, owned by the caller.
     */
    public Tensor splice(int[] ids, List<Tensor> images) {
        int hidden = config.llm().hiddenSize();
        int length = 0;
        int next = 0;
        for (int id : ids) {
            length += id == -200 ? (int) images.get(next++).dim(0) : 1;
        }
        if (next != images.size()) {
            throw new IllegalArgumentException(images.size() + " images for " + next + " image markers");
        }
        Tensor out = backend.allocate(DType.F32, length, hidden);
        int pos = 0;
        int img = 0;
        for (int i = 0; i < ids.length; ) {
            if (ids[i] == -200) {
                Tensor f = images.get(img++);
                backend.copyRows(f, out, pos);
                pos += (int) f.dim(0);
                i++;
                continue;
            }
            int j = i;
            while (j < ids.length && ids[j] != -200) {
                j++;
            }
            try (Tensor seg = Tensor.ofInts(java.util.Arrays.copyOfRange(ids, i, j))) {
                decoder.embed(seg, out.slice(0, pos, pos + (j - i)));
            }
            pos += j - i;
            i = j;
        }
        return out;
    }

    @Override
    public void close() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // closing test resources
            }
        }
        open.clear();
    }
}
