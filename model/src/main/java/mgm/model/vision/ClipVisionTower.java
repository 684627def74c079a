package mgm.model.vision;

import mgm.model.WeightLoader;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * HF {@code CLIPVisionModel} up to MGM's selected hidden state: a bias-free patch convolution,
 * class and position embeddings, {@code pre_layrnorm}, then pre-LN transformer blocks
 * {@code x += out_proj(MHA(LN1 x)); x += fc2(act(fc1(LN2 x)))}. Images of a batch run their
 * linear layers together as one GEMM; attention runs per image. Weights stay as stored (MGM never
 * quantises the towers).
 */
public final class ClipVisionTower {
    private final ClipSpec spec;
    private final Backend backend;
    private final Tensor patchWeight;
    private final Tensor classEmbedding;
    private final Tensor positionEmbedding;
    private final Tensor preNormWeight;
    private final Tensor preNormBias;
    private final Block[] blocks;

    private record Block(Tensor ln1w, Tensor ln1b, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                         Tensor wo, Tensor bo, Tensor ln2w, Tensor ln2b, Tensor fc1, Tensor b1, Tensor fc2, Tensor b2) {
    }

    /** @param prefix e.g. {@code vision_model.} or {@code model.vision_tower.vision_tower.vision_model.} */
    public ClipVisionTower(ClipSpec spec, WeightLoader w, String prefix) {
        this.spec = spec;
        this.backend = w.backend();
        int d = spec.hiddenSize();
        String e = prefix + "embeddings.";
        patchWeight = w.stored(e + "patch_embedding.weight", d, 3, spec.patchSize(), spec.patchSize());
        classEmbedding = w.f32(e + "class_embedding", d).reshape(1, d);
        positionEmbedding = w.f32(e + "position_embedding.weight", spec.patches() + 1, d);
        preNormWeight = w.vector(prefix + "pre_layrnorm.weight", d);
        preNormBias = w.vector(prefix + "pre_layrnorm.bias", d);
        blocks = new Block[spec.layersToRun()];
        int inter = spec.intermediateSize();
        for (int i = 0; i < blocks.length; i++) {
            String p = prefix + "encoder.layers." + i + ".";
            String a = p + "self_attn.";
            blocks[i] = new Block(
                    w.vector(p + "layer_norm1.weight", d), w.vector(p + "layer_norm1.bias", d),
                    w.stored(a + "q_proj.weight", d, d), w.vector(a + "q_proj.bias", d),
                    w.stored(a + "k_proj.weight", d, d), w.vector(a + "k_proj.bias", d),
                    w.stored(a + "v_proj.weight", d, d), w.vector(a + "v_proj.bias", d),
                    w.stored(a + "out_proj.weight", d, d), w.vector(a + "out_proj.bias", d),
                    w.vector(p + "layer_norm2.weight", d), w.vector(p + "layer_norm2.bias", d),
                    w.stored(p + "mlp.fc1.weight", inter, d), w.vector(p + "mlp.fc1.bias", inter),
                    w.stored(p + "mlp.fc2.weight", d, inter), w.vector(p + "mlp.fc2.bias", d));
        }
    }

    public ClipSpec spec() {
        return spec;
    }

    /**
     * Encodes images {@code [N, 3, S, S]} (NCHW, normalised) into the selected hidden state
     * {@code [N, tokens, hidden]} (CLS dropped unless kept), owned by the caller.
     */
    public Tensor encode(Tensor images) {
        int s = spec.imageSize();
        if (images.rank() != 4 || images.dim(1) != 3 || images.dim(2) != s || images.dim(3) != s) {
            throw new IllegalArgumentException("CLIP expects images [N, 3, " + s + ", " + s + "], got " + images.describe());
        }
        int n = (int) images.dim(0);
        int d = spec.hiddenSize();
        int g = spec.gridSize();
        int seq = spec.patches() + 1;
        int rows = n * seq;
        try (Tensor nhwc = backend.allocate(DType.F32, n, s, s, 3);
             Tensor patches = backend.allocate(DType.F32, n, g, g, d);
             Tensor x = backend.allocate(DType.F32, rows, d);
             Tensor normed = backend.allocate(DType.F32, rows, d);
             Tensor q = backend.allocate(DType.F32, rows, d);
             Tensor k = backend.allocate(DType.F32, rows, d);
             Tensor v = backend.allocate(DType.F32, rows, d);
             Tensor attn = backend.allocate(DType.F32, rows, d);
             Tensor out = backend.allocate(DType.F32, rows, d);
             Tensor hidden = backend.allocate(DType.F32, rows, spec.intermediateSize())) {
            backend.copy(images.permute(0, 2, 3, 1), nhwc);
            backend.conv2d(nhwc, patchWeight, null, spec.patchSize(), 0, patches);
            Tensor tokens = x.reshape(n, seq, d);
            Tensor patchRows = patches.reshape(n, (long) g * g, d);
            for (int i = 0; i < n; i++) {
                Tensor image = tokens.select(0, i);
                backend.copyRows(classEmbedding, image, 0);
                backend.copyRows(patchRows.select(0, i), image, 1);
            }
            backend.add(tokens, positionEmbedding, tokens);
            backend.layerNorm(x, preNormWeight, preNormBias, spec.layerNormEps(), x);

            int heads = spec.heads();
            int hd = d / heads;
            float scale = (float) (1.0 / Math.sqrt(hd));
            for (int layer = 0; layer < blocks.length; layer++) {
                Block b = blocks[layer];
                try (Backend.Scope _ = backend.layer("clip", layer)) {
                    backend.layerNorm(x, b.ln1w, b.ln1b, spec.layerNormEps(), normed);
                    backend.matmul(normed, b.wq, b.bq, q);
                    backend.matmul(normed, b.wk, b.bk, k);
                    backend.matmul(normed, b.wv, b.bv, v);
                    for (int i = 0; i < n; i++) {
                        long from = (long) i * seq;
                        backend.attention(heads(q, from, seq, heads, hd), heads(k, from, seq, heads, hd),
                                heads(v, from, seq, heads, hd), scale, false, 0, heads(attn, from, seq, heads, hd));
                    }
                    backend.matmul(attn, b.wo, b.bo, out);
                    backend.add(x, out, x);
                    backend.layerNorm(x, b.ln2w, b.ln2b, spec.layerNormEps(), normed);
                    backend.matmul(normed, b.fc1, b.b1, hidden);
                    backend.activation(spec.activation(), hidden, hidden);
                    backend.matmul(hidden, b.fc2, b.b2, out);
                    backend.add(x, out, x);
                }
            }
            int first = spec.keepCls() ? 0 : 1;
            Tensor result = backend.allocate(DType.F32, n, spec.outputTokens(), d);
            backend.copy(tokens.slice(1, first, seq), result);
            return result;
        }
    }

    private static Tensor heads(Tensor t, long from, int seq, int heads, int hd) {
        return t.slice(0, from, from + seq).reshape(seq, heads, hd);
    }
}
