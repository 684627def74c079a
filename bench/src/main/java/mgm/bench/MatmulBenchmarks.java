package mgm.bench;

import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

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
 * JMH benchmarks of the CPU backend's matmul against the roofline: GEMV (decode shape) in every
 * weight dtype, GEMM (prefill shape) in F32 and BF16 next to OpenBLAS sgemm, and the streaming-read
 * probe, all with the same thread count ({@code -p threads=2}). The {@link Traffic} aux counters
 * turn into rates: {@code bytes} = bytes of weights (or of the probe buffer) per second and
 * {@code flops} = floating-point operations per second, so JMH prints GB/s and GFLOP/s directly
 * (divide by 1e9).
 *
 * <pre>java -jar bench/target/benchmarks.jar MatmulBenchmarks -p threads=2</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class MatmulBenchmarks {

    @Param({"2"})
    public int threads;

    /** Bytes moved and flops done per operation, reported by JMH as rates. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Traffic {
        public long bytes;
        public long flops;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
            flops = 0;
        }
    }

    /** GEMV: 1 x K x N, weights cycled through copies larger than the last-level cache. */
    @State(Scope.Benchmark)
    public static class Gemv {
        @Param({"BF16", "F16", "Q8_0", "Q4_0", "F32"})
        public String dtype;
        @Param({"4096x4096", "2048x5632"})
        public String kxn;

        CpuBackend cpu;
        Tensor[] weights;
        Tensor x;
        Tensor out;
        int next;
        long bytes;
        long flops;

        @Setup(Level.Trial)
        public void setUp(MatmulBenchmarks outer) {
            String[] s = kxn.split("x");
            int k = Integer.parseInt(s[0]);
            int n = Integer.parseInt(s[1]);
            DType dt = DType.valueOf(dtype);
            Random r = new Random(1);
            cpu = new CpuBackend(outer.threads);
            weights = Workloads.rotation(r, dt, n, k);
            x = Workloads.randomF32(r, 1, k);
            out = Tensor.allocate(DType.F32, 1, n);
            bytes = dt.byteSize((long) n * k);
            flops = 2L * n * k;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            cpu.close();
            for (Tensor w : weights) {
                w.close();
            }
            x.close();
            out.close();
        }
    }

    @Benchmark
    public void gemv(Gemv g, Traffic t) {
        Tensor w = g.weights[g.next];
        g.next = (g.next + 1) % g.weights.length;
        g.cpu.matmul(g.x, w, null, g.out);
        t.bytes += g.bytes;
        t.flops += g.flops;
    }

    /** GEMM: M x K x N = 512 x 4096 x 4096. */
    @State(Scope.Benchmark)
    public static class Gemm {
        @Param({"F32", "BF16"})
        public String dtype;

        CpuBackend cpu;
        Tensor w;
        Tensor x;
        Tensor out;
        static final int M = 512;
        static final int K = 4096;
        static final int N = 4096;

        @Setup(Level.Trial)
        public void setUp(MatmulBenchmarks outer) {
            Random r = new Random(2);
            cpu = new CpuBackend(outer.threads);
            w = Workloads.weight(r, DType.valueOf(dtype), N, K);
            x = Workloads.randomF32(r, M, K);
            out = Tensor.allocate(DType.F32, M, N);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            cpu.close();
            w.close();
            x.close();
            out.close();
        }
    }

    @Benchmark
    @Warmup(iterations = 2, time = 5)
    @Measurement(iterations = 3, time = 5)
    public void gemm(Gemm g, Traffic t) {
        g.cpu.matmul(g.x, g.w, null, g.out);
        t.flops += 2L * Gemm.M * Gemm.K * Gemm.N;
    }

    /** OpenBLAS sgemm on the same shape (skipped with a message when libopenblas is absent). */
    @State(Scope.Benchmark)
    public static class Blas {
        Optional<OpenBlas> blas;
        Tensor w;
        Tensor x;
        Tensor out;

        @Setup(Level.Trial)
        public void setUp(MatmulBenchmarks outer) {
            blas = OpenBlas.load();
            blas.ifPresent(b -> b.threads(outer.threads));
            Random r = new Random(2);
            w = Workloads.randomF32(r, Gemm.N, Gemm.K);
            x = Workloads.randomF32(r, Gemm.M, Gemm.K);
            out = Tensor.allocate(DType.F32, Gemm.M, Gemm.N);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            w.close();
            x.close();
            out.close();
        }
    }

    @Benchmark
    @Warmup(iterations = 2, time = 5)
    @Measurement(iterations = 3, time = 5)
    public void openBlasSgemm(Blas b, Traffic t) {
        if (b.blas.isEmpty()) {
            return;
        }
        MemorySegment a = b.x.segment();
        b.blas.get().sgemmNt(Gemm.M, Gemm.N, Gemm.K, a, b.w.segment(), b.out.segment());
        t.flops += 2L * Gemm.M * Gemm.K * Gemm.N;
    }

    /** The streaming-read probe: one pass over 512 MiB on {@code threads} threads. */
    @State(Scope.Benchmark)
    public static class Stream {
        Bandwidth probe;

        @Setup(Level.Trial)
        public void setUp(MatmulBenchmarks outer) {
            probe = new Bandwidth(512L << 20, outer.threads);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            probe.close();
        }
    }

    @Benchmark
    public void streamRead(Stream s, Traffic t) throws InterruptedException {
        s.probe.pass();
        t.bytes += s.probe.bytes();
    }
}
