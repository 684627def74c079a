package mgm.bench;

import java.util.Locale;

import mgm.loaders.config.LlmConfig;
import mgm.model.WeightFormat;
import mgm.model.llm.KvCache;
import mgm.runtime.DType;
import mgm.runtime.QuantActivations;
import mgm.runtime.cpu.CpuBackend;

/**
 * Decode speed of the TinyLlama-shaped model ({@link TinyLlama}) with quantised weights, activations
 * entering the matmuls as they are ({@link QuantActivations#F32}) against rounded to Q8_0
 * ({@link QuantActivations#Q8_0}, llama.cpp's numerics), the two alternating round by round in one
 * JVM: on a host whose speed drifts by tens of percent from minute to minute, only such pairs give
 * a ratio worth quoting.
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     mgm.bench.ActivationRoundingReport [--dtype Q4_0|Q8_0] [--rounds 8] [--prompt 64] [--generate 128] [--threads 2]</pre>
 */
public final class ActivationRoundingReport {
    private ActivationRoundingReport() {}

    public static void main(String[] args) throws Exception {
        String dtype = "Q4_0";
        int rounds = 8, prompt = 64, generate = 128, threads = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dtype" -> dtype = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--prompt" -> prompt = Integer.parseInt(args[++i]);
                case "--generate" -> generate = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: ActivationRoundingReport [--dtype Q4_0|Q8_0] [--rounds 8] [--prompt 64] [--generate 128]"
                            + " [--threads 2]");
                    System.exit(2);
                }
            }
        }
        WeightFormat format = switch (dtype) {
            case "Q4_0" -> WeightFormat.Q4_0;
            case "Q8_0" -> WeightFormat.Q8_0;
            default -> throw new IllegalArgumentException("--dtype must be Q4_0 or Q8_0, got " + dtype);
        };
        LlmConfig config = TinyLlama.config(16);
        System.out.printf(Locale.ROOT, "%s decode, %d threads, prompt %d, %d tokens per round, %d rounds, load %s, %s%n", dtype, threads,
                prompt, generate, rounds, Load.average(), Runtime.version());
        try (CpuBackend asIs = new CpuBackend(threads, QuantActivations.F32);
             CpuBackend rounded = new CpuBackend(threads, QuantActivations.Q8_0);
             TinyLlama a = new TinyLlama(config, DType.BF16, format, asIs, prompt);
             TinyLlama b = new TinyLlama(config, DType.BF16, format, rounded, prompt);
             KvCache ca = a.decoder.newCache(prompt + generate, DType.F32);
             KvCache cb = b.decoder.newCache(prompt + generate, DType.F32)) {
            int[] ids = DecoderReport.promptIds(prompt, config.vocabSize());
            AlternatingDecode.Result r = AlternatingDecode.compare(new AlternatingDecode.Side("F32 activations", a.decoder, ca, asIs),
                    new AlternatingDecode.Side("Q8_0 activations", b.decoder, cb, rounded), ids, generate, 1, rounds);
            double mb = a.weightBytesPerToken() / 1e6;
            System.out.printf(Locale.ROOT, "weights read: F32 activations %.1f GB/s, Q8_0 activations %.1f GB/s%n", r.meanA() * mb / 1e3,
                    r.meanB() * mb / 1e3);
        }
    }
}
