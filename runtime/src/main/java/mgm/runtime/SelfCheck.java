package mgm.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.cpu.CpuBackend;
import mgm.runtime.cpu.ReferenceBackend;
import mgm.runtime.profile.MachineProbe;

/**
 * A quick health check of the runtime (a few seconds): a handful of ops on the fast CPU backend
 * against the reference backend, then a short decode-shape GEMV measurement next to this machine's
 * streaming-read bandwidth. Exit status 1 if any op disagrees.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp runtime/target/classes mgm.runtime.SelfCheck [threads]</pre>
 */
public final class SelfCheck {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private final Random random = new Random(42);
    private final ReferenceBackend reference = new ReferenceBackend();
    private int failures;

    private SelfCheck() {}

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        System.out.printf("mgm runtime self-check: %d threads, vector species %s, %s%n", threads, F, Runtime.version());
        SelfCheck check = new SelfCheck();
        try (CpuBackend cpu = new CpuBackend(threads)) {
            check.correctness(cpu);
            check.speed(cpu, threads);
        }
        if (check.failures > 0) {
            System.out.println("SELF-CHECK FAILED: " + check.failures + " op(s) disagree with the reference");
            System.exit(1);
        }
        System.out.println("self-check passed");
    }

    private void correctness(Backend fast) {
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
            for (int m : new int[] {1, 19}) {
                Tensor x = rand(m, 256);
                Tensor w = convert(rand(96, 256), wt);
                Tensor want = Tensor.allocate(DType.F32, m, 96);
                Tensor got = Tensor.allocate(DType.F32, m, 96);
                reference.matmul(x, w, null, want);
                fast.matmul(x, w, null, got);
                report("matmul " + wt + " " + m + "x256x96", want, got, wt == DType.Q4_0 ? 2e-3 : 5e-4);
            }
        }
        Tensor x = rand(5, 300);
        Tensor w = rand(300);
        Tensor want = Tensor.allocate(DType.F32, 5, 300);
        Tensor got = Tensor.allocate(DType.F32, 5, 300);
        reference.rmsNorm(x, w, 1e-6f, 0f, want);
        fast.rmsNorm(x, w, 1e-6f, 0f, got);
        report("rmsNorm", want, got, 1e-5);
        reference.softmax(x, want);
        fast.softmax(x, got);
        report("softmax", want, got, 1e-5);
        for (Activation a : Activation.values()) {
            reference.activation(a, x, want);
            fast.activation(a, x, got);
            report("activation " + a, want, got, 1e-5);
        }
        Tensor q = rand(3, 8, 64);
        Tensor k = convert(rand(20, 2, 64), DType.BF16);
        Tensor v = convert(rand(20, 2, 64), DType.BF16);
        Tensor wantA = Tensor.allocate(DType.F32, 3, 8, 64);
        Tensor gotA = Tensor.allocate(DType.F32, 3, 8, 64);
        reference.attention(q, k, v, 0.125f, true, 17, wantA);
        fast.attention(q, k, v, 0.125f, true, 17, gotA);
        report("attention GQA bf16 cache", wantA, gotA, 1e-5);
    }

    private void speed(CpuBackend cpu, int threads) throws InterruptedException {
        double bw = streamBandwidth(256L << 20, threads);
        System.out.printf("streaming read: %.1f GB/s%n", bw);
        for (DType wt : new DType[] {DType.BF16, DType.Q8_0, DType.Q4_0}) {
            int k = 4096;
            int n = 4096;
            Tensor w0 = Tensor.allocate(wt, n, k);
            try (Tensor f = rand(n, k)) {
                cpu.copy(f, w0); // the fast quantiser (bit-exact with the reference, checked by the tests)
            }
            int copies = (int) Math.max(2, (128L << 20) / w0.byteSize());
            // in the layout a model loads (K tiles, Q8_0 / Q4_0 rows interleaved by 32 on 512-bit machines)
            Tensor[] ws = new Tensor[copies];
            for (int i = 0; i < copies; i++) {
                ws[i] = cpu.prepareLinear(w0);
                if (ws[i] == w0 && i > 0) {
                    ws[i] = Tensor.allocate(wt, n, k);
                    ws[i].segment().copyFrom(w0.segment());
                }
            }
            Tensor x = rand(1, k);
            Tensor out = Tensor.allocate(DType.F32, 1, n);
            for (int i = 0; i < 3 * copies + 30; i++) {
                cpu.matmul(x, ws[i % copies], null, out);
            }
            double[] t = new double[60];
            for (int i = 0; i < t.length; i++) {
                long t0 = System.nanoTime();
                cpu.matmul(x, ws[i % copies], null, out);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            Arrays.sort(t);
            double gbs = w0.byteSize() / t[t.length / 2] / 1e9;
            System.out.printf("GEMV 1x%dx%d %-5s %6.3f ms  %5.1f GB/s  (%3.0f%% of streaming read)%n", k, n, wt,
                    t[t.length / 2] * 1e3, gbs, 100 * gbs / bw);
            for (Tensor wi : ws) {
                wi.close();
            }
            w0.close();  // (closing it twice, where ws[0] is w0 itself, is allowed)
        }
    }

    /** Median GB/s of a few streaming passes over {@code bytes} on {@code threads} threads. */
    static double streamBandwidth(long bytes, int threads) throws InterruptedException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(bytes, 64);
            buf.fill((byte) 1);
            double[] t = new double[7];
            for (int pass = 0; pass < t.length + 2; pass++) {
                Thread[] ts = new Thread[threads];
                long chunk = bytes / threads / 1024 * 1024;
                long t0 = System.nanoTime();
                for (int i = 0; i < threads; i++) {
                    MemorySegment part = buf.asSlice(i * chunk, chunk);
                    ts[i] = new Thread(() -> sink(MachineProbe.streamingSum(part)));
                    ts[i].start();
                }
                for (Thread th : ts) {
                    th.join();
                }
                if (pass >= 2) {
                    t[pass - 2] = (System.nanoTime() - t0) / 1e9;
                }
            }
            Arrays.sort(t);
            return bytes / t[t.length / 2] / 1e9;
        }
    }

    private static volatile float sinkhole;

    private static void sink(float v) {
        sinkhole = v;
    }

    private void report(String what, Tensor want, Tensor got, double tol) {
        float[] a = want.toFloatArray();
        float[] b = got.toFloatArray();
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        double rel = worst / Math.max(scale, 1e-30);
        boolean ok = rel <= tol;
        if (!ok) {
            failures++;
        }
        System.out.printf("%-4s %-28s max |diff| / max |ref| = %.2e%n", ok ? "ok" : "FAIL", what, rel);
    }

    private Tensor rand(long... shape) {
        float[] v = new float[(int) Tensor.product(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(v, shape);
    }

    private Tensor convert(Tensor f32, DType to) {
        if (to == DType.F32) {
            return f32;
        }
        Tensor t = Tensor.allocate(to, f32.shape());
        reference.copy(f32, t);
        return t;
    }
}
