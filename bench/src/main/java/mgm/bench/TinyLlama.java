package mgm.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import mgm.loaders.config.LlmConfig;
import mgm.model.MapWeights;
import mgm.model.WeightFormat;
import mgm.model.WeightLoader;
import mgm.model.llm.Decoder;
import mgm.model.llm.DecoderWeights;
import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * A random TinyLlama-shaped LLaMA decoder built in memory (no files): the real tensor names and
 * shapes, weights uniform random in the stored dtype (BF16 or F16), norms at 1, optionally
 * quantised to Q8_0 / Q4_0 at load by the real {@link WeightLoader} path. Closing releases
 * everything.
 */
final class TinyLlama implements AutoCloseable {
    /** Uniform amplitude of the linear weights: standard deviation 0.02, like the model's init. */
    private static final float AMPLITUDE = 0.0346f;

    final LlmConfig config;
    final Decoder decoder;
    final DecoderWeights weights;
    private final Map<String, Tensor> source;
    private final WeightLoader loader;
    private final long weightBytes;

    /** TinyLlama-1.1B's widths with {@code layers} layers (the benchmark uses 16). */
    static LlmConfig config(int layers) {
        return new LlmConfig(LlmConfig.Family.LLAMA, "LlamaForCausalLM", "llama", 2048, 5632, layers, 16, 4, 128, 1e-5,
                10000.0, null, 2048, 32000, false, List.of(1), List.of(2), null, DType.BF16, "silu", Activation.SILU,
                false, 0, 0, null, null);
    }

    /**
     * @param stored  dtype the random checkpoint is "stored" in (BF16 or F16)
     * @param format  weight format at load (STORED keeps {@code stored}; Q8_0 / Q4_0 quantise linear layers)
     */
    TinyLlama(LlmConfig c, DType stored, WeightFormat format, Backend backend, int maxChunk) {
        this(c, stored, format, false, backend, maxChunk);
    }

    /** @param lmHead8bit lm_head quantised to Q8_0 at load ({@link WeightLoader#outputHead}) instead of kept as stored */
    TinyLlama(LlmConfig c, DType stored, WeightFormat format, boolean lmHead8bit, Backend backend, int maxChunk) {
        this.config = c;
        this.source = new LinkedHashMap<>();
        long seed = 1;
        int h = c.hiddenSize();
        source.put("model.embed_tokens.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, c.vocabSize(), h));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            source.put(p + "self_attn.q_proj.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, c.qDim(), h));
            source.put(p + "self_attn.k_proj.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, c.kvDim(), h));
            source.put(p + "self_attn.v_proj.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, c.kvDim(), h));
            source.put(p + "self_attn.o_proj.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, h, c.qDim()));
            source.put(p + "mlp.gate_proj.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, c.intermediateSize(), h));
            source.put(p + "mlp.up_proj.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, c.intermediateSize(), h));
            source.put(p + "mlp.down_proj.weight", RandomTensors.uniform(stored, seed++, AMPLITUDE, h, c.intermediateSize()));
            source.put(p + "input_layernorm.weight", RandomTensors.filled(stored, 1f, h));
            source.put(p + "post_attention_layernorm.weight", RandomTensors.filled(stored, 1f, h));
        }
        source.put("model.norm.weight", RandomTensors.filled(stored, 1f, h));
        source.put("lm_head.weight", RandomTensors.uniform(stored, seed, AMPLITUDE, c.vocabSize(), h));
        long bytes = 0;
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            Tensor t = e.getValue();
            if (e.getKey().endsWith("proj.weight")) {
                bytes += format.bytes(t.dim(0), t.dim(1), stored);
            } else if (e.getKey().equals(WeightLoader.LM_HEAD)) {
                bytes += lmHead8bit ? DType.Q8_0.byteSize(t.numel()) : t.byteSize();
            } else if (e.getKey().equals("model.embed_tokens.weight")) {
                bytes += t.byteSize() / c.vocabSize();
            } else {
                bytes += 4L * t.numel(); // norms, converted to F32
            }
        }
        this.weightBytes = bytes;
        this.loader = new WeightLoader(new MapWeights(source), backend, format, lmHead8bit);
        this.weights = DecoderWeights.load(c, loader, "model.", DecoderWeights.ProgressListener.NONE);
        if (format != WeightFormat.STORED) {
            // the quantised copies replace the linear layers: free the random originals
            for (Map.Entry<String, Tensor> e : source.entrySet()) {
                String name = e.getKey();
                if (name.startsWith("model.layers.") && name.endsWith("proj.weight")) {
                    e.getValue().close();
                }
            }
        }
        if (lmHead8bit) {
            source.get(WeightLoader.LM_HEAD).close();  // replaced by its Q8_0 copy
        }
        this.decoder = new Decoder(c, weights, backend, maxChunk);
    }

    /**
     * Bytes of weights one decode step reads: every linear layer, the final norm, lm_head and one
     * embedding row (the KV cache is reported separately).
     */
    long weightBytesPerToken() {
        return weightBytes;
    }

    @Override
    public void close() {
        decoder.close();
        loader.close();
        for (Tensor t : source.values()) {
            t.close();
        }
    }
}
