package mgm.bench;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import mgm.runtime.DType;
import mgm.runtime.QuantActivations;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;

/**
 * The roofline table: the streaming-read bandwidth of this machine, GEMV (decode shape) for every
 * weight dtype as GB/s of weights and % of that bandwidth, GEMM (prefill shape) as GFLOP/s and % of
 * OpenBLAS sgemm on the same shape, all in one run so that the ratios compare like with like.
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar mgm.bench.RooflineReport [--threads 2] [--quick] [--only gemv|gemm]</pre>
 * Measurements are interleaved (a streaming pass next to each GEMV sweep, OpenBLAS next to each of
 * our GEMMs) and the ratios are medians of per-round ratios, so that other processes on a shared
 * machine load both sides alike. GEMV weights rotate through copies larger than the last-level
 * cache (see {@link Workloads}).
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
        System.out.printf("mgm roofline: %d threads, %s, Java %s, %s%n", threads, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED,
                Runtime.version(), mgm.runtime.HostCpu.current().describe());
        List<Row> rows = new ArrayList<>();
        int rounds = quick ? 5 : 15;
        try (Bandwidth probe = new Bandwidth(512L << 20, threads); CpuBackend cpu = new CpuBackend(threads);
             CpuBackend cpuQ8 = new CpuBackend(threads, QuantActivations.Q8_0)) {
            double bw = probe.measure(3);
            rows.add(new Row("stream read", "512 MiB", 0, bw, 0, "100% (roofline)"));
            int[][] gemvShapes = {{4096, 4096}, {2048, 5632}, {5632, 2048}};
            for (int[] s : only.equals("gemm") ? new int[0][] : gemvShapes) {
                for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0}) {
                    rows.add(gemvRow(cpu, probe, dt, s[0], s[1], rounds));
                }
                // llama.cpp's numerics: the activation rounded to Q8_0 first (Q4_0 then multiplies in integers)
                for (DType dt : new DType[] {DType.Q8_0, DType.Q4_0}) {
                    rows.add(gemvRow(cpuQ8, probe, dt, s[0], s[1], rounds));
                }
            }
            if (!only.equals("gemv")) {
                rows.addAll(gemmRows(cpu, threads, quick ? 256 : 512, 4096, 4096, quick ? 3 : 7));
            }
        }
        print(rows);
    }

    /**
     * GEMV rounds, each one streaming-read pass then one sweep of GEMVs over the rotated weight copies
     * (as many bytes as the probe), so that both see the same machine load; the ratio is the median
     * of the per-round ratios.
     */
    static Row gemvRow(CpuBackend cpu, Bandwidth probe, DType dt, int k, int n, int rounds) throws InterruptedException {
        Random r = new Random(1);
        Tensor[] ws = Workloads.rotation(r, dt, n, k);
        // in the backend's matmul layout, as a model loads them (K-tiled when rows are long)
        for (int i = 0; i < ws.length; i++) {
            Tensor p = cpu.prepareLinear(ws[i]);
            if (p != ws[i]) {
                ws[i].close();
                ws[i] = p;
            }
        }
        try (Tensor x = Workloads.randomF32(r, 1, k); Tensor out = Tensor.allocate(DType.F32, 1, n)) {
            long bytes = dt.byteSize((long) n * k);
            int calls = (int) Math.max(ws.length, probe.bytes() / bytes);
            for (int i = 0; i < 2 * calls; i++) {
                cpu.matmul(x, ws[i % ws.length], null, out);
            }
            double[] gemv = new double[rounds];
            double[] stream = new double[rounds];
            double[] ratio = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                stream[round] = probe.bytes() / probe.pass() / 1e9;
                long t0 = System.nanoTime();
                for (int i = 0; i < calls; i++) {
                    cpu.matmul(x, ws[i % ws.length], null, out);
                }
                gemv[round] = (double) bytes * calls / (System.nanoTime() - t0);
                ratio[round] = gemv[round] / stream[round];
            }
            double gbs = Stats.median(gemv);
            double t = bytes / (gbs * 1e9);
            String label = "GEMV " + dt + (cpu.quantActivations().rounds(dt) ? ", Q8_0 act." : "");
            return new Row(label, "1x" + k + "x" + n, t, gbs, 2.0 * n * k / t / 1e9,
                    String.format("%.0f%% of stream (%.1f)", 100 * Stats.median(ratio), Stats.median(stream)));
        } finally {
            for (Tensor w : ws) {
                w.close();
            }
        }
    }

    /** GEMM rounds, each timing OpenBLAS sgemm, then ours with F32 and BF16 weights, under the same load. */
    static List<Row> gemmRows(CpuBackend cpu, int threads, int m, int n, int k, int rounds) {
        Random r = new Random(2);
        Optional<OpenBlas> blas = OpenBlas.load();
        blas.ifPresent(b -> b.threads(threads));
        List<Row> rows = new ArrayList<>();
        try (Tensor w32 = Workloads.weight(r, DType.F32, n, k); Tensor w16 = Workloads.weight(r, DType.BF16, n, k);
             Tensor x = Workloads.randomF32(r, m, k); Tensor out = Tensor.allocate(DType.F32, m, n)) {
            double[] tb = new double[rounds];
            double[] t32 = new double[rounds];
            double[] t16 = new double[rounds];
            double[] r32 = new double[rounds];
            double[] r16 = new double[rounds];
            for (int round = -1; round < rounds; round++) { // round -1 warms up
                double b = blas.isPresent() ? time(() -> blas.get().sgemmNt(m, n, k, x.segment(), w32.segment(), out.segment())) : 0;
                double a = time(() -> cpu.matmul(x, w32, null, out));
                double c = time(() -> cpu.matmul(x, w16, null, out));
                if (round >= 0) {
                    tb[round] = b;
                    t32[round] = a;
                    t16[round] = c;
                    r32[round] = b / a;
                    r16[round] = b / c;
                }
            }
            double flops = 2.0 * m * n * k;
            String shape = m + "x" + k + "x" + n;
            if (blas.isPresent()) {
                rows.add(new Row("OpenBLAS sgemm", shape, Stats.median(tb), 0, flops / Stats.median(tb) / 1e9, "100% (baseline)"));
            }
            rows.add(new Row("GEMM F32", shape, Stats.median(t32), 0, flops / Stats.median(t32) / 1e9,
                    blas.isPresent() ? String.format("%.0f%% of OpenBLAS", 100 * Stats.median(r32)) : "n/a"));
            rows.add(new Row("GEMM BF16", shape, Stats.median(t16), 0, flops / Stats.median(t16) / 1e9,
                    blas.isPresent() ? String.format("%.0f%% of OpenBLAS", 100 * Stats.median(r16)) : "n/a"));
        }
        return rows;
    }

    private static double time(Runnable call) {
        long t0 = System.nanoTime();
        call.run();
        return (System.nanoTime() - t0) / 1e9;
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



}
