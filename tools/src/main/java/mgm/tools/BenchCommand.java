package mgm.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import mgm.kernels.CudaBackend;
import mgm.loaders.config.LlmConfig;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.RgbImage;
import mgm.model.MgmModel;
import mgm.model.generate.Generator;
import mgm.model.generate.SamplingParams;
import mgm.model.llm.DecoderWeights;
import mgm.model.llm.KvCache;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.profile.DeviceTimer;
import mgm.runtime.profile.MachineProbe;
import mgm.runtime.profile.Roofline;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mgm-run bench}: prefill N random tokens and decode M more (greedy, no stop token) on a
 * checkpoint, a few times; reports the median tok/s of both phases and the achieved weight
 * bandwidth (decode tok/s x bytes of weights read per token), optionally the image encode time.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Measures prefill/decode tok/s and the achieved weight bandwidth of a checkpoint.",
        description = {"Measures prefill and decode speed of a checkpoint's LLM (random prompt tokens, greedy decode",
                "without stopping) and the achieved weight bandwidth: decode tok/s x bytes of weights read per token.",
                "Medians over --runs after --warmup runs. Numbers from a busy machine are noisy."},
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run bench --model-path MGM-7B --prompt-tokens 512 --gen-tokens 128",
                "  mgm-run bench --model-path MGM-7B --load-4bit --threads 8 --json",
                "  mgm-run bench --model-path MGM-7B-HD --image-file cat.jpg --device cuda"})
final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "128",
            description = "Prompt tokens to prefill (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", paramLabel = "M", defaultValue = "64",
            description = "Tokens to decode after the prompt (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--runs", paramLabel = "R", defaultValue = "3", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "1", description = "Unmeasured runs first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the random prompt (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--image-file", paramLabel = "IMG", description = "Also time encoding this image (vision towers + projector).")
    Path imageFile;

    @Option(names = "--json", description = "Print one JSON object instead of the text report.")
    boolean json;

    @Override
    public Integer call() {
        if (promptTokens < 1 || genTokens < 1 || runs < 1 || warmup < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--prompt-tokens, --gen-tokens and --runs must be at least 1, --warmup at least 0");
        }
        model.requireModelPath(spec.commandLine());
        model.validate();
        RgbImage image = imageFile == null ? null : Images.decode(new ImageDecoder(), imageFile);
        PrintWriter out = spec.commandLine().getOut();
        int context = promptTokens + genTokens;
        // Reserve (and estimate memory for) only the positions the benchmark uses.
        try (ModelOptions.Loaded loaded = model.load(spec.commandLine(), spec.commandLine().getErr(),
                model.context > 0 ? model.context : context)) {
            MgmModel m = loaded.model();
            LlmConfig c = m.config().llm();
            if (context > c.maxPositionEmbeddings()) {
                throw MgmRun.CommandFailure.usage("--prompt-tokens + --gen-tokens = " + context + " exceeds the model's "
                        + c.maxPositionEmbeddings() + " positions");
            }
            if (image != null && !m.isMultimodal()) {
                throw MgmRun.CommandFailure.usage("--image-file: the model takes no images");
            }
            double[] prefill = new double[runs];
            double[] decode = new double[runs];
            double[] encode = new double[image == null ? 0 : runs];
            SplittableRandom random = new SplittableRandom(seed);
            int[] prompt = random.ints(promptTokens, 0, c.vocabSize()).toArray();
            try (KvCache cache = m.decoder().newCache(context, m.kvDtype());
                 Generator generator = new Generator(m.decoder())) {
                for (int r = -warmup; r < runs; r++) {
                    if (image != null) {
                        long t0 = System.nanoTime();
                        Tensor features = m.encodeImage(image);
                        m.backend().synchronize();
                        long t = System.nanoTime() - t0;
                        features.close();
                        if (r >= 0) {
                            encode[r] = t / 1e6;
                        }
                    }
                    cache.truncate(0);
                    Generator.Result result = generator.generate(cache, prompt, SamplingParams.GREEDY, Set.of(), genTokens,
                            token -> true);
                    if (r >= 0) {
                        prefill[r] = result.prefillTokensPerSecond();
                        decode[r] = result.decodeTokensPerSecond();
                    }
                }
            }
            DecoderWeights w = m.decoder().weights();
            DType stored = c.torchDtype() != null ? c.torchDtype() : w.embedTokens().dtype();
            long bytes = WeightTraffic.bytesPerToken(c, model.format(), stored, w.embedTokens().dtype(), w.lmHead().dtype());
            report(out, m, c, bytes, median(prefill), median(decode), encode.length == 0 ? -1 : median(encode),
                    roofline(loaded));
            return 0;
        }
    }

    /**
     * The ceilings decode is measured against: the profiler's when profiling, the GPU's reported
     * figures on CUDA, otherwise a short streaming-read probe of this machine (about half a second).
     */
    static Roofline roofline(ModelOptions.Loaded loaded) {
        if (loaded.profiler() != null && loaded.profiler().roofline() != null) {
            return loaded.profiler().roofline();
        }
        if (loaded.backend() instanceof DeviceTimer.Source source) {
            try (DeviceTimer timer = source.openTimer()) {
                if (timer != null) {
                    return timer.roofline();
                }
            }
        }
        return MachineProbe.measure();
    }

    private void report(PrintWriter out, MgmModel m, LlmConfig c, long bytesPerToken, double prefill, double decode,
                        double encodeMs, Roofline roof) {
        double gbps = decode * bytesPerToken / 1e9;
        double ofRoof = decode * bytesPerToken / roof.bandwidth();
        double ceiling = roof.bandwidth() / bytesPerToken;
        String graphs = m.backend() instanceof CudaBackend cuda ? cuda.graphReport() : null;
        if (json) {
            ObjectNode o = JSON.createObjectNode();
            o.put("model", m.modelPath().toString());
            o.put("backend", m.backend().name());
            o.put("host_cpu", mgm.runtime.HostCpu.current().describe());
            o.put("weights", model.format().name().toLowerCase(Locale.ROOT));
            o.put("lm_head", headName(m));
            o.put("kv_dtype", m.kvDtype().name().toLowerCase(Locale.ROOT));
            o.put("prompt_tokens", promptTokens);
            o.put("gen_tokens", genTokens);
            o.put("runs", runs);
            o.put("prefill_tok_s", round(prefill));
            o.put("decode_tok_s", round(decode));
            o.put("weight_bytes_per_token", bytesPerToken);
            o.put("decode_weight_gb_s", round(gbps));
            o.put("memory_bandwidth_gb_s", round(roof.bandwidth() / 1e9));
            o.put("decode_fraction_of_bandwidth", round(ofRoof));
            o.put("roofline_source", roof.source());
            if (graphs != null) {
                o.put("cuda_graphs", graphs);
            }
            if (encodeMs >= 0) {
                o.put("image_encode_ms", round(encodeMs));
            }
            out.println(o);
            return;
        }
        out.printf(Locale.ROOT, "model:   %s (%s, %d layers, hidden %d, vocab %d), weights %s, lm_head %s, KV %s, backend %s%n",
                m.modelPath(), c.architecture(), c.numLayers(), c.hiddenSize(), c.vocabSize(),
                model.format() == mgm.model.WeightFormat.STORED ? "as stored" : model.format().name(), headName(m), m.kvDtype(),
                m.backend().name());
        out.println("host:    " + mgm.runtime.HostCpu.current().describe());
        if (encodeMs >= 0) {
            out.printf(Locale.ROOT, "image:   %.1f ms per image (%d visual tokens)%n", encodeMs, m.tokensPerImage());
        }
        out.printf(Locale.ROOT, "prefill: %d tokens, %.1f tok/s%n", promptTokens, prefill);
        out.printf(Locale.ROOT, "decode:  %d tokens, %.2f tok/s, %.2f GB/s of weights (%s read per token)%n",
                genTokens, decode, gbps, decimalBytes(bytesPerToken));
        out.printf(Locale.ROOT, "roofline: %.0f%% of %.1f GB/s memory bandwidth (ceiling %.1f tok/s; %s)%n", 100 * ofRoof,
                roof.bandwidth() / 1e9, ceiling, roof.source());
        if (graphs != null) {
            out.println("cuda:    decode " + graphs);
        }
        out.printf(Locale.ROOT, "(medians of %d runs after %d warm-up)%n", runs, warmup);
    }

    /** 13.48 GB, 812.3 MB, 148.0 KB (decimal units, as bandwidth is quoted). */
    /** The lm_head's dtype as a user names it (Q8_0, not the CPU's row-interleaved form of it). */
    private static String headName(MgmModel m) {
        DType t = m.decoder().weights().lmHead().dtype();
        return (mgm.runtime.InterleavedQuant.isInterleaved(t) ? mgm.runtime.InterleavedQuant.plain(t) : t).name();
    }

    static String decimalBytes(long b) {
        if (b >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f GB", b / 1e9);
        }
        if (b >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1f MB", b / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f KB", b / 1e3);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
