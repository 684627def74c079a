package mgm.tools.tiny;

import java.util.ArrayList;
import java.util.List;
import mgm.tools.tiny.TensorSpec.Init;

/**
 * The tensors of each generated file, with the real HF / open_clip / MGM names and shapes, in
 * the order the real state dicts register them. Values are scaled so that activations stay of
 * order one through every layer (linear weights ~ N(0, 1/fan_in)) and logits spread over a few
 * units, which keeps argmax decisions far from ties.
 */
final class TinyTensors {
    /** CLIP tower: ViT-L/14-336 geometry (336 px, patch 14, 577 positions) at a tiny width. */
    record ClipShape(int width, int heads, int layers, int intermediate, int imageSize, int patch, int projectionDim,
                     int textVocab, int textWidth, int textLayers, int textPositions) {
        static final ClipShape TINY = new ClipShape(32, 2, 3, 64, 336, 14, 16, 64, 32, 1, 77);

        int positions() {
            int g = imageSize / patch;
            return g * g + 1;
        }
    }

    /** ConvNeXt trunk: stem 4, four stages (stride 4/8/16/32) at tiny widths. */
    record ConvNextShape(int[] dims, int[] depths, int stem, int kernel, int embedDim) {
        static final ConvNextShape TINY = new ConvNextShape(new int[] {8, 16, 32, 64}, new int[] {1, 1, 2, 1}, 4, 7, 32);

        int concatenated() {
            int s = 0;
            for (int d : dims) {
                s += d;
            }
            return s;
        }
    }

    private TinyTensors() {}

    private static Init linear(long fanIn) {
        return Init.normal(0, 1 / Math.sqrt(fanIn));
    }

    private static final Init BIAS = Init.normal(0, 0.1);
    private static final Init LN_WEIGHT = Init.normal(1, 0.1);

    // ------------------------------------------------------------------ decoder

    static List<TensorSpec> decoder(TinyFamily f, LlmShape s, int vocab) {
        List<TensorSpec> out = new ArrayList<>();
        int h = s.hidden();
        // Gemma ties lm_head to the embeddings and scales inputs by sqrt(h). Small embeddings keep the
        // token's own embedding from dominating the residual stream (a random tied model would just
        // repeat its input); the final norm's (1 + w) ~ 12 brings the logits back to a few units.
        out.add(TensorSpec.of("model.embed_tokens.weight", Init.normal(0, f.isGemma() ? 0.02 : 1.0), vocab, h));
        Init norm = f.isGemma() ? Init.normal(0, 0.1) : LN_WEIGHT;
        Init finalNorm = f.isGemma() ? Init.normal(11, 1) : LN_WEIGHT;
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            out.add(TensorSpec.of(p + "self_attn.q_proj.weight", linear(h), s.qDim(), h));
            out.add(TensorSpec.of(p + "self_attn.k_proj.weight", linear(h), s.kvDim(), h));
            out.add(TensorSpec.of(p + "self_attn.v_proj.weight", linear(h), s.kvDim(), h));
            out.add(TensorSpec.of(p + "self_attn.o_proj.weight", linear(s.qDim()), h, s.qDim()));
            if (s.experts() > 0) {
                out.add(TensorSpec.of(p + "block_sparse_moe.gate.weight", linear(h), s.experts(), h));
                for (int e = 0; e < s.experts(); e++) {
                    String x = p + "block_sparse_moe.experts." + e + ".";
                    out.add(TensorSpec.of(x + "w1.weight", linear(h), s.intermediate(), h));
                    out.add(TensorSpec.of(x + "w2.weight", linear(s.intermediate()), h, s.intermediate()));
                    out.add(TensorSpec.of(x + "w3.weight", linear(h), s.intermediate(), h));
                }
            } else {
                out.add(TensorSpec.of(p + "mlp.gate_proj.weight", linear(h), s.intermediate(), h));
                out.add(TensorSpec.of(p + "mlp.up_proj.weight", linear(h), s.intermediate(), h));
                out.add(TensorSpec.of(p + "mlp.down_proj.weight", linear(s.intermediate()), h, s.intermediate()));
            }
            out.add(TensorSpec.of(p + "input_layernorm.weight", norm, h));
            out.add(TensorSpec.of(p + "post_attention_layernorm.weight", norm, h));
        }
        out.add(TensorSpec.of("model.norm.weight", finalNorm, h));
        return out;
    }

    static TensorSpec lmHead(LlmShape s, int vocab) {
        return TensorSpec.of("lm_head.weight", Init.normal(0, 2.5 / Math.sqrt(s.hidden())), vocab, s.hidden());
    }

    // ------------------------------------------------------------------ CLIP (HF CLIPModel)

    /** Everything in an HF CLIPModel's model.safetensors: vision tower, text tower, projections. */
    static List<TensorSpec> clipModel(ClipShape c) {
        List<TensorSpec> out = new ArrayList<>(clipVision(c));
        out.add(TensorSpec.of("visual_projection.weight", linear(c.width()), c.projectionDim(), c.width()));
        String t = "text_model.";
        out.add(TensorSpec.of(t + "embeddings.token_embedding.weight", Init.normal(0, 1), c.textVocab(), c.textWidth()));
        out.add(TensorSpec.of(t + "embeddings.position_embedding.weight", Init.normal(0, 0.3), c.textPositions(), c.textWidth()));
        out.add(TensorSpec.of(t + "embeddings.position_ids", Init.counting(), 1, c.textPositions()).asInteger());
        for (int i = 0; i < c.textLayers(); i++) {
            out.addAll(clipLayer(t + "encoder.layers." + i + ".", c.textWidth(), c.intermediate()));
        }
        out.add(TensorSpec.of(t + "final_layer_norm.weight", LN_WEIGHT, c.textWidth()));
        out.add(TensorSpec.of(t + "final_layer_norm.bias", BIAS, c.textWidth()));
        out.add(TensorSpec.of("text_projection.weight", linear(c.textWidth()), c.projectionDim(), c.textWidth()));
        out.add(TensorSpec.of("logit_scale", Init.constant(4.6052), new long[0]));
        return out;
    }

    /** HF CLIPVisionModel's tensors ({@code vision_model.*}). */
    static List<TensorSpec> clipVision(ClipShape c) {
        List<TensorSpec> out = new ArrayList<>();
        String v = "vision_model.";
        int d = c.width();
        out.add(TensorSpec.of(v + "embeddings.class_embedding", Init.normal(0, 1), d));
        out.add(TensorSpec.of(v + "embeddings.patch_embedding.weight",
                Init.normal(0, 2 / Math.sqrt(3.0 * c.patch() * c.patch())), d, 3, c.patch(), c.patch()));
        out.add(TensorSpec.of(v + "embeddings.position_embedding.weight", Init.normal(0, 0.3), c.positions(), d));
        out.add(TensorSpec.of(v + "embeddings.position_ids", Init.counting(), 1, c.positions()).asInteger());
        out.add(TensorSpec.of(v + "pre_layrnorm.weight", LN_WEIGHT, d));
        out.add(TensorSpec.of(v + "pre_layrnorm.bias", BIAS, d));
        for (int i = 0; i < c.layers(); i++) {
            out.addAll(clipLayer(v + "encoder.layers." + i + ".", d, c.intermediate()));
        }
        out.add(TensorSpec.of(v + "post_layernorm.weight", LN_WEIGHT, d));
        out.add(TensorSpec.of(v + "post_layernorm.bias", BIAS, d));
        return out;
    }

    private static List<TensorSpec> clipLayer(String p, int d, int inter) {
        List<TensorSpec> out = new ArrayList<>();
        for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
            out.add(TensorSpec.of(p + "self_attn." + proj + ".weight", linear(d), d, d));
            out.add(TensorSpec.of(p + "self_attn." + proj + ".bias", BIAS, d));
        }
        out.add(TensorSpec.of(p + "layer_norm1.weight", LN_WEIGHT, d));
        out.add(TensorSpec.of(p + "layer_norm1.bias", BIAS, d));
        out.add(TensorSpec.of(p + "mlp.fc1.weight", linear(d), inter, d));
        out.add(TensorSpec.of(p + "mlp.fc1.bias", BIAS, inter));
        out.add(TensorSpec.of(p + "mlp.fc2.weight", linear(inter), d, inter));
        out.add(TensorSpec.of(p + "mlp.fc2.bias", BIAS, d));
        out.add(TensorSpec.of(p + "layer_norm2.weight", LN_WEIGHT, d));
        out.add(TensorSpec.of(p + "layer_norm2.bias", BIAS, d));
        return out;
    }

    // ------------------------------------------------------------------ ConvNeXt (open_clip CLIP with a timm trunk)

    /** Everything in open_clip_model.safetensors: the timm trunk and head, and a small text tower. */
    static List<TensorSpec> openClipModel(ConvNextShape c, ClipShape text) {
        List<TensorSpec> out = new ArrayList<>();
        int w = text.textWidth();
        out.add(TensorSpec.of("positional_embedding", Init.normal(0, 0.3), text.textPositions(), w));
        out.add(TensorSpec.of("text_projection", linear(w), w, c.embedDim()));
        out.add(TensorSpec.of("logit_scale", Init.constant(4.6052), new long[0]));
        out.addAll(convNextTrunk(c, "visual.trunk.stem.", "visual.trunk.stages."));
        int last = c.dims()[c.dims().length - 1];
        out.add(TensorSpec.of("visual.trunk.head.norm.weight", LN_WEIGHT, last));
        out.add(TensorSpec.of("visual.trunk.head.norm.bias", BIAS, last));
        out.add(TensorSpec.of("visual.head.mlp.fc1.weight", linear(last), 2L * c.embedDim(), last));
        out.add(TensorSpec.of("visual.head.mlp.fc1.bias", BIAS, 2L * c.embedDim()));
        out.add(TensorSpec.of("visual.head.mlp.fc2.weight", linear(2L * c.embedDim()), c.embedDim(), 2L * c.embedDim()));
        out.add(TensorSpec.of("token_embedding.weight", Init.normal(0, 1), text.textVocab(), w));
        String r = "transformer.resblocks.0.";
        out.add(TensorSpec.of(r + "ln_1.weight", LN_WEIGHT, w));
        out.add(TensorSpec.of(r + "ln_1.bias", BIAS, w));
        out.add(TensorSpec.of(r + "attn.in_proj_weight", linear(w), 3L * w, w));
        out.add(TensorSpec.of(r + "attn.in_proj_bias", BIAS, 3L * w));
        out.add(TensorSpec.of(r + "attn.out_proj.weight", linear(w), w, w));
        out.add(TensorSpec.of(r + "attn.out_proj.bias", BIAS, w));
        out.add(TensorSpec.of(r + "ln_2.weight", LN_WEIGHT, w));
        out.add(TensorSpec.of(r + "ln_2.bias", BIAS, w));
        out.add(TensorSpec.of(r + "mlp.c_fc.weight", linear(w), 4L * w, w));
        out.add(TensorSpec.of(r + "mlp.c_fc.bias", BIAS, 4L * w));
        out.add(TensorSpec.of(r + "mlp.c_proj.weight", linear(4L * w), w, 4L * w));
        out.add(TensorSpec.of(r + "mlp.c_proj.bias", BIAS, w));
        out.add(TensorSpec.of("ln_final.weight", LN_WEIGHT, w));
        out.add(TensorSpec.of("ln_final.bias", BIAS, w));
        return out;
    }

    /** The timm ConvNeXt stem and stages under the given prefixes (open_clip or MGM names). */
    static List<TensorSpec> convNextTrunk(ConvNextShape c, String stem, String stages) {
        List<TensorSpec> out = new ArrayList<>();
        int c0 = c.dims()[0];
        out.add(TensorSpec.of(stem + "0.weight", linear(3L * c.stem() * c.stem()), c0, 3, c.stem(), c.stem()));
        out.add(TensorSpec.of(stem + "0.bias", BIAS, c0));
        out.add(TensorSpec.of(stem + "1.weight", LN_WEIGHT, c0));
        out.add(TensorSpec.of(stem + "1.bias", BIAS, c0));
        int in = c0;
        for (int s = 0; s < c.dims().length; s++) {
            int ch = c.dims()[s];
            String p = stages + s + ".";
            if (s > 0) {
                out.add(TensorSpec.of(p + "downsample.0.weight", LN_WEIGHT, in));
                out.add(TensorSpec.of(p + "downsample.0.bias", BIAS, in));
                out.add(TensorSpec.of(p + "downsample.1.weight", linear(4L * in), ch, in, 2, 2));
                out.add(TensorSpec.of(p + "downsample.1.bias", BIAS, ch));
            }
            for (int b = 0; b < c.depths()[s]; b++) {
                String q = p + "blocks." + b + ".";
                out.add(TensorSpec.of(q + "gamma", Init.normal(0.5, 0.1), ch));
                out.add(TensorSpec.of(q + "conv_dw.weight", Init.normal(0, 1.0 / c.kernel()), ch, 1, c.kernel(), c.kernel()));
                out.add(TensorSpec.of(q + "conv_dw.bias", BIAS, ch));
                out.add(TensorSpec.of(q + "norm.weight", LN_WEIGHT, ch));
                out.add(TensorSpec.of(q + "norm.bias", BIAS, ch));
                out.add(TensorSpec.of(q + "mlp.fc1.weight", linear(ch), 4L * ch, ch));
                out.add(TensorSpec.of(q + "mlp.fc1.bias", BIAS, 4L * ch));
                out.add(TensorSpec.of(q + "mlp.fc2.weight", linear(4L * ch), ch, 4L * ch));
                out.add(TensorSpec.of(q + "mlp.fc2.bias", BIAS, ch));
            }
            in = ch;
        }
        return out;
    }

    // ------------------------------------------------------------------ MGM modules

    /** The CLIP tower as MGM's state dict holds it ({@code model.vision_tower.vision_tower.vision_model.*}). */
    static List<TensorSpec> clipCopy(ClipShape c) {
        List<TensorSpec> out = new ArrayList<>();
        for (TensorSpec t : clipVision(c)) {
            out.add(t.renamed("model.vision_tower.vision_tower." + t.name()));
        }
        return out;
    }

    /** The ConvNeXt stem and stages as MGM's state dict holds them ({@code model.vision_tower_aux.vision_st*}). */
    static List<TensorSpec> convNextCopy(ConvNextShape c) {
        List<TensorSpec> out = new ArrayList<>();
        List<TensorSpec> open = convNextTrunk(c, "visual.trunk.stem.", "visual.trunk.stages.");
        for (TensorSpec t : open) {
            String n = t.name().replace("visual.trunk.stem.", "model.vision_tower_aux.vision_stem.")
                    .replace("visual.trunk.stages.", "model.vision_tower_aux.vision_stages.");
            out.add(t.renamed(n));
        }
        return out;
    }

    /** {@code mm_projector} (mlp2x_gelu): Linear(mm_hidden, H), GELU, Linear(H, H). */
    static List<TensorSpec> projector(int mmHidden, int hidden) {
        return List.of(
                TensorSpec.of("model.mm_projector.0.weight", linear(mmHidden), hidden, mmHidden),
                TensorSpec.of("model.mm_projector.0.bias", BIAS, hidden),
                TensorSpec.of("model.mm_projector.2.weight", linear(hidden), hidden, hidden),
                TensorSpec.of("model.mm_projector.2.bias", BIAS, hidden));
    }

    /** Patch info mining: {@code vlm_uni_{query,aux,val}_projector} = LayerNorm + Linear to mm_hidden_size. */
    static List<TensorSpec> mining(int mmHidden, int auxHidden) {
        List<TensorSpec> out = new ArrayList<>();
        for (String kind : new String[] {"query", "aux", "val"}) {
            int in = kind.equals("query") ? mmHidden : auxHidden;
            String p = "model.vlm_uni_" + kind + "_projector.";
            out.add(TensorSpec.of(p + "0.weight", LN_WEIGHT, in));
            out.add(TensorSpec.of(p + "0.bias", BIAS, in));
            out.add(TensorSpec.of(p + "1.weight", linear(in), mmHidden, in));
            out.add(TensorSpec.of(p + "1.bias", BIAS, mmHidden));
        }
        return out;
    }
}
