package mgm.bench;

import java.util.concurrent.TimeUnit;

import mgm.model.WeightFormat;
import mgm.model.llm.KvCache;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH form of {@link DecoderReport}: the random TinyLlama-shaped decoder (built in memory) with
 * BF16 / F16 / Q8_0 / Q4_0 weights. {@code prefill} runs a 512-token prompt from an empty cache;
 * {@code decode} runs one greedy step after a 512-token prompt (the cache is rewound to 512 every
 * 128 steps). The aux counters give tokens/s and bytes of weights
 * per second (divide by 1e9 for GB/s). Rewinding keeps the prompt's keys, so decode positions stay
 * in 512..639 without re-running the prompt; run {@code MatmulBenchmarks.streamRead} in the same JMH
 * run for the roofline.
 *
 * <pre>java -jar bench/target/benchmarks.jar DecoderBenchmarks -p threads=2</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class DecoderBenchmarks {
    static final int PROMPT = 512;
    static final int GENERATE = 128;

    @Param({"2"})
    public int threads;

    @Param({"BF16", "F16", "Q8_0", "Q4_0"})
    public String dtype;

    CpuBackend cpu;
    TinyLlama model;
    KvCache cache;
    Tensor best;
    int[] prompt;

    /** Tokens and bytes of weights processed, reported by JMH as rates. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Traffic {
        public long tokens;
        public long weightBytes;

        @Setup(Level.Iteration)
        public void reset() {
            tokens = 0;
            weightBytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        cpu = new CpuBackend(threads);
        WeightFormat format = switch (dtype) {
            case "Q8_0" -> WeightFormat.Q8_0;
            case "Q4_0" -> WeightFormat.Q4_0;
            default -> WeightFormat.STORED;
        };
        model = new TinyLlama(TinyLlama.config(16), dtype.equals("F16") ? DType.F16 : DType.BF16, format, cpu, PROMPT);
        cache = model.decoder.newCache(PROMPT + GENERATE, DType.F32);
        best = Tensor.allocate(DType.I32, 1);
        prompt = DecoderReport.promptIds(PROMPT, model.config.vocabSize());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        best.close();
        cache.close();
        model.close();
        cpu.close();
    }

    @Benchmark
    @Warmup(iterations = 1, time = 10)
    @Measurement(iterations = 3, time = 10)
    public void prefill(Traffic t) {
        cache.truncate(0);
        Tensor logits = model.decoder.prefill(cache, prompt, null);
        cpu.argmax(logits, best);
        t.tokens += PROMPT;
    }

    /** Rewinds to the end of the prompt when the cache is full (outside the measured decode step; a step takes ~100 ms). */
    @Setup(Level.Invocation)
    public void rewind() {
        if (cache.length() < PROMPT || cache.length() >= PROMPT + GENERATE) {
            if (cache.length() >= PROMPT) {
                cache.truncate(PROMPT);
            } else {
                cache.truncate(0);
                cpu.argmax(model.decoder.prefill(cache, prompt, null), best);
            }
        }
    }

    @Benchmark
    @Warmup(iterations = 2, time = 5)
    @Measurement(iterations = 5, time = 5)
    public void decode(Traffic t) {
        Tensor logits = model.decoder.decode(cache, (int) best.getLong(0));
        cpu.argmax(logits, best);
        t.tokens++;
        t.weightBytes += model.weightBytesPerToken();
    }
}
