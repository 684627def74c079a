package mgm.bench;

import java.util.List;
import java.util.Locale;

import mgm.loaders.config.LlmConfig;
import mgm.model.WeightFormat;
import mgm.model.llm.KvCache;
import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.cpu.CpuBackend;

/**
 * Decode speed of a random model in the real layout ({@link TinyLlama}: TinyLlama's shape, or
 * with {@code --shape gemma-2b} Gemma-2B's: hidden 2048, 18 layers, 8 heads / 1 kv head of 256,
 * FFN 16384, vocab 256000, whose head is as large as all its Q4_0 layers) with lm_head as stored
 * (BF16) against quantised to Q8_0 ({@code --lm-head-8bit}), the two alternating round by round
 * in one JVM (on this kind of shared host only such pairs give a ratio worth quoting).
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     mgm.bench.LmHeadReport [--dtype Q4_0|Q8_0|BF16] [--shape tinyllama|gemma-2b] [--rounds 8] [--prompt 64]
 *     [--generate 128] [--threads 2]</pre>
 */
public final class LmHeadReport {
    private LmHeadReport() {}

    public static void main(String[] args) throws Exception {
        String dtype = "Q4_0", shape = "tinyllama";
        int rounds = 8, prompt = 64, generate = 128, threads = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dtype" -> dtype = args[++i];
                case "--shape" -> shape = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--prompt" -> prompt = Integer.parseInt(args[++i]);
                case "--generate" -> generate = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: LmHeadReport [--dtype Q4_0|Q8_0|BF16] [--shape tinyllama|gemma-2b] [--rounds 8]"
                            + " [--prompt 64] [--generate 128] [--threads 2]");
                    System.exit(2);
                }
            }
        }
        WeightFormat format = switch (dtype) {
            case "Q4_0" -> WeightFormat.Q4_0;
            case "Q8_0" -> WeightFormat.Q8_0;
            case "BF16" -> WeightFormat.STORED;
            default -> throw new IllegalArgumentException("--dtype must be Q4_0, Q8_0 or BF16, got " + dtype);
        };
        LlmConfig config = switch (shape) {
            case "tinyllama" -> TinyLlama.config(16);
            case "gemma-2b" -> gemma2b();
            default -> throw new IllegalArgumentException("--shape must be tinyllama or gemma-2b, got " + shape);
        };
        System.out.printf(Locale.ROOT, "%s, %s decode, %d threads, prompt %d, %d tokens per round, %d rounds, load %s, %s%n", shape,
                dtype, threads, prompt, generate, rounds, Load.average(), Runtime.version());
        try (CpuBackend cpu = new CpuBackend(threads);
             TinyLlama a = new TinyLlama(config, DType.BF16, format, false, cpu, prompt);
             TinyLlama b = new TinyLlama(config, DType.BF16, format, true, cpu, prompt);
             KvCache ca = a.decoder.newCache(prompt + generate, DType.F32);
             KvCache cb = b.decoder.newCache(prompt + generate, DType.F32)) {
            int[] ids = DecoderReport.promptIds(prompt, config.vocabSize());
            AlternatingDecode.Result r = AlternatingDecode.compare(new AlternatingDecode.Side("lm_head BF16", a.decoder, ca, cpu),
                    new AlternatingDecode.Side("lm_head Q8_0", b.decoder, cb, cpu), ids, generate, 1, rounds);
            System.out.printf(Locale.ROOT, "weights read: lm_head BF16 %.0f MB per token (%.1f GB/s), lm_head Q8_0 %.0f MB (%.1f GB/s)%n",
                    a.weightBytesPerToken() / 1e6, r.meanA() * a.weightBytesPerToken() / 1e9, b.weightBytesPerToken() / 1e6,
                    r.meanB() * b.weightBytesPerToken() / 1e9);
        }
    }

    /**
     * Gemma-2B's decoder (google/gemma-2b config.json). The random checkpoint holds an untied
     * lm_head beside the embeddings; a tied head reads the same bytes per token.
     */
    private static LlmConfig gemma2b() {
        return new LlmConfig(LlmConfig.Family.GEMMA, "GemmaForCausalLM", "gemma", 2048, 16384, 18, 8, 1, 256, 1e-6, 10000.0, null,
                8192, 256000, false, List.of(2), List.of(1), 0, DType.BF16, "gelu_pytorch_tanh", Activation.GELU_TANH, false, 0, 0,
                null, null);
    }
}
