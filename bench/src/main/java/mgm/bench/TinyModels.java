package mgm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import mgm.loaders.config.LlmConfig;
import mgm.model.MapWeights;
import mgm.model.WeightFormat;
import mgm.model.WeightLoader;
import mgm.model.llm.Decoder;
import mgm.model.llm.DecoderWeights;
import mgm.model.vision.ClipSpec;
import mgm.model.vision.ClipVisionTower;
import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.Tensor;

/**
 * Small models with random weights, run by the real model code (Decoder, ClipVisionTower): for
 * profiling demonstrations and overhead benchmarks where no checkpoint is at hand. The weights are
 * host tensors (F32), loaded onto the backend through a {@link WeightLoader} in the requested format.
 */
final class TinyModels implements AutoCloseable {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final WeightLoader loader;
    final LlmConfig llm;
    final Decoder decoder;
    final ClipVisionTower clip;

    /**
     * A LLaMA-style decoder ({@code hidden}, {@code layers}, heads of 64, GQA 2:1, MLP 2.75 x hidden,
     * {@code vocab}) and, when {@code clipLayers > 0}, a CLIP ViT (hidden 256, 4 heads, 14-pixel
     * patches of an {@code imageSize} image, QuickGELU).
     */
    TinyModels(Backend backend, WeightFormat format, int hidden, int layers, int vocab, int maxChunk, int clipLayers,
               int imageSize) {
        Random r = new Random(42);
        int heads = hidden / 64;
        int kvHeads = Math.max(1, heads / 2);
        int inter = hidden * 11 / 4 / 32 * 32;
        this.llm = config(hidden, inter, layers, heads, kvHeads, vocab);
        addDecoderWeights(r, llm);
        ClipSpec spec = null;
        if (clipLayers > 0) {
            spec = new ClipSpec(256, 1024, clipLayers, 4, imageSize, 14, 1e-5f, Activation.QUICK_GELU, -1, false);
            addClipWeights(r, spec);
        }
        this.loader = new WeightLoader(new MapWeights(tensors), backend, format);
        DecoderWeights weights = DecoderWeights.load(llm, loader, "model.", DecoderWeights.ProgressListener.NONE);
        this.decoder = new Decoder(llm, weights, backend, maxChunk);
        this.clip = spec == null ? null : new ClipVisionTower(spec, loader.stored(), "vision_model.");
    }

    private static LlmConfig config(int hidden, int inter, int layers, int heads, int kvHeads, int vocab) {
        try {
            Path dir = Files.createTempDirectory("mgm-tiny");
            Path json = dir.resolve("config.json");
            Files.writeString(json, """
                    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": %d, "hidden_size": %d,
                     "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                     "num_key_value_heads": %d, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5}
                    """.formatted(vocab, hidden, inter, layers, heads, kvHeads));
            LlmConfig c = LlmConfig.load(json);
            Files.delete(json);
            Files.delete(dir);
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a temporary config.json", e);
        }
    }

    private void addDecoderWeights(Random r, LlmConfig c) {
        int h = c.hiddenSize();
        put(r, "model.embed_tokens.weight", c.vocabSize(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            put(r, p + "self_attn.q_proj.weight", c.qDim(), h);
            put(r, p + "self_attn.k_proj.weight", c.kvDim(), h);
            put(r, p + "self_attn.v_proj.weight", c.kvDim(), h);
            put(r, p + "self_attn.o_proj.weight", h, c.qDim());
            put(r, p + "input_layernorm.weight", h);
            put(r, p + "post_attention_layernorm.weight", h);
            put(r, p + "mlp.gate_proj.weight", c.intermediateSize(), h);
            put(r, p + "mlp.up_proj.weight", c.intermediateSize(), h);
            put(r, p + "mlp.down_proj.weight", h, c.intermediateSize());
        }
        put(r, "model.norm.weight", h);
        put(r, "lm_head.weight", c.vocabSize(), h);
    }

    private void addClipWeights(Random r, ClipSpec s) {
        int d = s.hiddenSize();
        String e = "vision_model.embeddings.";
        put(r, e + "patch_embedding.weight", d, 3, s.patchSize(), s.patchSize());
        put(r, e + "class_embedding", d);
        put(r, e + "position_embedding.weight", s.patches() + 1, d);
        put(r, "vision_model.pre_layrnorm.weight", d);
        put(r, "vision_model.pre_layrnorm.bias", d);
        for (int i = 0; i < s.layersToRun(); i++) {
            String p = "vision_model.encoder.layers." + i + ".";
            for (String n : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                put(r, p + "self_attn." + n + ".weight", d, d);
                put(r, p + "self_attn." + n + ".bias", d);
            }
            put(r, p + "layer_norm1.weight", d);
            put(r, p + "layer_norm1.bias", d);
            put(r, p + "layer_norm2.weight", d);
            put(r, p + "layer_norm2.bias", d);
            put(r, p + "mlp.fc1.weight", s.intermediateSize(), d);
            put(r, p + "mlp.fc1.bias", s.intermediateSize());
            put(r, p + "mlp.fc2.weight", d, s.intermediateSize());
            put(r, p + "mlp.fc2.bias", d);
        }
    }

    private void put(Random r, String name, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] data = new float[Math.toIntExact(n)];
        float scale = (float) (1 / Math.sqrt(shape[shape.length - 1]));
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian() * scale;
        }
        tensors.put(name, Tensor.of(data, shape));
    }

    @Override
    public void close() {
        decoder.close();
        loader.close();
        for (Tensor t : tensors.values()) {
            t.close();
        }
    }
}
