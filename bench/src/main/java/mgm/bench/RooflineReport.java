package mgm.bench;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;

/**
 * The roofline table: the streaming-read bandwidth of this machine, GEMV (decode shape) for every
 * weight dtype as GB/s of weights and % of that bandwidth, GEMM (prefill shape) as GFLOP/s and % of
 * OpenBLAS sgemm on the same shape, all in one run so that the ratios compare like with like.
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar mgm.bench.RooflineReport [--threads 2] [--quick] [--only gemv|gemm]</pre>
 * Timings are medians of repeated calls after warm-up; GEMV weights rotate through copies larger
 * than the last-level cache (see {@link Workloads}).
 */
public final class RooflineReport {
    private RooflineReport() {}

    record Row(String what, String shape, double seconds, double gbPerS, double gflops, String ratio) {}

    public static void main(String[] args) throws Exception {
        int threads = 2;
        boolean quick = false;
        String only = "all";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                case "--only" -> only = args[++i];
                default -> {
                    System.err.println("usage: RooflineReport [--threads N] [--quick] [--only gemv|gemm]");
                    System.exit(2);
                }
            }
        }
        System.out.printf("mgm roofline: %d threads, %s, Java %s%n", threads, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED,
                Runtime.version());
        List<Row> rows = new ArrayList<>();
        double bw;
        try (Bandwidth probe = new Bandwidth(512L << 20, threads)) {
            bw = probe.measure(quick ? 5 : 15);
        }
        rows.add(new Row("stream read", "512 MiB", 0, bw, 0, "100% (roofline)"));
        try (CpuBackend cpu = new CpuBackend(threads)) {
            int[][] gemvShapes = {{4096, 4096}, {2048, 5632}};
            for (int[] s : only.equals("gemm") ? new int[0][] : gemvShapes) {
                for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0}) {
                    double t = gemv(cpu, dt, s[0], s[1], quick ? 40 : 150);
                    long bytes = dt.byteSize((long) s[0] * s[1]);
                    double gbs = bytes / t / 1e9;
                    rows.add(new Row("GEMV " + dt, "1x" + s[0] + "x" + s[1], t, gbs, 2.0 * s[0] * s[1] / t / 1e9,
                            String.format("%.0f%% of stream", 100 * gbs / bw)));
                }
            }
            if (only.equals("gemv")) {
                print(rows);
                return;
            }
            int m = quick ? 256 : 512;
            int k = 4096;
            int n = 4096;
            Optional<OpenBlas> blas = OpenBlas.load();
            double blasFlops = 0;
            if (blas.isPresent()) {
                double t = openBlas(blas.get(), threads, m, n, k, quick ? 3 : 5);
                blasFlops = 2.0 * m * n * k / t / 1e9;
                rows.add(new Row("OpenBLAS sgemm", m + "x" + k + "x" + n, t, 0, blasFlops, "100% (baseline)"));
            }
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                double t = gemm(cpu, dt, m, n, k, quick ? 3 : 5);
                double gf = 2.0 * m * n * k / t / 1e9;
                rows.add(new Row("GEMM " + dt, m + "x" + k + "x" + n, t, 0, gf,
                        blasFlops > 0 ? String.format("%.0f%% of OpenBLAS", 100 * gf / blasFlops) : "n/a"));
            }
        }
        print(rows);
    }

    private static void print(List<Row> rows) {
        System.out.println();
        System.out.printf("| %-16s | %-15s | %10s | %8s | %9s | %-18s |%n", "kernel", "M x K x N", "time (ms)", "GB/s", "GFLOP/s", "ratio");
        System.out.println("|------------------|-----------------|-----------:|---------:|----------:|--------------------|");
        for (Row r : rows) {
            System.out.printf("| %-16s | %-15s | %10s | %8s | %9s | %-18s |%n", r.what, r.shape,
                    r.seconds > 0 ? String.format("%.3f", r.seconds * 1e3) : "", r.gbPerS > 0 ? String.format("%.1f", r.gbPerS) : "",
                    r.gflops > 0 ? String.format("%.1f", r.gflops) : "", r.ratio);
        }
    }

    /** Median seconds of one 1 x k x n GEMV, cycling through weight copies larger than L3. */
    static double gemv(CpuBackend cpu, DType dt, int k, int n, int calls) {
        Random r = new Random(1);
        Tensor[] ws = Workloads.rotation(r, dt, n, k);
        try (Tensor x = Workloads.randomF32(r, 1, k); Tensor out = Tensor.allocate(DType.F32, 1, n)) {
            for (int i = 0; i < 2 * ws.length + 20; i++) {
                cpu.matmul(x, ws[i % ws.length], null, out);
            }
            double[] t = new double[calls];
            for (int i = 0; i < calls; i++) {
                long t0 = System.nanoTime();
                cpu.matmul(x, ws[i % ws.length], null, out);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            return Stats.median(t);
        } finally {
            for (Tensor w : ws) {
                w.close();
            }
        }
    }

    static double gemm(CpuBackend cpu, DType dt, int m, int n, int k, int calls) {
        Random r = new Random(2);
        try (Tensor w = Workloads.weight(r, dt, n, k); Tensor x = Workloads.randomF32(r, m, k);
             Tensor out = Tensor.allocate(DType.F32, m, n)) {
            cpu.matmul(x, w, null, out);
            cpu.matmul(x, w, null, out);
            double[] t = new double[calls];
            for (int i = 0; i < calls; i++) {
                long t0 = System.nanoTime();
                cpu.matmul(x, w, null, out);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            return Stats.median(t);
        }
    }

    static double openBlas(OpenBlas blas, int threads, int m, int n, int k, int calls) {
        blas.threads(threads);
        Random r = new Random(2);
        try (Tensor w = Workloads.randomF32(r, n, k); Tensor x = Workloads.randomF32(r, m, k);
             Tensor out = Tensor.allocate(DType.F32, m, n)) {
            MemorySegment a = x.segment();
            MemorySegment b = w.segment();
            MemorySegment c = out.segment();
            blas.sgemmNt(m, n, k, a, b, c);
            blas.sgemmNt(m, n, k, a, b, c);
            double[] t = new double[calls];
            for (int i = 0; i < calls; i++) {
                long t0 = System.nanoTime();
                blas.sgemmNt(m, n, k, a, b, c);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            return Stats.median(t);
        }
    }
}
