package mgm.kernels;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * Kernel-level benchmarks of the CUDA backend, printed as one report: per kernel the time per call
 * (CUDA events, median of repeated batches after warm-up), the achieved GB/s or TFLOP/s and the
 * percentage of the device's peak (bandwidth from the memory clock and bus width, tensor and FP32
 * rates from the SM count and clock, see {@link DeviceInfo}); cuBLAS side by side for GEMM.
 * Shapes are those of a 7B LLaMA (decode and prefill), CLIP-336 and ConvNeXt.
 *
 * <pre>
 *   java ... mgm.kernels.GpuBenchmarks             # GPU 0, full shapes (kernels/gpu-check runs this)
 *   java ... mgm.kernels.GpuBenchmarks --emulated  # tiny shapes on the emulator: checks the code runs
 * </pre>
 */
public final class GpuBenchmarks {
    private final CudaBackend be;
    private final boolean tiny;
    private final PrintStream out;
    private final DeviceInfo info;
    private final List<String[]> rows = new ArrayList<>();
    private final Random random = new Random(42);

    GpuBenchmarks(CudaBackend be, boolean tiny, PrintStream out) {
        this.be = be;
        this.tiny = tiny;
        this.out = out;
        this.info = be.driver().info();
    }

    public static void main(String[] args) {
        boolean emulated = List.of(args).contains("--emulated");
        CudaBackend be;
        if (emulated) {
            be = CudaBackend.emulated();
        } else {
            CudaBackends.Availability a = CudaBackends.tryOpen();
            if (!a.available()) {
                System.out.println("gpu-check: no GPU: " + a.reason());
                System.exit(2);
                return;
            }
            be = a.backend();
        }
        try (be) {
            new GpuBenchmarks(be, emulated, System.out).run();
        }
    }

    void run() {
        out.println("== mgm CUDA kernel benchmarks on " + info.describe());
        out.printf(Locale.ROOT, "   peaks: memory %.0f GB/s, dense BF16 tensor %.0f TFLOP/s, FP32 %.1f TFLOP/s%s%n",
                info.peakBandwidth() / 1e9, info.peakTensorFlops() / 1e12, info.peakFp32Flops() / 1e12,
                be.driver().blas().map(b -> "; " + b.describe()).orElse("; cuBLAS not found"));
        out.println("   GEMM modes: 'exact' keeps the products of fp32 arithmetic (default, activations split into 3 bf16 terms), 'fast' rounds activations"
                + " to bf16 (-D" + CudaBackend.EXACT_PROPERTY + "=false)");
        gemv();
        gemm();
        attention();
        rowsAndPointwise();
        vision();
        selection();
        graphs();
        printTable();
        out.println("== end-to-end decode/prefill (random 7B LLaMA, BF16/Q8_0/Q4_0) and MGM-7B image encoding:"
                + " kernels/gpu-check's end-to-end step (mgm-run bench --device cuda, VisionReport --device cuda)");
    }

    // ------------------------------------------------------------------ shapes

    private int d(int full, int small) {
        return tiny ? small : full;
    }

    // ------------------------------------------------------------------ benchmarks

    private void gemv() {
        int[][] nk = tiny ? new int[][] {{64, 256}} : new int[][] {{4096, 4096}, {11008, 4096}, {4096, 11008}};
        for (DType wt : new DType[] {DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0, DType.F32}) {
            for (int[] s : nk) {
                try (Tensor w = weights(wt, s[0], s[1]); Tensor x = randomDevice(1, s[1]); Tensor o = be.allocate(DType.F32, 1, s[0])) {
                    double ms = time(() -> be.matmul(x, w, null, o));
                    double bytes = w.byteSize() + 4.0 * s[1] + 4.0 * s[0];
                    bandwidthRow("gemv " + wt, "1x" + s[1] + " . " + s[0] + "x" + s[1], ms, bytes);
                }
            }
        }
    }

    private void gemm() {
        int[][] mnk = tiny ? new int[][] {{72, 64, 96}} : new int[][] {{512, 4096, 4096}, {2048, 4096, 4096}, {2048, 11008, 4096}};
        for (int[] s : mnk) {
            int m = s[0], n = s[1], k = s[2];
            double flops = 2.0 * m * n * k;
            String shape = m + "x" + k + " . " + n + "x" + k;
            try (Tensor x = randomDevice(m, k); Tensor o = be.allocate(DType.F32, m, n)) {
                for (DType wt : new DType[] {DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0, DType.F32}) {
                    try (Tensor w = weights(wt, n, k)) {
                        for (boolean exact : new boolean[] {true, false}) {
                            if (wt == DType.F32 && !exact) {
                                continue;
                            }
                            double ms = withGemm("own", exact, () -> time(() -> be.matmul(x, w, null, o)));
                            flopsRow("gemm " + wt + " own " + (wt == DType.F32 ? "simt" : exact ? "exact" : "fast"), shape, ms, flops,
                                    wt == DType.F32 ? info.peakFp32Flops() : info.peakTensorFlops());
                        }
                        if (be.driver().blas().isPresent() && (wt == DType.BF16 || wt == DType.F32 || wt == DType.F16)) {
                            for (boolean exact : new boolean[] {true, false}) {
                                if ((wt == DType.F32 && !exact) || (wt == DType.F16 && exact)) {
                                    continue;
                                }
                                double ms = withGemm("cublas", exact, () -> time(() -> be.matmul(x, w, null, o)));
                                flopsRow("gemm " + wt + " cuBLAS " + (wt == DType.F32 ? "sgemm" : exact ? "exact (3 GEMMs)" : "fast"),
                                        shape, ms, flops, wt == DType.F32 ? info.peakFp32Flops() : info.peakTensorFlops());
                            }
                        }
                    }
                }
            }
        }
    }

    private void attention() {
        int hq = d(32, 4), hkv = d(8, 2), dh = d(128, 64);
        for (int s : tiny ? new int[] {64} : new int[] {512, 4096, 16384}) {
            try (Tensor q = randomDevice(1, hq, dh); Tensor k = cast(randomDevice(s, hkv, dh), DType.BF16);
                 Tensor v = cast(randomDevice(s, hkv, dh), DType.BF16); Tensor o = be.allocate(DType.F32, 1, hq, dh)) {
                double ms = time(() -> be.attention(q, k, v, 0.088f, true, s - 1, o));
                bandwidthRow("attention decode bf16 (split-K)", "S=" + s + " Hq=" + hq + " Hkv=" + hkv + " Dh=" + dh, ms,
                        2.0 * s * hkv * dh * 2);
            }
        }
        int t = d(2048, 48);
        double flops = 4.0 * t * (t + 1) / 2.0 * dh * hq;  // causal: half of QK^T and PV
        String shape = "T=S=" + t + " Hq=" + hq + " Dh=" + dh;
        try (Tensor q = randomDevice(t, hq, dh); Tensor k = cast(randomDevice(t, hkv, dh), DType.BF16);
             Tensor v = cast(randomDevice(t, hkv, dh), DType.BF16); Tensor o = be.allocate(DType.F32, t, hq, dh)) {
            for (boolean exact : new boolean[] {true, false}) {
                double ms = withAttention(exact, () -> time(() -> be.attention(q, k, v, 0.088f, true, 0, o)));
                flopsRow("attention prefill bf16 tensor cores " + (exact ? "exact (6 MMAs)" : "fast (2 MMAs)"), shape, ms, flops,
                        info.peakTensorFlops());
            }
            try (Tensor k32 = randomDevice(t, hkv, dh); Tensor v32 = randomDevice(t, hkv, dh)) {
                double ms = time(() -> be.attention(q, k32, v32, 0.088f, true, 0, o));
                flopsRow("attention prefill f32 cache (fp32 SIMT flash)", shape, ms, flops, info.peakFp32Flops());
            }
        }
        // MGM patch info mining: 576 tokens over 8x8 windows of a 192x192x2880 map
        int grid = d(24, 4), win = 8, ch = d(2880, 64);
        try (Tensor map = randomDevice(grid * win, grid * win, ch); Tensor q = randomDevice(grid * grid, ch);
             Tensor o = be.allocate(DType.F32, grid * grid, ch)) {
            double ms = time(() -> be.windowAttention(q, map, win, 0.02f, o));
            bandwidthRow("windowAttention (mining)", grid * grid + " tokens, 8x8 windows, D=" + ch, ms, 2.0 * map.byteSize());
        }
    }

    private double withAttention(boolean exact, java.util.function.DoubleSupplier body) {
        String old = System.getProperty(CudaBackend.ATTENTION_EXACT_PROPERTY);
        System.setProperty(CudaBackend.ATTENTION_EXACT_PROPERTY, Boolean.toString(exact));
        try {
            be.reloadGemmSettings();
            return body.getAsDouble();
        } finally {
            restore(CudaBackend.ATTENTION_EXACT_PROPERTY, old);
            be.reloadGemmSettings();
        }
    }

    private void rowsAndPointwise() {
        int h = d(4096, 256), t = d(512, 16);
        try (Tensor x = randomDevice(t, h); Tensor w = randomDevice(h); Tensor o = be.allocate(DType.F32, t, h)) {
            bandwidthRow("rmsNorm", t + "x" + h, time(() -> be.rmsNorm(x, w, 1e-5f, 0f, o)), 8.0 * t * h);
            bandwidthRow("layerNorm", t + "x" + h, time(() -> be.layerNorm(x, w, w, 1e-5f, o)), 8.0 * t * h);
            bandwidthRow("softmax", t + "x" + h, time(() -> be.softmax(x, o)), 8.0 * t * h);
            bandwidthRow("add (bias broadcast)", t + "x" + h, time(() -> be.add(x, w, o)), 8.0 * t * h);
            bandwidthRow("silu(gate) * up", t + "x" + h, time(() -> be.gatedActivation(Activation.SILU, x, o, o)), 12.0 * t * h);
            bandwidthRow("gelu (erf)", t + "x" + h, time(() -> be.activation(Activation.GELU_ERF, x, o)), 8.0 * t * h);
            try (Tensor b16 = be.allocate(DType.BF16, t, h)) {
                bandwidthRow("copy F32 -> BF16 (KV append)", t + "x" + h, time(() -> be.copy(x, b16)), 6.0 * t * h);
            }
            try (Tensor q8 = be.allocate(DType.Q8_0, t, h)) {
                bandwidthRow("quantise F32 -> Q8_0", t + "x" + h, time(() -> be.copy(x, q8)), 4.0 * t * h + q8.byteSize());
            }
        }
        int heads = d(32, 4), dh = d(128, 32);
        try (Tensor q = randomDevice(t, heads, dh); Tensor f = randomDevice(dh / 2)) {
            bandwidthRow("rope (in place)", t + "x" + heads + "x" + dh, time(() -> be.rope(q, 7, f, q)), 8.0 * t * heads * dh);
        }
        int vocab = d(32000, 500);
        try (Tensor table = weights(DType.BF16, vocab, h); Tensor ids = be.toDevice(Tensor.ofInts(new int[t]));
             Tensor o = be.allocate(DType.F32, t, h)) {
            bandwidthRow("embedding bf16", t + " ids, " + vocab + "x" + h, time(() -> be.embedding(table, ids, o)), 6.0 * t * h);
        }
    }

    private void vision() {
        // CLIP-336 patch embedding: 336x336x3 -> 24x24x1024, k = s = 14
        int img = d(336, 28), c = d(1024, 32);
        int po = img / 14;
        try (Tensor x = randomDevice(1, img, img, 3); Tensor w = weights(DType.BF16, c, 3 * 14 * 14); Tensor o = be.allocate(DType.F32, 1, po, po, c)) {
            Tensor w4 = w.reshape(c, 3, 14, 14);
            double flops = 2.0 * po * po * c * 3 * 14 * 14;
            flopsRow("conv2d bf16 CLIP patch embed", img + "^2x3 -> " + po + "^2x" + c, time(() -> be.conv2d(x, w4, null, 14, 0, o)),
                    flops, info.peakTensorFlops());
        }
        // ConvNeXt-L stage 1 at 768: depthwise 7x7 on 192x192x192
        int hw = d(192, 12), ch = d(192, 16);
        try (Tensor x = randomDevice(1, hw, hw, ch); Tensor w = randomDevice(ch, 1, 7, 7); Tensor o = be.allocate(DType.F32, 1, hw, hw, ch)) {
            bandwidthRow("depthwise 7x7", hw + "^2x" + ch, time(() -> be.depthwiseConv2d(x, w, null, 3, o)), 8.0 * hw * hw * ch);
        }
        int src = d(768, 24), dst = d(336, 14);
        try (Tensor x = randomDevice(3, src, src, 1); Tensor o = be.allocate(DType.F32, 3, dst, dst, 1)) {
            bandwidthRow("bilinear resize", "3x" + src + "^2 -> " + dst + "^2", time(() -> be.resizeBilinear(x, o)),
                    4.0 * 3 * (src * src + dst * dst));
        }
    }

    private void selection() {
        int vocab = d(128256, 1000);
        try (Tensor logits = randomDevice(1, vocab); Tensor am = be.allocate(DType.I32, 1); Tensor v = be.allocate(DType.F32, 1, 40);
             Tensor i = be.allocate(DType.I32, 1, 40); Tensor u = be.toDevice(Tensor.of(new float[] {0.3f}));
             Tensor pick = be.allocate(DType.I32, 1)) {
            bandwidthRow("argmax", "1x" + vocab, time(() -> be.argmax(logits, am)), 4.0 * vocab);
            bandwidthRow("topK k=40", "1x" + vocab, time(() -> be.topK(logits, 40, v, i)), 4.0 * vocab * 40);
            bandwidthRow("top-p sampling", "1x" + vocab, time(() -> be.sampleTopP(logits, 0.7f, 0.9f, u, pick)), 4.0 * vocab * 34);
        }
        try (Tensor router = randomDevice(d(512, 16), 8); Tensor v = be.allocate(DType.F32, d(512, 16), 2);
             Tensor i = be.allocate(DType.I32, d(512, 16), 2)) {
            bandwidthRow("MoE router top-2 of 8", d(512, 16) + " tokens", time(() -> be.topK(router, 2, v, i)), 4.0 * 8 * d(512, 16));
        }
    }

    private void graphs() {
        int h = d(4096, 64);
        try (Tensor x = randomDevice(1, h); Tensor w = randomDevice(h); Tensor y = be.allocate(DType.F32, 1, h)) {
            Runnable step = () -> {
                for (int i = 0; i < 100; i++) {
                    be.rmsNorm(x, w, 1e-5f, 0f, y);
                }
            };
            double eager = time(step);
            DeviceGraph g = be.capture(step);
            double replay = time(g::replay);
            g.close();
            rows.add(new String[] {"100 small launches, eager", "rmsNorm 1x" + h, fmt(eager * 1000), fmt(eager * 10) + " us/launch", ""});
            rows.add(new String[] {"100 small launches, CUDA graph", "rmsNorm 1x" + h, fmt(replay * 1000),
                    fmt(replay * 10) + " us/launch", String.format(Locale.ROOT, "%.1fx", eager / replay)});
        }
    }

    // ------------------------------------------------------------------ helpers

    private double withGemm(String policy, boolean exact, java.util.function.DoubleSupplier body) {
        String oldPolicy = System.getProperty(CudaBackend.GEMM_PROPERTY), oldExact = System.getProperty(CudaBackend.EXACT_PROPERTY);
        System.setProperty(CudaBackend.GEMM_PROPERTY, policy);
        System.setProperty(CudaBackend.EXACT_PROPERTY, Boolean.toString(exact));
        try {
            be.reloadGemmSettings();
            return body.getAsDouble();
        } finally {
            restore(CudaBackend.GEMM_PROPERTY, oldPolicy);
            restore(CudaBackend.EXACT_PROPERTY, oldExact);
            be.reloadGemmSettings();
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    /** Milliseconds per call: warm-up, then the median of 5 batches sized to about 20 ms each. */
    double time(Runnable op) {
        for (int i = 0; i < 3; i++) {
            op.run();
        }
        be.synchronize();
        int batch = 1;
        while (true) {
            double ms = batch(op, batch);
            if (ms * batch >= (tiny ? 1 : 20) || batch >= 1 << 14) {
                break;
            }
            batch *= 4;
        }
        double[] t = new double[tiny ? 1 : 5];
        for (int i = 0; i < t.length; i++) {
            t[i] = batch(op, batch);
        }
        java.util.Arrays.sort(t);
        return t[t.length / 2];
    }

    private double batch(Runnable op, int n) {
        Driver d = be.driver();
        long a = d.recordEvent();
        for (int i = 0; i < n; i++) {
            op.run();
        }
        long b = d.recordEvent();
        double ms = d.elapsedMillis(a, b) / n;
        d.destroyEvent(a);
        d.destroyEvent(b);
        be.synchronize();
        return ms;
    }

    private void bandwidthRow(String name, String shape, double ms, double bytes) {
        double gbs = bytes / (ms * 1e-3) / 1e9;
        double peak = info.peakBandwidth();
        rows.add(new String[] {name, shape, fmt(ms * 1000), fmt(gbs) + " GB/s", peak > 0 ? pct(gbs * 1e9 / peak) : "-"});
    }

    private void flopsRow(String name, String shape, double ms, double flops, double peak) {
        double tf = flops / (ms * 1e-3) / 1e12;
        rows.add(new String[] {name, shape, fmt(ms * 1000), fmt(tf) + " TFLOP/s", peak > 0 ? pct(tf * 1e12 / peak) : "-"});
    }

    private void printTable() {
        String[] head = {"kernel", "shape", "us/call", "achieved", "% of peak"};
        int[] w = new int[head.length];
        for (int i = 0; i < head.length; i++) {
            w[i] = head[i].length();
            for (String[] r : rows) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder fmt = new StringBuilder();
        for (int i = 0; i < head.length; i++) {
            fmt.append(i < 2 ? "%-" : "%").append(w[i]).append("s  ");
        }
        String f = fmt.toString().stripTrailing() + "%n";
        out.printf(f, (Object[]) head);
        for (String[] r : rows) {
            out.printf(f, (Object[]) r);
        }
    }

    private static String fmt(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 10 ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * fraction);
    }

    /** A device tensor of Gaussian values: one random block uploaded, then tiled on the device. */
    Tensor randomDevice(long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        int blockN = (int) Math.min(n, 1 << 20);
        Tensor t = be.allocate(DType.F32, shape);
        try (Tensor host = Tensor.allocate(DType.F32, blockN)) {
            MemorySegment seg = host.segment();
            for (int i = 0; i < blockN; i++) {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
            }
            Tensor flat = t.reshape(n);
            for (long at = 0; at < n; at += blockN) {
                long len = Math.min(blockN, n - at);
                be.copy(len == blockN ? host : host.slice(0, 0, len), flat.slice(0, at, at + len));
            }
        }
        return t;
    }

    private Tensor cast(Tensor f32, DType to) {
        if (to == DType.F32) {
            return f32;
        }
        Tensor t = be.allocate(to, f32.shape());
        be.copy(f32, t);
        f32.close();
        return t;
    }

    private Tensor weights(DType wt, long n, long k) {
        return cast(randomDevice(n, k), wt);
    }
}
