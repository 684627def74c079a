package mgm.bench;

import java.util.Locale;
import java.util.Random;

import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;

/**
 * Per-core kernel throughput on cache-resident data, robust on a loaded machine: each sample is
 * a short call (well under a scheduler time slice) and the best of many samples is kept, so the
 * number is what the kernel does when it has the core. This is the compute ceiling of a GEMV
 * kernel: a kernel slower than the per-core share of the streaming bandwidth cannot reach the
 * memory roofline.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar mgm.bench.KernelThroughput [--threads 1] [--samples 2000]</pre>
 */
public final class KernelThroughput {
    private KernelThroughput() {}

    public static void main(String[] args) {
        int threads = 1;
        int samples = 2000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: KernelThroughput [--threads N] [--samples N]");
                    System.exit(2);
                }
            }
        }
        System.out.printf(Locale.ROOT, "kernel throughput, %d thread(s), best of %d samples, load %s, %s%n", threads, samples, Load.average(),
                mgm.runtime.HostCpu.current().describe());
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0}) {
                for (int m : new int[] {1, 4}) {
                    gemv(cpu, dt, m, 2048, 512, samples);
                }
            }
            attention(cpu, 577, 577, 16, 16, 64, false, Math.max(3, samples / 200), "CLIP-L prefill");
            attention(cpu, 512, 512, 16, 4, 128, true, Math.max(3, samples / 200), "LLaMA prefill, causal");
            attention(cpu, 1, 640, 16, 4, 128, true, samples, "LLaMA decode at 640");
            // the F16 cache mgm-run decodes with: GQA rows widened once per group, MHA two heads per call
            attention(cpu, 1, 640, 16, 4, 128, true, samples, "LLaMA decode at 640, F16 cache", DType.F16);
            attention(cpu, 1, 640, 32, 32, 128, true, samples / 4, "Vicuna-7B (MHA) decode at 640, F16 cache", DType.F16);
        }
    }

    /** Attention of T queries over S keys; flops counted as 4 T S' H Dh with S' the keys each query sees. */
    static void attention(CpuBackend cpu, int t, int s, int hq, int hkv, int dh, boolean causal, int samples, String what) {
        attention(cpu, t, s, hq, hkv, dh, causal, samples, what, DType.F32);
    }

    /** The same with the keys and values stored as {@code kv} (F32, F16 or BF16), as a KV cache of that type holds them. */
    static void attention(CpuBackend cpu, int t, int s, int hq, int hkv, int dh, boolean causal, int samples, String what, DType kv) {
        Random r = new Random(4);
        try (Tensor q = Workloads.randomF32(r, t, hq, dh); Tensor kf = Workloads.randomF32(r, s, hkv, dh);
             Tensor vf = Workloads.randomF32(r, s, hkv, dh); Tensor k = Tensor.allocate(kv, s, hkv, dh);
             Tensor v = Tensor.allocate(kv, s, hkv, dh); Tensor out = Tensor.allocate(DType.F32, t, hq, dh)) {
            cpu.copy(kf, k);
            cpu.copy(vf, v);
            int start = causal ? s - t : 0;
            for (int i = 0; i < samples; i++) {
                // untimed: a prefill call runs tens of ms, so a best of few calls would still time code C2 has not compiled
                cpu.attention(q, k, v, (float) (1 / Math.sqrt(dh)), causal, start, out);
            }
            long best = Long.MAX_VALUE;
            for (int i = 0; i < samples; i++) {
                long t0 = System.nanoTime();
                cpu.attention(q, k, v, (float) (1 / Math.sqrt(dh)), causal, start, out);
                best = Math.min(best, System.nanoTime() - t0);
            }
            double pairs = causal ? (double) t * start + (double) t * (t + 1) / 2 : (double) t * s;
            System.out.printf(Locale.ROOT, "  attention %s (T %d, S %d, heads %d/%d, Dh %d): %9.1f us  %6.1f GFLOP/s%n", what, t, s,
                    hq, hkv, dh, best / 1e3, 4.0 * pairs * hq * dh / best);
        }
    }

    /**
     * M x K x N matmul with an N x K weight small enough to stay in the last-level cache, in the
     * layout a model loads ({@code prepareLinear}: Q8_0 / Q4_0 interleaved by 32 rows on 512-bit
     * machines).
     */
    static void gemv(CpuBackend cpu, DType dt, int m, int k, int n, int samples) {
        Random r = new Random(3);
        try (Tensor stored = Workloads.weight(r, dt, n, k); Tensor w = cpu.prepareLinear(stored); Tensor x = Workloads.randomF32(r, m, k);
             Tensor out = Tensor.allocate(DType.F32, m, n)) {
            long best = Long.MAX_VALUE;
            for (int i = 0; i < samples; i++) {
                long t0 = System.nanoTime();
                cpu.matmul(x, w, null, out);
                best = Math.min(best, System.nanoTime() - t0);
            }
            double bytes = dt.byteSize((long) n * k);
            System.out.printf(Locale.ROOT, "  GEMV %-8s M=%d %dx%d: %7.1f us  %6.1f GB/s of weights  %6.1f GFLOP/s%n", w.dtype(), m, k, n,
                    best / 1e3, bytes / best, 2.0 * m * n * k / best);
        }
    }
}
