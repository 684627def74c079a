package mgm.kernels;

import static mgm.kernels.HostRef.as;
import static mgm.kernels.HostRef.assertBits;
import static mgm.kernels.HostRef.assertClose;
import static mgm.kernels.HostRef.random;
import static mgm.kernels.HostRef.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.Numerics;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The CUDA backend's kernels and launch paths against plain Java loops, on shapes chosen to reach
 * every kernel path: GEMV vectorised / scalar / staged-quant, tensor-core GEMM for each weight
 * dtype and odd K, split-K decode attention with GQA, flash prefill, the row-wise attention for
 * large head dims, strided views through the scratch fallbacks. Runs on the emulator
 * ({@link EmulatedBackendTest}) and on a GPU when there is one ({@link GpuBackendTest}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BackendChecks {
    private CudaBackend be;
    private final List<Tensor> owned = new ArrayList<>();

    /** The backend under test (skips the class with a reason when unavailable). */
    abstract CudaBackend open();

    @BeforeAll
    void openBackend() {
        be = open();
    }

    @AfterAll
    void closeBackend() {
        owned.forEach(Tensor::close);
        owned.clear();
        if (be != null) {
            be.close();
        }
    }

    private Tensor up(Tensor host) {
        Tensor d = be.toDevice(host);
        owned.add(d);
        return d;
    }

    private Tensor dev(DType dt, long... shape) {
        Tensor d = be.allocate(dt, shape);
        owned.add(d);
        return d;
    }

    private float[] read(Tensor d) {
        try (Tensor h = be.toHost(d)) {
            return h.toFloatArray();
        }
    }

    // ------------------------------------------------------------------ copy

    @Test
    void conversionsMatchJavaCasts() {
        Random r = new Random(1);
        Tensor f = random(r, 3, 40);
        float[] v = f.toFloatArray();
        v[0] = Float.NaN;
        v[1] = 3e9f;
        v[2] = -3e9f;
        v[3] = 200.7f;
        v[4] = -129.5f;
        f = Tensor.of(v, 3, 40);
        for (DType from : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            Tensor src = as(f, from);
            float[] vals = src.toFloatArray();
            Tensor dsrc = up(src);
            for (DType to : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64, DType.I32, DType.I64, DType.I8}) {
                Tensor dst = dev(to, 3, 40);
                be.copy(dsrc, dst);
                try (Tensor h = be.toHost(dst)) {
                    for (int i = 0; i < vals.length; i++) {
                        long[] ix = {i / 40, i % 40};
                        String what = from + "->" + to + " element " + i + " (" + vals[i] + ")";
                        switch (to) {
                            case I32 -> assertEquals((int) vals[i], h.getLong(ix), what);
                            case I64 -> assertEquals((long) vals[i], h.getLong(ix), what);
                            case I8 -> assertEquals((byte) vals[i], h.getLong(ix), what);
                            case F64 -> assertEquals((double) vals[i], (double) h.getFloat(ix), what);
                            case F16 -> assertEquals(Numerics.f16ToF32(Numerics.f32ToF16(vals[i])), h.getFloat(ix), what);
                            case BF16 -> assertEquals(Numerics.bf16ToF32(Numerics.f32ToBf16(vals[i])), h.getFloat(ix), what);
                            default -> assertEquals(vals[i], h.getFloat(ix), what);
                        }
                    }
                }
            }
        }
        // integers to integers keep the low bits; to floats round
        Tensor ints = Tensor.allocate(DType.I64, 4);
        long[] big = {1L << 40 | 7, -5, 123456789012L, Integer.MIN_VALUE};
        for (int i = 0; i < 4; i++) {
            ints.storage().segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, big[i]);
        }
        Tensor d = up(ints);
        Tensor i32 = dev(DType.I32, 4);
        be.copy(d, i32);
        Tensor f32 = dev(DType.F32, 4);
        be.copy(d, f32);
        try (Tensor hi = be.toHost(i32); Tensor hf = be.toHost(f32)) {
            for (int i = 0; i < 4; i++) {
                assertEquals((int) big[i], hi.getLong(i));
                assertEquals((float) big[i], hf.getFloat(i));
            }
        }
    }

    @Test
    void quantisationIsBitExact() {
        Random r = new Random(2);
        for (DType q : new DType[] {DType.Q8_0, DType.Q4_0}) {
            Tensor f = random(r, 5, 96);
            f.setFloat(0f, 0, 0);
            Tensor want = as(f, q);
            Tensor got = dev(q, 5, 96);
            be.copy(up(f), got);
            try (Tensor h = be.toHost(got)) {
                assertArrayEquals(want.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        h.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), "quantise " + q);
            }
            Tensor back = dev(DType.F32, 5, 96);
            be.copy(up(want), back);
            assertBits("dequantise " + q, want.toFloatArray(), read(back));
            // a quantised slice of rows copied as blocks
            Tensor rows = dev(q, 2, 96);
            be.copy(up(want).slice(0, 2, 4), rows);
            Tensor rowsF = dev(DType.F32, 2, 96);
            be.copy(rows, rowsF);
            assertBits("quantised row slice", Arrays.copyOfRange(want.toFloatArray(), 2 * 96, 4 * 96), read(rowsF));
        }
    }

    @Test
    void stridedCopiesAndHostTransfers() {
        Random r = new Random(3);
        Tensor src = random(r, 3, 5, 7);
        Tensor d = up(src);
        Tensor perm = dev(DType.BF16, 7, 3, 5);
        be.copy(d.permute(2, 0, 1), perm);
        float[] got = read(perm);
        float[] s = src.toFloatArray();
        for (int c = 0; c < 7; c++) {
            for (int a = 0; a < 3; a++) {
                for (int b = 0; b < 5; b++) {
                    float want = Numerics.bf16ToF32(Numerics.f32ToBf16(s[(a * 5 + b) * 7 + c]));
                    assertEquals(want, got[(c * 3 + a) * 5 + b]);
                }
            }
        }
        // upload of a strided host view, download into a strided host view
        Tensor view = src.transpose(0, 2);
        Tensor upv = up(view);
        assertBits("toDevice of a transposed view", view.toFloatArray(), read(upv));
        Tensor hostDst = Tensor.allocate(DType.F32, 7, 5, 3);
        be.copy(upv, hostDst);
        assertBits("download into a host tensor", view.toFloatArray(), hostDst.toFloatArray());
        Tensor wide = Tensor.allocate(DType.F32, 7, 5, 6);
        be.copy(upv, wide.slice(2, 1, 4));
        assertBits("download into a strided host view", view.toFloatArray(), wide.slice(2, 1, 4).toFloatArray());
        Tensor devDst = dev(DType.F16, 7, 5, 3);
        be.copy(view, devDst);  // host source, converting on the device
        float[] v = view.toFloatArray();
        float[] g = read(devDst);
        for (int i = 0; i < v.length; i++) {
            assertEquals(Numerics.f16ToF32(Numerics.f32ToF16(v[i])), g[i]);
        }
    }

    // ------------------------------------------------------------------ matmul

    private void checkMatmul(DType wt, int M, int N, int K, long seed, boolean stridedX, boolean bias) {
        Random r = new Random(seed);
        Tensor xh = random(r, M, K);
        Tensor wf = random(r, N, K);
        Tensor w = as(wf, wt);
        float[] wv = w.toFloatArray();
        Tensor b = bias ? random(r, N) : null;
        double[][] ref = HostRef.matmul(xh.toFloatArray(), wv, b == null ? null : b.toFloatArray(), M, N, K);
        Tensor x;
        if (stridedX) {
            Tensor wide = up(random(r, M, K + 8));
            be.copy(up(xh), wide.slice(1, 3, 3 + K));
            x = wide.slice(1, 3, 3 + K);
        } else {
            x = up(xh);
        }
        Tensor out = dev(DType.F32, M, N);
        be.matmul(x, up(w), b == null ? null : up(b), out);
        // Tighter than the suite's 1e-5: products must be those of fp32 arithmetic (a two-term
        // bfloat16 split of the activations, 2^-16 per product, fails this).
        assertClose("matmul " + wt + " M=" + M + " N=" + N + " K=" + K, ref[0], read(out), ref[1], 3e-6, 1e-6);
    }

    @Test
    void gemvEveryWeightDtype() {
        long seed = 10;
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
            checkMatmul(wt, 1, 9, 512, seed++, false, true);   // 128-bit loads / staged quant blocks
            checkMatmul(wt, 3, 5, 96, seed++, true, false);    // quant blocks read directly, strided x
            checkMatmul(wt, 8, 6, 256, seed++, false, true);
        }
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            checkMatmul(wt, 2, 7, 13, seed++, false, true);    // K not a multiple of the vector width
        }
    }

    @Test
    void tensorCoreGemmEveryWeightDtype() {
        long seed = 40;
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
            checkMatmul(wt, 9, 70, 96, seed++, false, true);
            checkMatmul(wt, 67, 33, 64, seed++, true, false);
        }
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            checkMatmul(wt, 20, 17, 45, seed++, false, true);  // K % 8 != 0: scalar tile loads
        }
    }

    @Test
    void gemmWithIdentityWeightsReturnsTheActivationsBitExactly() {
        // One non-zero product per output: any lost activation bit shows (a two-term bfloat16
        // split keeps 16 of the 24), whatever the summation order.
        Random r = new Random(77);
        int M = 20, K = 64;
        Tensor x = random(r, M, K);
        float[] eye = new float[K * K];
        for (int i = 0; i < K; i++) {
            eye[i * K + i] = 1f;
        }
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            Tensor out = dev(DType.F32, M, K);
            be.matmul(up(x), up(as(Tensor.of(eye, K, K), wt)), null, out);
            assertBits("x . I with " + wt + " weights", x.toFloatArray(), read(out));
        }
    }

    @Test
    void gemmKeepsExtremeActivationsAndNonFiniteWeights() {
        // Activations near FLT_MAX (bfloat16 rounding would overflow) and subnormals, through identity weights.
        Random r = new Random(78);
        int M = 12, K = 32;
        float[] xv = random(r, M, K).toFloatArray();
        xv[0] = Float.MAX_VALUE;
        xv[1] = -3.3999e38f;
        xv[2] = 1e-40f;
        xv[3] = -Float.MIN_VALUE;
        xv[K + 4] = 3.3895314e38f;  // the largest bfloat16
        float[] eye = new float[K * K];
        for (int i = 0; i < K; i++) {
            eye[i * K + i] = 1f;
        }
        for (DType wt : new DType[] {DType.F16, DType.BF16}) {
            Tensor out = dev(DType.F32, M, K);
            be.matmul(up(Tensor.of(xv, M, K)), up(as(Tensor.of(eye, K, K), wt)), null, out);
            float[] got = read(out);
            for (int i = 0; i < xv.length; i++) {
                if (Math.abs(xv[i]) >= 0x1p-110f || xv[i] == 0) {
                    assertEquals(Float.floatToIntBits(xv[i]), Float.floatToIntBits(got[i]), wt + " element " + i + ": " + got[i]);
                } else {  // bfloat16 terms reach their subnormal range: absolute error under 2^-133
                    assertEquals(xv[i], got[i], 0x1p-133f, wt + " subnormal element " + i);
                }
            }
        }
        // Infinite and NaN weights give infinities and NaN where the exact computation does.
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            float[] w = random(r, 4, 96).toFloatArray();
            w[5] = Float.POSITIVE_INFINITY;
            w[96 + 40] = Float.NaN;
            w[2 * 96 + 95] = Float.NEGATIVE_INFINITY;
            float[] x = random(r, M, 96).toFloatArray();
            Tensor wq = as(Tensor.of(w, 4, 96), wt);
            float[] wv = wq.toFloatArray();
            Tensor out = dev(DType.F32, M, 4);
            be.matmul(up(Tensor.of(x, M, 96)), up(wq), null, out);
            float[] got = read(out);
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < 4; n++) {
                    double s = 0;
                    for (int k = 0; k < 96; k++) {
                        s += (double) x[m * 96 + k] * wv[n * 96 + k];
                    }
                    float g = got[m * 4 + n];
                    if (Double.isNaN(s) || Double.isInfinite(s)) {
                        assertEquals((float) s, g, wt + " non-finite output (" + m + ", " + n + ")");
                    } else {
                        assertEquals(s, g, 1e-4 * 96, wt + " finite output (" + m + ", " + n + ")");
                    }
                }
            }
        }
    }

    @Test
    void emptyKGivesBias() {
        Tensor x = dev(DType.F32, 3, 0);
        Tensor w = dev(DType.BF16, 4, 0);
        Tensor b = up(Tensor.of(new float[] {1, 2, 3, 4}));
        Tensor out = dev(DType.F32, 3, 4);
        be.matmul(x, w, b, out);
        assertBits("K = 0", new float[] {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}, read(out));
    }

    // ------------------------------------------------------------------ rows

    @Test
    void normsSoftmaxAndRope() {
        Random r = new Random(5);
        int R = 3, D = 300;
        Tensor x = random(r, R, D), w = random(r, D), b = random(r, D);
        float[] xv = x.toFloatArray(), wv = w.toFloatArray(), bv = b.toFloatArray();
        double[] ln = new double[R * D], sm = new double[R * D];
        for (int i = 0; i < R; i++) {
            double ss = 0, mean = 0, var = 0, max = Double.NEGATIVE_INFINITY, z = 0;
            for (int j = 0; j < D; j++) {
                double v = xv[i * D + j];
                ss += v * v;
                mean += v;
                max = Math.max(max, v);
            }
            mean /= D;
            for (int j = 0; j < D; j++) {
                double dv = xv[i * D + j] - mean;
                var += dv * dv;
                z += Math.exp(xv[i * D + j] - max);
            }
            for (int j = 0; j < D; j++) {
                double v = xv[i * D + j];
                ln[i * D + j] = (v - mean) / Math.sqrt(var / D + 1e-5) * wv[j] + bv[j];
                sm[i * D + j] = Math.exp(v - max) / z;
            }
        }
        Tensor dx = up(x);
        Tensor out = dev(DType.F32, R, D);
        be.rmsNorm(dx, up(as(w, DType.BF16)), 1e-6f, 1f, out);
        double[] rmsBf = new double[R * D];
        float[] wb = as(w, DType.BF16).toFloatArray();
        for (int i = 0; i < R; i++) {
            double ss = 0;
            for (int j = 0; j < D; j++) {
                ss += (double) xv[i * D + j] * xv[i * D + j];
            }
            for (int j = 0; j < D; j++) {
                rmsBf[i * D + j] = xv[i * D + j] / Math.sqrt(ss / D + 1e-6) * (1 + wb[j]);
            }
        }
        assertClose("rmsNorm (bf16 weight, offset 1)", rmsBf, read(out), null, 1e-5, 1e-6);
        be.layerNorm(dx, up(w), up(b), 1e-5f, out);
        assertClose("layerNorm", ln, read(out), null, 1e-5, 1e-6);
        Tensor inPlace = up(x);
        be.softmax(inPlace, inPlace);
        assertClose("softmax in place", sm, read(inPlace), null, 1e-5, 1e-6);
        // a transposed input goes through scratch
        Tensor t = up(Tensor.of(x.toFloatArray(), R, D)).reshape(R, D);
        Tensor tt = dev(DType.F32, D, R);
        be.copy(t.transpose(0, 1), tt);
        be.softmax(tt.transpose(0, 1), out);
        assertClose("softmax of a transposed view", sm, read(out), null, 1e-5, 1e-6);

        // rope on a q view of a fused projection, in place
        int T = 3, H = 2, Dh = 16;
        Tensor qkv = random(r, T, 3 * H * Dh);
        float[] inv = new float[Dh / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) Math.pow(10000, -2.0 * i / Dh);
        }
        Tensor dq = up(qkv);
        Tensor q = dq.reshape(T, 3 * H, Dh).slice(1, 0, H);
        be.rope(q, 4000, up(Tensor.of(inv)), q);
        float[] got = read(dq);
        float[] src = qkv.toFloatArray();
        double[] want = toDouble(src);
        for (int tok = 0; tok < T; tok++) {
            for (int h = 0; h < H; h++) {
                int base = tok * 3 * H * Dh + h * Dh;
                for (int i = 0; i < Dh / 2; i++) {
                    float angle = (float) (4000 + tok) * inv[i];
                    double c = (float) Math.cos(angle), s = (float) Math.sin(angle);
                    want[base + i] = src[base + i] * c - src[base + i + Dh / 2] * s;
                    want[base + i + Dh / 2] = src[base + i + Dh / 2] * c + src[base + i] * s;
                }
            }
        }
        assertClose("rope in place on a strided view", want, got, null, 1e-6, 1e-6);
    }

    // ------------------------------------------------------------------ attention

    private void checkAttention(int T, int Hq, int Hkv, int Dh, int S, int qs, boolean causal, DType kv, long seed) {
        Random r = new Random(seed);
        Tensor q = random(r, T, Hq, Dh);
        Tensor k = as(random(r, S, Hkv, Dh), kv), v = as(random(r, S, Hkv, Dh), kv);
        float[] qv = q.toFloatArray(), kf = k.toFloatArray(), vf = v.toFloatArray();
        float scale = (float) (1 / Math.sqrt(Dh));
        double[] want = new double[T * Hq * Dh];
        for (int t = 0; t < T; t++) {
            int visible = causal ? qs + t + 1 : S;
            for (int h = 0; h < Hq; h++) {
                int g = h / (Hq / Hkv);
                double[] p = new double[visible];
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int j = 0; j < visible; j++) {
                    double dot = 0;
                    for (int i = 0; i < Dh; i++) {
                        dot += (double) qv[(t * Hq + h) * Dh + i] * kf[(j * Hkv + g) * Dh + i];
                    }
                    p[j] = dot * scale;
                    max = Math.max(max, p[j]);
                }
                for (int j = 0; j < visible; j++) {
                    p[j] = Math.exp(p[j] - max);
                    z += p[j];
                }
                for (int i = 0; i < Dh; i++) {
                    double acc = 0;
                    for (int j = 0; j < visible; j++) {
                        acc += p[j] * vf[(j * Hkv + g) * Dh + i];
                    }
                    want[(t * Hq + h) * Dh + i] = acc / z;
                }
            }
        }
        Tensor out = dev(DType.F32, T, Hq, Dh);
        be.attention(up(q), up(k), up(v), scale, causal, qs, out);
        assertClose("attention " + kv + " T=" + T + " Hq=" + Hq + " Hkv=" + Hkv + " Dh=" + Dh + " S=" + S + " qs=" + qs,
                want, read(out), null, 1e-5, 1e-6);
    }

    @Test
    void attentionDecodePrefillAndRowwise() {
        checkAttention(1, 8, 2, 64, 100, 99, true, DType.BF16, 1);   // split-K decode, GQA
        checkAttention(1, 6, 1, 32, 50, 20, true, DType.F16, 2);     // MQA, cache longer than visible keys
        checkAttention(1, 2, 2, 40, 9, 0, false, DType.F32, 3);      // non-causal decode, unaligned head dim
        checkAttention(7, 4, 2, 24, 7, 0, true, DType.F32, 4);       // prefill
        checkAttention(40, 2, 1, 64, 45, 5, true, DType.BF16, 5);    // two query tiles, chunked prefill
        checkAttention(9, 3, 3, 16, 11, 0, false, DType.F16, 6);     // vision (non-causal)
        checkAttention(3, 2, 1, 288, 5, 2, true, DType.F32, 7);      // head dim above 256: row-wise kernel
        checkAttention(70, 4, 2, 64, 75, 5, true, DType.BF16, 8);    // tensor cores: two query tiles, partial key tile
        checkAttention(33, 2, 1, 80, 33, 0, true, DType.F16, 9);     // tensor cores, fp16 cache, Dh 80
        checkAttention(20, 2, 2, 128, 40, 0, false, DType.BF16, 10); // tensor cores, non-causal
    }

    @Test
    void windowAttentionOverAStridedMap() {
        Random r = new Random(13);
        int H = 8, W = 12, D = 40, win = 2, cols = W / win;
        Tensor big = random(r, H, W + 3, D);  // the map is a column slice: row stride (W + 3) * D
        Tensor q = random(r, (H / win) * cols, D);
        float[] mv = big.toFloatArray(), qv = q.toFloatArray();
        float scale = 0.3f;
        double[] want = new double[qv.length];
        for (int t = 0; t < qv.length / D; t++) {
            int y0 = t / cols * win, x0 = t % cols * win;
            double[] p = new double[win * win];
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int i = 0; i < p.length; i++) {
                int at = ((y0 + i / win) * (W + 3) + x0 + i % win + 1) * D;
                double dot = 0;
                for (int c = 0; c < D; c++) {
                    dot += (double) qv[t * D + c] * mv[at + c];
                }
                p[i] = dot * scale;
                max = Math.max(max, p[i]);
            }
            for (int i = 0; i < p.length; i++) {
                p[i] = Math.exp(p[i] - max);
                z += p[i];
            }
            for (int c = 0; c < D; c++) {
                double acc = 0;
                for (int i = 0; i < p.length; i++) {
                    acc += p[i] * mv[((y0 + i / win) * (W + 3) + x0 + i % win + 1) * D + c];
                }
                want[t * D + c] = acc / z;
            }
        }
        Tensor out = dev(DType.F32, qv.length / D, D);
        be.windowAttention(up(q), up(big).slice(1, 1, 1 + W), win, scale, out);
        assertClose("windowAttention", want, read(out), null, 1e-5, 1e-6);
    }

    // ------------------------------------------------------------------ pointwise

    @Test
    void activationsAndBroadcasts() {
        Random r = new Random(8);
        Tensor x = random(r, 4, 50);
        float[] xv = x.toFloatArray();
        for (int i = 0; i < xv.length; i++) {
            xv[i] *= 4;
        }
        x = Tensor.of(xv, 4, 50);
        Tensor upv = random(r, 4, 50);
        for (Activation act : Activation.values()) {
            double[] want = new double[xv.length], gated = new double[xv.length];
            double[] atolScale = new double[xv.length];
            for (int i = 0; i < xv.length; i++) {
                want[i] = HostRef.activation(act.ordinal(), xv[i]);
                gated[i] = (float) want[i] * upv.toFloatArray()[i];
                atolScale[i] = Math.abs(want[i]) + 0.5 * Math.max(1, Math.abs(xv[i]));  // the reference erf is good to 1.2e-7
            }
            Tensor out = dev(DType.F32, 4, 50);
            be.activation(act, up(x), out);
            assertClose(act.name(), want, read(out), atolScale, 2e-6, 0);
            Tensor g = up(x);
            be.gatedActivation(act, g, up(upv), g);
            double[] gs = new double[xv.length];
            for (int i = 0; i < xv.length; i++) {
                gs[i] = atolScale[i] * Math.abs(upv.toFloatArray()[i]);
            }
            assertClose("gated " + act, gated, read(g), gs, 2e-6, 0);
        }
        // add a bias row, mul by a column, scale a transposed view: exact
        Tensor a = random(r, 6, 10), bias = random(r, 10), col = random(r, 6, 1);
        float[] av = a.toFloatArray(), bv = bias.toFloatArray(), cv = col.toFloatArray();
        float[] sum = new float[60], prod = new float[60], sc = new float[60];
        for (int i = 0; i < 60; i++) {
            sum[i] = av[i] + bv[i % 10];
            prod[i] = av[i] * cv[i / 10];
        }
        for (int j = 0; j < 10; j++) {
            for (int i = 0; i < 6; i++) {
                sc[j * 6 + i] = av[i * 10 + j] * -0.37f;
            }
        }
        Tensor da = up(a), out = dev(DType.F32, 6, 10);
        be.add(da, up(bias), out);
        assertBits("add bias", sum, read(out));
        be.mul(da, up(col), out);
        assertBits("mul column", prod, read(out));
        Tensor outT = dev(DType.F32, 10, 6);
        be.scale(da.transpose(0, 1), -0.37f, outT);
        assertBits("scale transposed", sc, read(outT));
    }

    // ------------------------------------------------------------------ convolution and resampling

    @Test
    void conv2dDepthwiseAndResize() {
        Random r = new Random(9);
        int N = 1, H = 9, W = 7, C = 5, O = 6, k = 3, stride = 2, pad = 1;
        int Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1;
        Tensor x = random(r, N, H, W, C), bias = random(r, O);
        float[] xv = x.toFloatArray(), bv = bias.toFloatArray();
        for (DType wt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            Tensor w = as(random(r, O, C, k, k), wt);
            float[] wv = w.toFloatArray();
            double[] want = new double[N * Ho * Wo * O], scale = new double[want.length];
            for (int oy = 0; oy < Ho; oy++) {
                for (int ox = 0; ox < Wo; ox++) {
                    for (int o = 0; o < O; o++) {
                        double s = bv[o], a = Math.abs(bv[o]);
                        for (int c = 0; c < C; c++) {
                            for (int i = 0; i < k; i++) {
                                for (int j = 0; j < k; j++) {
                                    int iy = oy * stride - pad + i, ix = ox * stride - pad + j;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
                                        continue;
                                    }
                                    double p = (double) xv[(iy * W + ix) * C + c] * wv[((o * C + c) * k + i) * k + j];
                                    s += p;
                                    a += Math.abs(p);
                                }
                            }
                        }
                        want[(oy * Wo + ox) * O + o] = s;
                        scale[(oy * Wo + ox) * O + o] = a;
                    }
                }
            }
            Tensor out = dev(DType.F32, N, Ho, Wo, O);
            be.conv2d(up(x), up(w), up(bias), stride, pad, out);
            assertClose("conv2d " + wt, want, read(out), scale, 1e-5, 1e-6);
        }
        // depthwise 7x7, pad 3
        int kd = 7, pd = 3;
        Tensor wd = random(r, C, 1, kd, kd), bd = random(r, C);
        float[] wdv = wd.toFloatArray(), bdv = bd.toFloatArray();
        double[] want = new double[H * W * C], scale = new double[want.length];
        for (int y = 0; y < H; y++) {
            for (int xx = 0; xx < W; xx++) {
                for (int c = 0; c < C; c++) {
                    double s = bdv[c], a = Math.abs(bdv[c]);
                    for (int i = 0; i < kd; i++) {
                        for (int j = 0; j < kd; j++) {
                            int iy = y - pd + i, ix = xx - pd + j;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                                double p = (double) xv[(iy * W + ix) * C + c] * wdv[(c * kd + i) * kd + j];
                                s += p;
                                a += Math.abs(p);
                            }
                        }
                    }
                    want[(y * W + xx) * C + c] = s;
                    scale[(y * W + xx) * C + c] = a;
                }
            }
        }
        Tensor out = dev(DType.F32, 1, H, W, C);
        be.depthwiseConv2d(up(x), up(wd), up(bd), pd, out);
        assertClose("depthwise", want, read(out), scale, 1e-5, 1e-6);
        // bilinear, PyTorch align_corners=False (torch 1.13: source coordinates in double)
        int Hr = 4, Wr = 11;
        double[] rw = new double[Hr * Wr * C];
        float sh = (float) H / Hr, sw = (float) W / Wr;
        for (int oy = 0; oy < Hr; oy++) {
            double hr = Math.max(sh * (oy + 0.5) - 0.5, 0);
            int h1 = Math.min((int) Math.floor(hr), H - 1), h1p = h1 < H - 1 ? 1 : 0;
            float l1 = (float) Math.min(Math.max(hr - h1, 0), 1), l0 = 1 - l1;
            for (int ox = 0; ox < Wr; ox++) {
                double wr = Math.max(sw * (ox + 0.5) - 0.5, 0);
                int w1 = Math.min((int) Math.floor(wr), W - 1), w1p = w1 < W - 1 ? 1 : 0;
                float m1 = (float) Math.min(Math.max(wr - w1, 0), 1), m0 = 1 - m1;
                for (int c = 0; c < C; c++) {
                    rw[(oy * Wr + ox) * C + c] = l0 * (m0 * xv[(h1 * W + w1) * C + c] + m1 * xv[(h1 * W + w1 + w1p) * C + c])
                            + l1 * (m0 * xv[((h1 + h1p) * W + w1) * C + c] + m1 * xv[((h1 + h1p) * W + w1 + w1p) * C + c]);
                }
            }
        }
        Tensor rout = dev(DType.F32, 1, Hr, Wr, C);
        be.resizeBilinear(up(x), rout);
        assertClose("resize", rw, read(rout), null, 1e-6, 1e-6);
    }

    // ------------------------------------------------------------------ selection

    @Test
    void topKArgmaxAndSampling() {
        Random r = new Random(11);
        int M = 3, N = 1000;
        Tensor x = random(r, M, N);
        x.setFloat(x.getFloat(1, 7), 1, 900);  // a tie: lower index first
        float[] v = x.toFloatArray();
        Tensor dx = up(x);
        Tensor am = dev(DType.I32, M);
        be.argmax(dx, am);
        Tensor vals = dev(DType.F32, M, 5), idx = dev(DType.I32, M, 5);
        be.topK(dx, 5, vals, idx);
        int[] gotIdx;
        try (Tensor h = be.toHost(idx)) {
            gotIdx = h.toIntArray();
        }
        float[] gotVals = read(vals);
        int[] gotAm;
        try (Tensor h = be.toHost(am)) {
            gotAm = h.toIntArray();
        }
        for (int m = 0; m < M; m++) {
            Integer[] order = new Integer[N];
            for (int i = 0; i < N; i++) {
                order[i] = i;
            }
            final int row = m;
            Arrays.sort(order, (p, q) -> v[row * N + p] != v[row * N + q] ? Float.compare(v[row * N + q], v[row * N + p]) : p - q);
            assertEquals(order[0], gotAm[m], "argmax row " + m);
            for (int j = 0; j < 5; j++) {
                assertEquals(order[j], gotIdx[m * 5 + j], "topK index row " + m + " rank " + j);
                assertEquals(v[m * N + order[j]], gotVals[m * 5 + j]);
            }
        }
        // top-p sampling against the same rule computed in Java
        float temperature = 0.8f, topP = 0.9f;
        float[] u = {0.05f, 0.5f, 0.97f};
        Tensor picks = dev(DType.I32, M);
        be.sampleTopP(dx, temperature, topP, up(Tensor.of(u)), picks);
        int[] got;
        try (Tensor h = be.toHost(picks)) {
            got = h.toIntArray();
        }
        for (int m = 0; m < M; m++) {
            double[] p = new double[N];
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int i = 0; i < N; i++) {
                max = Math.max(max, v[m * N + i] / temperature);
            }
            for (int i = 0; i < N; i++) {
                p[i] = Math.exp(v[m * N + i] / temperature - max);
                z += p[i];
            }
            double[] sorted = new double[N];
            for (int i = 0; i < N; i++) {
                p[i] /= z;
                sorted[i] = p[i];
            }
            Arrays.sort(sorted);
            double mass = 0, tau = 0;
            for (int i = N - 1; i >= 0; i--) {
                mass += sorted[i];
                tau = sorted[i];
                if (mass >= topP) {
                    break;
                }
            }
            double target = u[m] * mass, c = 0;
            int pick = -1;
            for (int i = 0; i < N && pick < 0; i++) {
                if (p[i] >= tau) {
                    c += p[i];
                    if (c > target) {
                        pick = i;
                    }
                }
            }
            assertEquals(pick, got[m], "top-p row " + m);
        }
    }

    // ------------------------------------------------------------------ errors

    @Test
    void badIdsAndBadArgumentsAreReported() {
        Tensor table = up(random(new Random(12), 4, 8));
        Tensor ids = up(Tensor.ofInts(new int[] {1, 4}));
        Tensor out = dev(DType.F32, 2, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.embedding(table, ids, out));
        assertTrue(e.getMessage().startsWith("embedding:"), e.getMessage());
        be.embedding(table, up(Tensor.ofInts(new int[] {3, 0})), out);  // the error was reported once
        float[] t = read(table);
        float[] got = read(out);
        assertBits("embedding", concat(Arrays.copyOfRange(t, 24, 32), Arrays.copyOfRange(t, 0, 8)), got);
        Tensor x = dev(DType.F32, 2, 8);
        e = assertThrows(IllegalArgumentException.class, () -> be.matmul(x, dev(DType.F32, 3, 9), null, dev(DType.F32, 2, 3)));
        assertTrue(e.getMessage().startsWith("matmul:"), e.getMessage());
        Tensor host = Tensor.allocate(DType.F32, 2, 8);
        e = assertThrows(IllegalArgumentException.class, () -> be.scale(host, 2f, x));
        assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
