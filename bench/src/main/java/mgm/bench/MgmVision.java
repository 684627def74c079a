package mgm.bench;

import java.util.LinkedHashMap;
import java.util.Map;

import mgm.model.MapWeights;
import mgm.model.WeightFormat;
import mgm.model.WeightLoader;
import mgm.model.vision.ClipSpec;
import mgm.model.vision.ClipVisionTower;
import mgm.model.vision.ConvNextTower;
import mgm.model.vision.PatchInfoMining;
import mgm.model.vision.Projector;
import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * MGM-7B's image path at its real shapes with random weights, built in memory with the real
 * tensor names: CLIP ViT-L/14-336 (hidden 1024, 24 layers of which 23 run for layer -2, 16
 * heads, FFN 4096), ConvNeXt-L at 768 (dims 192/384/768/1536, depths 3/3/27/3), patch info
 * mining (1024 / 2880) and the mlp2x_gelu projector to 4096.
 */
final class MgmVision implements AutoCloseable {
    private static final float AMPLITUDE = 0.0346f;
    static final int[] CONVNEXT_DIMS = {192, 384, 768, 1536};
    static final int[] CONVNEXT_DEPTHS = {3, 3, 27, 3};

    final ClipSpec clipSpec = new ClipSpec(1024, 4096, 24, 16, 336, 14, 1e-5f, Activation.QUICK_GELU, -2, false);
    final ClipVisionTower clip;
    final ConvNextTower convNext;
    final PatchInfoMining mining;
    final Projector projector;
    private final Map<String, Tensor> source = new LinkedHashMap<>();
    private final WeightLoader loader;
    private long seed = 100;
    private final DType stored;

    MgmVision(DType stored, Backend backend) {
        this.stored = stored;
        addClip("vision_model.");
        addConvNext("visual.trunk.");
        addMining("model.", 1024, 2880);
        linear("model.mm_projector.0", 4096, 1024);
        linear("model.mm_projector.2", 4096, 4096);
        loader = new WeightLoader(new MapWeights(source), backend, WeightFormat.STORED);
        clip = new ClipVisionTower(clipSpec, loader, "vision_model.");
        convNext = new ConvNextTower(loader, "visual.trunk.stem.", "visual.trunk.stages.");
        mining = new PatchInfoMining(loader, "model.", 1024, 2880);
        projector = new Projector(loader, "model.", "mlp2x_gelu", 1024, 4096);
    }

    private void addClip(String p) {
        int d = clipSpec.hiddenSize();
        String e = p + "embeddings.";
        random(e + "patch_embedding.weight", d, 3, 14, 14);
        random(e + "class_embedding", d);
        random(e + "position_embedding.weight", clipSpec.patches() + 1, d);
        norm(p + "pre_layrnorm", d);
        for (int i = 0; i < clipSpec.layersToRun(); i++) {
            String l = p + "encoder.layers." + i + ".";
            norm(l + "layer_norm1", d);
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                linear(l + "self_attn." + proj, d, d);
            }
            norm(l + "layer_norm2", d);
            linear(l + "mlp.fc1", clipSpec.intermediateSize(), d);
            linear(l + "mlp.fc2", d, clipSpec.intermediateSize());
        }
    }

    private void addConvNext(String p) {
        int c0 = CONVNEXT_DIMS[0];
        random(p + "stem.0.weight", c0, 3, 4, 4);
        filled(p + "stem.0.bias", 0f, c0);
        norm(p + "stem.1", c0);
        int in = c0;
        for (int s = 0; s < CONVNEXT_DIMS.length; s++) {
            int c = CONVNEXT_DIMS[s];
            String sp = p + "stages." + s + ".";
            if (s > 0) {
                norm(sp + "downsample.0", in);
                random(sp + "downsample.1.weight", c, in, 2, 2);
                filled(sp + "downsample.1.bias", 0f, c);
            }
            for (int b = 0; b < CONVNEXT_DEPTHS[s]; b++) {
                String bp = sp + "blocks." + b + ".";
                random(bp + "conv_dw.weight", c, 1, 7, 7);
                filled(bp + "conv_dw.bias", 0f, c);
                norm(bp + "norm", c);
                linear(bp + "mlp.fc1", 4 * c, c);
                linear(bp + "mlp.fc2", c, 4 * c);
                filled(bp + "gamma", 0.1f, c);
            }
            in = c;
        }
    }

    private void addMining(String p, int dim, int aux) {
        norm(p + "vlm_uni_query_projector.0", dim);
        linear(p + "vlm_uni_query_projector.1", dim, dim);
        norm(p + "vlm_uni_aux_projector.0", aux);
        linear(p + "vlm_uni_aux_projector.1", dim, aux);
        norm(p + "vlm_uni_val_projector.0", aux);
        linear(p + "vlm_uni_val_projector.1", dim, aux);
    }

    private void linear(String name, int out, int in) {
        random(name + ".weight", out, in);
        filled(name + ".bias", 0f, out);
    }

    private void norm(String name, int d) {
        filled(name + ".weight", 1f, d);
        filled(name + ".bias", 0f, d);
    }

    private void random(String name, long... shape) {
        source.put(name, RandomTensors.uniform(stored, seed++, AMPLITUDE, shape));
    }

    private void filled(String name, float v, long... shape) {
        source.put(name, RandomTensors.filled(stored, v, shape));
    }

    @Override
    public void close() {
        loader.close();
        for (Tensor t : source.values()) {
            t.close();
        }
    }
}
