package mgm.tools;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mgm.loaders.Checkpoint;
import mgm.loaders.TensorInfo;
import mgm.loaders.config.LlmConfig;
import mgm.runtime.DType;

/**
 * Checks, from checkpoint headers alone, every tensor a load would fetch: present, a usable dtype,
 * and the shape the config implies. It walks the same names in the same way as the model's
 * loaders ({@code DecoderWeights}, {@code ClipVisionTower}, {@code ConvNextTower},
 * {@code PatchInfoMining}, {@code Projector}); problems are collected, not thrown, so that one run
 * lists them all. Parameters are counted per component.
 */
final class TensorCheck {
    private final Checkpoint checkpoint;
    private final String where;
    private final List<String> problems;
    private final Set<String> used = new LinkedHashSet<>();
    private final Map<String, Long> parameters = new LinkedHashMap<>();
    private final Map<DType, Integer> dtypes = new LinkedHashMap<>();
    private String component = "other";

    /** @param where names the checkpoint in problems, e.g. "the model" or a tower folder */
    TensorCheck(Checkpoint checkpoint, String where, List<String> problems) {
        this.checkpoint = checkpoint;
        this.where = where;
        this.problems = problems;
    }

    /** Counts the following tensors' parameters under {@code name}. */
    TensorCheck component(String name) {
        component = name;
        return this;
    }

    Map<String, Long> parameters() {
        return parameters;
    }

    Map<DType, Integer> dtypes() {
        return dtypes;
    }

    Set<String> used() {
        return used;
    }

    boolean has(String name) {
        return checkpoint.contains(name);
    }

    /** A weight in a weight dtype (F32/F16/BF16/Q8_0/Q4_0) with this shape (-1 matches any size). */
    TensorInfo weight(String name, long... shape) {
        TensorInfo t = find(name, shape);
        if (t != null && !t.dtype().isWeightType()) {
            problems.add(where + ": tensor '" + name + "' has dtype " + t.dtype() + "; weights must be F32, F16, BF16, Q8_0 or Q4_0");
        }
        return t;
    }

    /** A norm weight, bias or embedding: any floating-point dtype (converted to F32 at load). */
    TensorInfo vector(String name, long... shape) {
        TensorInfo t = find(name, shape);
        if (t != null && !t.dtype().isFloatingPoint()) {
            problems.add(where + ": tensor '" + name + "' has dtype " + t.dtype() + "; expected a floating-point type");
        }
        return t;
    }

    private TensorInfo find(String name, long... shape) {
        if (!checkpoint.contains(name)) {
            problems.add(where + ": tensor '" + name + "' is missing (expected shape " + shapeText(shape) + ")");
            return null;
        }
        TensorInfo t = checkpoint.info(name);
        long[] have = t.shape();
        boolean ok = have.length == shape.length;
        for (int i = 0; ok && i < shape.length; i++) {
            ok = shape[i] < 0 || shape[i] == have[i];
        }
        if (!ok) {
            problems.add(where + ": tensor '" + name + "' has shape " + Arrays.toString(have) + " but the config implies "
                    + shapeText(shape));
        }
        if (used.add(name)) {
            parameters.merge(component, t.numel(), Long::sum);
            dtypes.merge(t.dtype(), 1, Integer::sum);
        }
        return t;
    }

    private static String shapeText(long[] shape) {
        return Arrays.toString(shape).replace("-1", "*");
    }

    // ------------------------------------------------------------------ the model's components

    /** DecoderWeights.load: names under {@code prefix} (normally "model.") and lm_head. */
    void decoder(LlmConfig c, String prefix) {
        component("LLM");
        int h = c.hiddenSize();
        vector(prefix + "embed_tokens.weight", c.vocabSize(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = prefix + "layers." + i + ".";
            String a = p + "self_attn.";
            for (String bias : List.of("q_proj", "k_proj", "v_proj")) {
                if (has(a + bias + ".bias")) {
                    vector(a + bias + ".bias", bias.equals("q_proj") ? c.qDim() : c.kvDim());
                }
            }
            weight(a + "q_proj.weight", c.qDim(), h);
            weight(a + "k_proj.weight", c.kvDim(), h);
            weight(a + "v_proj.weight", c.kvDim(), h);
            weight(a + "o_proj.weight", h, c.qDim());
            vector(p + "input_layernorm.weight", h);
            vector(p + "post_attention_layernorm.weight", h);
            int inter = c.intermediateSize();
            if (c.isMoe()) {
                String m = p + "block_sparse_moe.";
                weight(m + "gate.weight", c.numExperts(), h);
                for (int e = 0; e < c.numExperts(); e++) {
                    String x = m + "experts." + e + ".";
                    weight(x + "w1.weight", inter, h);
                    weight(x + "w3.weight", inter, h);
                    weight(x + "w2.weight", h, inter);
                }
            } else {
                String m = p + "mlp.";
                weight(m + "gate_proj.weight", inter, h);
                weight(m + "up_proj.weight", inter, h);
                weight(m + "down_proj.weight", h, inter);
            }
        }
        vector(prefix + "norm.weight", h);
        if (has("lm_head.weight")) {
            weight("lm_head.weight", c.vocabSize(), h);
        } else if (!c.tieWordEmbeddings()) {
            problems.add(where + ": tensor 'lm_head.weight' is missing and the config does not tie it to the embeddings");
        }
    }

    /** ClipVisionTower: the layers up to the selected hidden state. */
    void clip(String prefix, int d, int inter, int patch, int patches, int layersToRun) {
        component("CLIP");
        String e = prefix + "embeddings.";
        weight(e + "patch_embedding.weight", d, 3, patch, patch);
        vector(e + "class_embedding", d);
        vector(e + "position_embedding.weight", patches + 1, d);
        vector(prefix + "pre_layrnorm.weight", d);
        vector(prefix + "pre_layrnorm.bias", d);
        for (int i = 0; i < layersToRun; i++) {
            String p = prefix + "encoder.layers." + i + ".";
            String a = p + "self_attn.";
            vector(p + "layer_norm1.weight", d);
            vector(p + "layer_norm1.bias", d);
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
                weight(a + proj + ".weight", d, d);
                vector(a + proj + ".bias", d);
            }
            vector(p + "layer_norm2.weight", d);
            vector(p + "layer_norm2.bias", d);
            weight(p + "mlp.fc1.weight", inter, d);
            vector(p + "mlp.fc1.bias", inter);
            weight(p + "mlp.fc2.weight", d, inter);
            vector(p + "mlp.fc2.bias", d);
        }
    }

    /**
     * ClipSpec.fromWeights from headers: the shape of a CLIP tower carried by the checkpoint when no
     * tower folder (config.json) is at hand; 64-wide heads and CLIP's LayerNorm/activation, as there.
     */
    mgm.model.vision.ClipSpec clipSpecFromHeaders(String prefix, int selectLayer, boolean keepCls) {
        String e = prefix + "embeddings.";
        long hidden = checkpoint.info(e + "class_embedding").shape()[0];
        long[] patchShape = checkpoint.info(e + "patch_embedding.weight").shape();
        long positions = checkpoint.info(e + "position_embedding.weight").shape()[0];
        long grid = Math.round(Math.sqrt(positions - 1));
        if (grid * grid != positions - 1 || patchShape.length != 4) {
            throw new IllegalArgumentException(where + ": CLIP position embeddings " + positions + " are not a square grid + CLS");
        }
        int layers = 0;
        while (has(prefix + "encoder.layers." + layers + ".mlp.fc1.weight")) {
            layers++;
        }
        if (layers == 0) {
            throw new IllegalArgumentException(where + ": no CLIP encoder layers under '" + prefix + "encoder.layers.'");
        }
        long inter = checkpoint.info(prefix + "encoder.layers.0.mlp.fc1.weight").shape()[0];
        if (hidden % 64 != 0) {
            throw new IllegalArgumentException("the checkpoint carries a " + hidden + "-wide CLIP tower whose head count "
                    + "cannot be read from its weights; put its config.json folder where mm_vision_tower points or pass --vision-tower");
        }
        return new mgm.model.vision.ClipSpec((int) hidden, (int) inter, layers, (int) (hidden / 64), (int) (grid * patchShape[2]),
                (int) patchShape[2], 1e-5f, mgm.runtime.Activation.QUICK_GELU, selectLayer, keepCls);
    }

    /** ConvNextTower: structure read from the weights as the loader does; returns the stage widths (empty on failure). */
    List<Integer> convNext(String stemPrefix, String stagesPrefix) {
        component("ConvNeXt");
        List<Integer> widths = new ArrayList<>();
        TensorInfo stem = weight(stemPrefix + "0.weight", -1, 3, -1, -1);
        if (stem == null) {
            return widths;
        }
        int c0 = (int) stem.shape()[0];
        int patch = (int) stem.shape()[2];
        if (stem.shape()[3] != patch) {
            problems.add(where + ": ConvNeXt stem kernel " + stem.shape()[2] + "x" + stem.shape()[3] + " is not square");
        }
        vector(stemPrefix + "0.bias", c0);
        vector(stemPrefix + "1.weight", c0);
        vector(stemPrefix + "1.bias", c0);
        int in = c0;
        for (int s = 0; ; s++) {
            String p = stagesPrefix + s + ".";
            int depth = 0;
            while (has(p + "blocks." + depth + ".conv_dw.weight")) {
                depth++;
            }
            if (depth == 0) {
                break;
            }
            TensorInfo dw0 = weight(p + "blocks.0.conv_dw.weight", -1, 1, -1, -1);
            int c = (int) dw0.shape()[0];
            int k = (int) dw0.shape()[2];
            if (has(p + "downsample.1.weight")) {
                vector(p + "downsample.0.weight", in);
                vector(p + "downsample.0.bias", in);
                weight(p + "downsample.1.weight", c, in, 2, 2);
                vector(p + "downsample.1.bias", c);
            } else if (c != in) {
                problems.add(where + ": ConvNeXt stage " + s + " changes width " + in + " -> " + c
                        + " without a downsample layer (" + p + "downsample.1.weight)");
            }
            for (int b = 0; b < depth; b++) {
                String q = p + "blocks." + b + ".";
                TensorInfo fc1 = weight(q + "mlp.fc1.weight", -1, c);
                long hidden = fc1 == null ? -1 : fc1.shape()[0];
                weight(q + "conv_dw.weight", c, 1, k, k);
                vector(q + "conv_dw.bias", c);
                vector(q + "norm.weight", c);
                vector(q + "norm.bias", c);
                vector(q + "mlp.fc1.bias", hidden);
                weight(q + "mlp.fc2.weight", c, hidden);
                vector(q + "mlp.fc2.bias", c);
                vector(q + "gamma", c);
            }
            widths.add(c);
            in = c;
        }
        if (widths.isEmpty()) {
            problems.add(where + ": no ConvNeXt stages found under '" + stagesPrefix + "'");
        }
        return widths;
    }

    /** PatchInfoMining: the three vlm_uni projectors (LayerNorm + Linear each). */
    void mining(String prefix, int dim, int auxDim) {
        component("patch info mining");
        String[] names = {"vlm_uni_query_projector.", "vlm_uni_aux_projector.", "vlm_uni_val_projector."};
        int[] in = {dim, auxDim, auxDim};
        for (int i = 0; i < 3; i++) {
            String p = prefix + names[i];
            vector(p + "0.weight", in[i]);
            vector(p + "0.bias", in[i]);
            weight(p + "1.weight", dim, in[i]);
            vector(p + "1.bias", dim);
        }
    }

    /** Projector: linear, mlpNx_gelu or identity. */
    void projector(String prefix, String type, int depth, int inDim, int hidden) {
        component("projector");
        String p = prefix + "mm_projector.";
        if (type.equals("linear")) {
            weight(p + "weight", hidden, inDim);
            vector(p + "bias", hidden);
        } else if (depth > 0) {
            for (int i = 0; i < depth; i++) {
                weight(p + (2 * i) + ".weight", hidden, i == 0 ? inDim : hidden);
                vector(p + (2 * i) + ".bias", hidden);
            }
        } else if (inDim != hidden) {
            problems.add(where + ": an identity projector needs mm_hidden_size " + inDim + " == hidden_size " + hidden);
        }
    }
}
