package mgm.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import mgm.loaders.config.LlmConfig;
import mgm.model.WeightFormat;
import mgm.model.llm.Decoder;
import mgm.model.llm.KvCache;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.QuantActivations;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;
import mgm.runtime.profile.MachineProbe;
import mgm.runtime.profile.Profiler;

/**
 * The end-to-end decoder benchmark: a random TinyLlama-shaped model (hidden 2048, 16 layers,
 * 16 / 4 heads, FFN 5632, vocab 32000) built in memory, prefill of a 512-token prompt and greedy
 * decoding of 128 tokens after it, with BF16, F16, Q8_0 and Q4_0 weights. Reports tokens/s and
 * achieved GB/s (decode tokens/s x bytes of weights one step reads) next to a streaming-read
 * probe measured in the same run (one probe pass before every repetition), and llama.cpp's
 * figures for the same shape on this kind of machine.
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     mgm.bench.DecoderReport [--threads 2] [--dtypes BF16,F16,Q8_0,Q4_0] [--prompt 512] [--generate 128]
 *     [--reps 3] [--layers 16] [--kv F16|BF16|F32] [--breakdown] [--q8-activations] [--lm-head-8bit]</pre>
 * The KV cache is F16 unless {@code --kv} says otherwise: what {@code mgm-run} generates with by default
 * (MGM's fp16 cache) and llama.cpp's default cache type, so the figures compare like with like.
 * {@code --breakdown} adds one profiled run per dtype and prints the profiler's prefill/decode op tables.
 * {@code --q8-activations} rounds the activations of the Q8_0 / Q4_0 matmuls to Q8_0 first, as llama.cpp
 * does ({@link QuantActivations#Q8_0}). {@code --lm-head-8bit} quantises lm_head to Q8_0 too (as
 * {@code mgm-run --lm-head-8bit}; llama.cpp's quantised files keep it at 6 bits or more).
 */
public final class DecoderReport {
    private DecoderReport() {}

    /** llama.cpp, same shape, 2 threads, on this kind of machine (issue 4). */
    static double llamaCppDecode(String dtype) {
        return switch (dtype) {
            case "BF16", "F16" -> 26;
            case "Q8_0" -> 34;
            case "Q4_0" -> 67;
            default -> Double.NaN;
        };
    }

    static final String LLAMA_CPP_PREFILL = "100-145";

    /** {@code label}: the dtype, and the activation form where matmuls round them (see {@link QuantActivations}). */
    record Result(String dtype, String label, double prefillTokS, double decodeTokS, double decodeGbS, double streamGbS,
                  double ratio, long bytesPerToken) {}

    public static void main(String[] args) throws Exception {
        int threads = 2;
        String[] dtypes = {"BF16", "F16", "Q8_0", "Q4_0"};
        int prompt = 512;
        int generate = 128;
        int reps = 3;
        int layers = 16;
        DType kv = DType.F16;  // mgm-run's and llama.cpp's default cache type
        boolean breakdown = false;
        QuantActivations activations = QuantActivations.F32;
        boolean lmHead8bit = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--dtypes" -> dtypes = args[++i].split(",");
                case "--prompt" -> prompt = Integer.parseInt(args[++i]);
                case "--generate" -> generate = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--layers" -> layers = Integer.parseInt(args[++i]);
                case "--kv" -> kv = DType.valueOf(args[++i]);
                case "--breakdown" -> breakdown = true;
                case "--q8-activations" -> activations = QuantActivations.Q8_0;
                case "--lm-head-8bit" -> lmHead8bit = true;
                default -> {
                    System.err.println("usage: DecoderReport [--threads N] [--dtypes BF16,F16,Q8_0,Q4_0] [--prompt 512]"
                            + " [--generate 128] [--reps 3] [--layers 16] [--kv F16|BF16|F32] [--breakdown] [--q8-activations]"
                            + " [--lm-head-8bit]");
                    System.exit(2);
                }
            }
        }
        LlmConfig config = TinyLlama.config(layers);
        System.out.printf(Locale.ROOT, "mgm decoder bench: TinyLlama shape (hidden %d, %d layers, %d/%d heads, FFN %d, vocab %d),"
                        + " %d threads, prompt %d, generate %d, KV %s, %d reps, Java %s, load %s%n",
                config.hiddenSize(), layers, config.numHeads(), config.numKvHeads(), config.intermediateSize(),
                config.vocabSize(), threads, prompt, generate, kv, reps, Runtime.version(), Load.average());
        System.out.println("host: " + mgm.runtime.HostCpu.current().describe());
        List<Result> results = new ArrayList<>();
        try (Bandwidth probe = new Bandwidth(512L << 20, threads); CpuBackend cpu = new CpuBackend(threads, activations)) {
            probe.measure(1);
            for (String dt : dtypes) {
                results.add(run(cpu, probe, config, dt, lmHead8bit, prompt, generate, reps, kv, breakdown));
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "load average after: %s%n", Load.average());
        print(results, prompt, generate);
    }

    static Result run(CpuBackend cpu, Bandwidth probe, LlmConfig config, String dt, boolean lmHead8bit, int prompt, int generate,
                      int reps, DType kv, boolean breakdown) throws InterruptedException {
        WeightFormat format = switch (dt) {
            case "Q8_0" -> WeightFormat.Q8_0;
            case "Q4_0" -> WeightFormat.Q4_0;
            default -> WeightFormat.STORED;
        };
        DType stored = dt.equals("F16") ? DType.F16 : DType.BF16;
        long t0 = System.nanoTime();
        Profiler profiler = breakdown ? Profiler.start(Profiler.Options.forReport().withJfr(false).withNvtx(false)) : null;
        Backend backend = breakdown ? profiler.wrap(cpu) : cpu;
        if (profiler != null) {
            profiler.setEnabled(false); // only the breakdown run below is recorded
        }
        try (TinyLlama model = new TinyLlama(config, stored, format, lmHead8bit, backend, prompt);
             KvCache cache = model.decoder.newCache(prompt + generate, kv);
             Tensor best = Tensor.allocate(DType.I32, 1)) {
            System.out.printf(Locale.ROOT, "%s: model built in %.1f s, %.0f MB of weights per token%n", dt,
                    (System.nanoTime() - t0) / 1e9, model.weightBytesPerToken() / 1e6);
            int[] ids = promptIds(prompt, config.vocabSize());
            // warm-up: compile every kernel at the shapes measured
            runOnce(model.decoder, cache, backend, ids, Math.min(generate, 32), best);
            double[] prefill = new double[reps];
            double[] decode = new double[reps];
            double[] stream = new double[reps];
            double[] ratio = new double[reps];
            long bytes = model.weightBytesPerToken();
            for (int r = 0; r < reps; r++) {
                // warm-up passes first: the single pass right after building a model measured 2.6-3.2
                // GB/s where the next ones measured 13-19 (which made "% of stream" read 192%)
                stream[r] = probe.measure(1);
                // whether the threads had cores of their own around this repetition (a hint only: see the README)
                double before = MachineProbe.fmaScaling(cpu.threads(), 20_000_000L);
                double[] s = runOnce(model.decoder, cache, backend, ids, generate, best);
                double after = MachineProbe.fmaScaling(cpu.threads(), 20_000_000L);
                prefill[r] = prompt / s[0];
                decode[r] = generate / s[1];
                ratio[r] = decode[r] * bytes / 1e9 / stream[r];
                System.out.printf(Locale.ROOT, "  rep %d: prefill %.1f tok/s, decode %.2f tok/s (%.1f GB/s), stream %.1f GB/s,"
                                + " FMA rate of %d threads %.2fx / %.2fx one's (before / after)%n",
                        r, prefill[r], decode[r], decode[r] * bytes / 1e9, stream[r], cpu.threads(), before, after);
            }
            if (profiler != null) {
                profiler.setEnabled(true);
                runOnce(model.decoder, cache, backend, ids, generate, best); // the decoder marks prefill and decode
                profiler.setEnabled(false);
                System.out.println("  breakdown, " + dt + ":");
                System.out.print(profiler.report());
            }
            double dec = Stats.median(decode);
            String label = (format != WeightFormat.STORED && cpu.quantActivations() == QuantActivations.Q8_0 ? dt + ", Q8_0 act." : dt)
                    + (lmHead8bit ? ", lm_head Q8_0" : "");
            return new Result(dt, label, Stats.median(prefill), dec, dec * bytes / 1e9, Stats.median(stream), Stats.median(ratio), bytes);
        } finally {
            if (profiler != null) {
                profiler.close();
            }
        }
    }

    /** One prefill of {@code ids} from an empty cache and {@code generate} greedy steps; returns {prefill s, decode s}. */
    static double[] runOnce(Decoder decoder, KvCache cache, Backend backend, int[] ids, int generate, Tensor best) {
        cache.truncate(0);
        long t0 = System.nanoTime();
        Tensor logits = decoder.prefill(cache, ids, null);
        backend.argmax(logits, best);
        long t1 = System.nanoTime();
        decodeTokens(decoder, cache, backend, generate, best);
        long t2 = System.nanoTime();
        return new double[] {(t1 - t0) / 1e9, (t2 - t1) / 1e9};
    }

    /** Greedy decoding: feeds the argmax of each step's logits back in. */
    static void decodeTokens(Decoder decoder, KvCache cache, Backend backend, int generate, Tensor best) {
        for (int i = 0; i < generate; i++) {
            int token = (int) best.getLong(0);
            Tensor logits = decoder.decode(cache, token);
            backend.argmax(logits, best);
        }
    }

    static int[] promptIds(int n, int vocab) {
        int[] ids = new int[n];
        long z = 12345;
        ids[0] = 1;
        for (int i = 1; i < n; i++) {
            z = z * 6364136223846793005L + 1442695040888963407L;
            ids[i] = 3 + (int) ((z >>> 33) % (vocab - 3));
        }
        return ids;
    }

    static void print(List<Result> results, int prompt, int generate) {
        System.out.println();
        System.out.printf("| weights | prefill %d (tok/s) | decode %d (tok/s) | llama.cpp decode | MB/token | decode GB/s | stream GB/s | %% of stream |%n",
                prompt, generate);
        System.out.println("|---------|------------------:|-----------------:|-----------------:|---------:|------------:|------------:|------------:|");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "| %-7s | %17.1f | %16.2f | %16s | %8.0f | %11.1f | %11.1f | %10.0f%% |%n", r.label,
                    r.prefillTokS, r.decodeTokS, String.format(Locale.ROOT, "%.0f%s", llamaCppDecode(r.dtype),
                            r.dtype.equals("BF16") ? " (F16)" : ""), r.bytesPerToken / 1e6, r.decodeGbS, r.streamGbS, 100 * r.ratio);
        }
        System.out.println("llama.cpp prefill on the same shape: " + LLAMA_CPP_PREFILL + " tok/s");
    }
}
