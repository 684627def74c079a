package mgm.model.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import mgm.loaders.config.LlmConfig;
import mgm.model.MapWeights;
import mgm.model.WeightFormat;
import mgm.model.WeightLoader;
import mgm.kernels.CudaBackend;
import mgm.model.testing.TestBackends;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.ReferenceBackend;
import mgm.runtime.profile.Profiler;
import mgm.runtime.profile.Roofline;
import mgm.runtime.profile.TraceFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder's profiling marks on a tiny random LLaMA: prefill and each decode step are phases,
 * each layer a layer slice holding that layer's ops, and profiling changes no logit.
 */
class ProfiledDecoderTest {
    private static final int LAYERS = 2;

    @TempDir
    Path dir;

    @Test
    void phasesAndLayersAreMarkedAndLogitsUnchanged() throws IOException {
        LlmConfig config = tinyConfig();
        Map<String, Tensor> tensors = randomWeights(config);
        float[][] plain = run(config, tensors, new ReferenceBackend());

        Profiler profiler = Profiler.start(Profiler.Options.forReport().withTrace(true).withJfr(false)
                .withRoofline(new Roofline(10e9, 100e9, "test figures")));
        float[][] profiled = run(config, tensors, profiler.wrap(new ReferenceBackend()));
        for (int i = 0; i < plain.length; i++) {
            assertArrayEquals(plain[i], profiled[i], "logits of step " + i);
        }

        assertEquals(1, profiler.phaseTimes().get(Decoder.PREFILL).regions());
        assertEquals(3, profiler.phaseTimes().get(Decoder.DECODE).regions());
        Path file = dir.resolve("decoder.json");
        profiler.writeTrace(file);
        List<TraceFiles.Slice> slices = TraceFiles.read(file);
        List<TraceFiles.Slice> layers = slices.stream().filter(s -> s.cat().equals("layer")).toList();
        // the prefill of 5 tokens runs as chunks of 4 and 1, then 3 decode steps: 5 passes through the layers
        assertEquals(5 * LAYERS, layers.size(), "every layer of both prefill chunks and 3 decode steps");
        for (TraceFiles.Slice layer : layers) {
            assertTrue(layer.name().startsWith(Decoder.LAYER + " "), layer.name());
            assertTrue(List.of(Decoder.PREFILL, Decoder.DECODE).contains(layer.parent().name()), layer.toString());
        }
        List<TraceFiles.Slice> ops = slices.stream().filter(s -> s.cat().equals("op")).toList();
        long attentionInLayers = ops.stream().filter(o -> o.name().equals("attention") && o.parent().cat().equals("layer"))
                .count();
        assertEquals(5 * LAYERS, attentionInLayers);
        // outside the phases only the set-up: the decoder uploading its rope frequencies
        assertEquals(List.of("copy"), ops.stream().filter(o -> o.parent() == null).map(TraceFiles.Slice::name).toList());
        String report = profiler.report();
        assertTrue(report.contains("== prefill: 1 region") && report.contains("== decode: 3 regions"), report);
    }

    /**
     * On the CUDA backend (kernels on the host emulator) every op is timed by CUDA events on the
     * stream: the trace has the stream's own track (pid 2) with one slice per op, nested in the
     * same phases and layers, and the logits equal those of the unprofiled run (whose decode steps
     * are CUDA graphs; profiled ones run op by op).
     */
    @Test
    void cudaOpsAreTimedOnTheStream() throws IOException {
        CudaBackend cuda = TestBackends.cudaEmulated().orElse(null);
        Assumptions.assumeTrue(cuda != null, "the CUDA emulator library was not built (needs g++)");
        LlmConfig config = tinyConfig();
        Map<String, Tensor> tensors = randomWeights(config);
        float[][] plain = run(config, tensors, cuda);

        Profiler profiler = Profiler.start(Profiler.Options.forReport().withTrace(true).withJfr(false));
        float[][] profiled = run(config, tensors, profiler.wrap(cuda));
        for (int i = 0; i < plain.length; i++) {
            assertArrayEquals(plain[i], profiled[i], "logits of step " + i);
        }
        Path file = dir.resolve("cuda.json");
        profiler.writeTrace(file);
        List<TraceFiles.Slice> slices = TraceFiles.read(file);
        List<TraceFiles.Slice> hostOps = slices.stream().filter(s -> s.pid() == 1 && s.cat().equals("op")).toList();
        List<TraceFiles.Slice> streamOps = slices.stream().filter(s -> s.pid() == 2 && s.cat().equals("op")).toList();
        assertTrue(hostOps.size() > 20, hostOps.size() + " ops");
        assertEquals(hostOps.stream().map(TraceFiles.Slice::name).sorted().toList(),
                streamOps.stream().map(TraceFiles.Slice::name).sorted().toList(), "every op also on the stream's track");
        assertEquals(5 * LAYERS, slices.stream().filter(s -> s.pid() == 2 && s.cat().equals("layer")).count(),
                "layers on the stream's track");
        String report = profiler.report();
        assertTrue(report.contains("== decode: 3 regions"), report);
    }

    /** Prefill of 5 tokens then 3 decode steps; the logits of each pass, copied. */
    private static float[][] run(LlmConfig config, Map<String, Tensor> tensors, Backend backend) {
        try (WeightLoader loader = new WeightLoader(new MapWeights(tensors), backend, WeightFormat.STORED)) {
            DecoderWeights weights = DecoderWeights.load(config, loader, "model.", DecoderWeights.ProgressListener.NONE);
            try (Decoder decoder = new Decoder(config, weights, backend, 4); KvCache cache = decoder.newCache(16, DType.F32)) {
                float[][] out = new float[4][];
                out[0] = TestBackends.read(backend, decoder.prefill(cache, new int[] {1, 7, 3, 9, 2}, null));
                for (int i = 1; i < 4; i++) {
                    out[i] = TestBackends.read(backend, decoder.decode(cache, 10 + i));
                }
                return out;
            }
        }
    }

    private LlmConfig tinyConfig() throws IOException {
        Path json = dir.resolve("config.json");
        Files.writeString(json, """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 40, "hidden_size": 32,
                 "intermediate_size": 48, "num_hidden_layers": %d, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "max_position_embeddings": 64, "rms_norm_eps": 1e-5}
                """.formatted(LAYERS));
        return LlmConfig.load(json);
    }

    private static Map<String, Tensor> randomWeights(LlmConfig c) {
        Random r = new Random(11);
        Map<String, Tensor> m = new LinkedHashMap<>();
        int h = c.hiddenSize();
        m.put("model.embed_tokens.weight", random(r, c.vocabSize(), h));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "self_attn.q_proj.weight", random(r, c.qDim(), h));
            m.put(p + "self_attn.k_proj.weight", random(r, c.kvDim(), h));
            m.put(p + "self_attn.v_proj.weight", random(r, c.kvDim(), h));
            m.put(p + "self_attn.o_proj.weight", random(r, h, c.qDim()));
            m.put(p + "input_layernorm.weight", random(r, h));
            m.put(p + "post_attention_layernorm.weight", random(r, h));
            m.put(p + "mlp.gate_proj.weight", random(r, c.intermediateSize(), h));
            m.put(p + "mlp.up_proj.weight", random(r, c.intermediateSize(), h));
            m.put(p + "mlp.down_proj.weight", random(r, h, c.intermediateSize()));
        }
        m.put("model.norm.weight", random(r, h));
        m.put("lm_head.weight", random(r, c.vocabSize(), h));
        return m;
    }

    private static Tensor random(Random r, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] data = new float[(int) n];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (r.nextGaussian() * 0.2);
        }
        return Tensor.of(data, shape);
    }
}
