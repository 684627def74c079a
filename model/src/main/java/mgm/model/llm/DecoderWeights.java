package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import mgm.model.WeightLoader;
import mgm.runtime.Tensor;

/**
 * All decoder weights, fetched by their HF names ({@code model.layers.N...}) with the shapes the
 * config implies; a missing tensor or a shape that disagrees with config.json is an error naming
 * the tensor. The embedding table and lm_head stay as stored (as bitsandbytes leaves them) unless
 * the loader quantises lm_head ({@link WeightLoader#outputHead}); the other linear weights follow
 * the loader's format.
 */
public record DecoderWeights(Tensor embedTokens, LayerWeights[] layers, Tensor finalNorm, Tensor lmHead) {

    /** Tensor names under {@code prefix} (normally "model.") and {@code lm_head.weight}. */
    public static DecoderWeights load(LlmConfig c, WeightLoader w, String prefix, ProgressListener progress) {
        int h = c.hiddenSize();
        Tensor embed = w.stored(prefix + "embed_tokens.weight", c.vocabSize(), h);
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int i = 0; i < c.numLayers(); i++) {
            String p = prefix + "layers." + i + ".";
            String a = p + "self_attn.";
            Tensor bq = w.has(a + "q_proj.bias") ? w.vector(a + "q_proj.bias", c.qDim()) : null;
            Tensor bk = w.has(a + "k_proj.bias") ? w.vector(a + "k_proj.bias", c.kvDim()) : null;
            Tensor bv = w.has(a + "v_proj.bias") ? w.vector(a + "v_proj.bias", c.kvDim()) : null;
            Tensor wq = w.linear(a + "q_proj.weight", c.qDim(), h);
            Tensor wk = w.linear(a + "k_proj.weight", c.kvDim(), h);
            Tensor wv = w.linear(a + "v_proj.weight", c.kvDim(), h);
            Tensor wo = w.linear(a + "o_proj.weight", h, c.qDim());
            Tensor attnNorm = w.vector(p + "input_layernorm.weight", h);
            Tensor mlpNorm = w.vector(p + "post_attention_layernorm.weight", h);
            int inter = c.intermediateSize();
            if (c.isMoe()) {
                String m = p + "block_sparse_moe.";
                // The router stays as stored: quantising it would move routing decisions.
                Tensor router = w.stored(m + "gate.weight", c.numExperts(), h);
                Tensor[] gate = new Tensor[c.numExperts()];
                Tensor[] up = new Tensor[c.numExperts()];
                Tensor[] down = new Tensor[c.numExperts()];
                for (int e = 0; e < c.numExperts(); e++) {
                    String x = m + "experts." + e + ".";
                    gate[e] = w.linear(x + "w1.weight", inter, h);
                    up[e] = w.linear(x + "w3.weight", inter, h);
                    down[e] = w.linear(x + "w2.weight", h, inter);
                }
                // one allocation for the layer's attention part and router; the experts stay apart (Mixtral's are
                // 33 MB and more each, nearly all in huge pages already, and moving them would hold a layer's experts twice)
                Tensor[] t = w.packed(attnNorm, wq, wk, wv, wo, bq, bk, bv, mlpNorm, router);
                layers[i] = new LayerWeights(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], null, null, null,
                        t[9], gate, up, down);
            } else {
                String m = p + "mlp.";
                Tensor gate = w.linear(m + "gate_proj.weight", inter, h);
                Tensor up = w.linear(m + "up_proj.weight", inter, h);
                Tensor down = w.linear(m + "down_proj.weight", h, inter);
                // one allocation for the layer (huge pages for all but its last few MB: WeightLoader.packed)
                Tensor[] t = w.packed(attnNorm, wq, wk, wv, wo, bq, bk, bv, mlpNorm, gate, up, down);
                layers[i] = new LayerWeights(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11],
                        null, null, null, null);
            }
            progress.step(i + 1, c.numLayers());
        }
        Tensor norm = w.vector(prefix + "norm.weight", h);
        Tensor head;
        if (w.has(WeightLoader.LM_HEAD)) {
            head = w.outputHead(WeightLoader.LM_HEAD, c.vocabSize(), h);
        } else if (c.tieWordEmbeddings()) {
            Tensor quantised = w.outputHead(prefix + "embed_tokens.weight", c.vocabSize(), h);
            head = quantised != null ? quantised : embed;
        } else {
            throw new IllegalArgumentException("tensor 'lm_head.weight' is missing and the config does not tie it to the embeddings");
        }
        return new DecoderWeights(embed, layers, norm, head);
    }

    /** Receives load progress (layers done of total); {@link #NONE} ignores it. */
    public interface ProgressListener {
        ProgressListener NONE = (done, total) -> { };

        void step(int done, int total);
    }
}
