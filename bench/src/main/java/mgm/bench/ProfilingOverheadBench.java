package mgm.bench;

import java.util.concurrent.TimeUnit;
import mgm.model.WeightFormat;
import mgm.model.llm.KvCache;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.profile.NoOpBackend;
import mgm.runtime.profile.Profiler;
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
 * What profiling costs in the decode loop: one {@code Decoder.decode} step of a small random
 * LLaMA (the real model code with its phase and layer marks) on
 * <ul>
 *   <li>{@code plain}: the backend itself (profiling off: the marks return a constant);</li>
 *   <li>{@code disabled}: wrapped in a {@code ProfilingBackend} whose profiler is disabled;</li>
 *   <li>{@code report}: wrapped and recording the per-op table (no trace, no JFR recording);</li>
 *   <li>{@code trace}: recording the table and a trace (slices capped at 1M per thread).</li>
 * </ul>
 * Backend {@code noop} does no arithmetic, so that the time and allocation measured are the model
 * code's and the profiler's alone; {@code cpu} is the real SIMD backend (allocation-free ops), where
 * the same marks and decorator sit around real work. Run with JMH's GC profiler; {@code gc.alloc.rate.norm} is bytes
 * allocated per decode step:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar bench/target/benchmarks.jar \
 *     ProfilingOverheadBench -prof gc -f 1 -wi 3 -i 5
 * </pre>
 * {@code -jvmArgsAppend -Dmgm.bench.printProfile=true} prints the profile table of each profiled trial.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ProfilingOverheadBench {
    @Param({"noop", "cpu"})
    public String backend;

    @Param({"plain", "disabled", "report", "trace"})
    public String profiling;

    private TinyModels models;
    private KvCache cache;
    private Profiler profiler;
    private int token = 1;

    @Setup(Level.Trial)
    public void setup() {
        Backend base = backend.equals("noop") ? new NoOpBackend() : ProfileDemo.Backends.create(backend, Runtime.getRuntime().availableProcessors());
        Backend b = base;
        if (!profiling.equals("plain")) {
            Profiler.Options o = Profiler.Options.forReport().withJfr(false)
                    .withTrace(profiling.equals("trace")).withMaxTraceSlices(1_000_000);
            profiler = Profiler.start(o.withRoofline(new mgm.runtime.profile.Roofline(1e10, 1e11, "not measured")));
            b = profiler.wrap(base);
            profiler.setEnabled(!profiling.equals("disabled"));
        }
        models = new TinyModels(b, WeightFormat.STORED, 256, 4, 512, 16, 0, 0);
        cache = models.decoder.newCache(256, DType.F32);
    }

    @Benchmark
    public Tensor decodeStep() {
        if (cache.length() == cache.maxLength()) {
            cache.truncate(0);
        }
        token = (token * 31 + 7) % 512;
        return models.decoder.decode(cache, token);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        models.close();
        if (profiler != null) {
            if (Boolean.getBoolean("mgm.bench.printProfile") && profiler.isEnabled()) {
                System.out.print(profiler.report());  // the profiler's own view of the benchmark
            }
            profiler.close();
        }
    }
}
