package mgm.bench;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Locale;

import mgm.loaders.config.LlmConfig;
import mgm.model.WeightFormat;
import mgm.model.llm.Decoder;
import mgm.model.llm.KvCache;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.cpu.CpuBackend;

/**
 * Decode speed of the TinyLlama-shaped model ({@link TinyLlama}) with the CPU backend's
 * {@link Backend#matmuls} (q / k / v and gate / up as one GEMV each) against the interface's
 * default (one matmul per weight), the two decoders sharing one backend and one set of weights and
 * alternating round by round in one JVM (only such pairs give a ratio worth quoting on a host whose
 * speed drifts). Both reach the backend through the same reflective proxy, so its cost (well under
 * a microsecond per op) falls on both sides.
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     mgm.bench.MatmulsReport [--format Q4_0|Q8_0|STORED] [--rounds 10] [--prompt 64] [--generate 128] [--threads 2]</pre>
 */
public final class MatmulsReport {
    private MatmulsReport() {}

    public static void main(String[] args) throws Exception {
        WeightFormat format = WeightFormat.Q4_0;
        int rounds = 10, prompt = 64, generate = 128, threads = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--format" -> format = WeightFormat.valueOf(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--prompt" -> prompt = Integer.parseInt(args[++i]);
                case "--generate" -> generate = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: MatmulsReport [--format Q4_0|Q8_0|STORED] [--rounds 10] [--prompt 64] [--generate 128]"
                            + " [--threads 2]");
                    System.exit(2);
                }
            }
        }
        LlmConfig config = TinyLlama.config(16);
        System.out.printf(Locale.ROOT, "%s decode, %d threads, prompt %d, %d tokens per round, %d rounds, load %s, %s%n", format, threads,
                prompt, generate, rounds, Load.average(), Runtime.version());
        try (CpuBackend cpu = new CpuBackend(threads); TinyLlama model = new TinyLlama(config, DType.BF16, format, cpu, prompt);
             Decoder together = new Decoder(config, model.weights, forwarding(cpu, true), prompt);
             Decoder apart = new Decoder(config, model.weights, forwarding(cpu, false), prompt);
             KvCache ct = together.newCache(prompt + generate, DType.F32);
             KvCache ca = apart.newCache(prompt + generate, DType.F32)) {
            int[] ids = DecoderReport.promptIds(prompt, config.vocabSize());
            AlternatingDecode.compare(new AlternatingDecode.Side("one matmul per weight", apart, ca, cpu),
                    new AlternatingDecode.Side("matmuls", together, ct, cpu), ids, generate, 3, rounds);
        }
    }

    /** The backend behind a proxy: matmuls forwarded to it ({@code together}) or run as the interface's default loop. */
    private static Backend forwarding(Backend backend, boolean together) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (!together && method.getName().equals("matmuls")) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            try {
                return method.invoke(backend, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, handler);
    }
}
