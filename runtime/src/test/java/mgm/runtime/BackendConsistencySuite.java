package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every op of {@link Backend} on a candidate backend against {@link ReferenceBackend}, in the
 * spirit of ggml's test-backend-ops: every op × every dtype it accepts × awkward shapes (sizes of
 * 1, odd sizes, sizes not a multiple of any vector width, large K, GEMV and GEMM shapes), strided /
 * permuted / sliced views and in-place calls, on random inputs from fixed seeds. A backend plugs in
 * by subclassing and implementing {@link #candidate()} (this class ships in the runtime test-jar).
 *
 * <p>Inputs are made on the host, uploaded with {@link Backend#toDevice}, results read back with
 * {@link Backend#toHost}. Views are taken on the candidate's tensors, so device backends see the
 * same strides.
 *
 * <p>Tolerances (per element, {@code |got - want| <= atol + rtol * scale}):
 * <ul>
 *   <li>matmul / conv2d, every weight dtype: {@code scale = (|x| · |w|ᵀ)} of that element (the sum of
 *       absolute products, i.e. the natural bound of a reordered float sum), rtol 1e-5 for F32 / F16 /
 *       BF16 / Q8_0 weights (weights convert exactly; only the summation order differs from the
 *       double-precision reference: ≈ sqrt(K) · 2^-24 relative for K ≤ 4096), 4e-5 for Q4_0 (either layout; the
 *       kernel computes {@code Σx·q − 8·Σx}, whose terms are up to 3× larger than {@code Σ|x·(q−8)|}).</li>
 *   <li>depthwise conv: same form, rtol 1e-5.</li>
 *   <li>rmsNorm / layerNorm / softmax / attention: rtol 1e-5 relative to |want|, atol 1e-6 (F32
 *       accumulation against a double reference; the fast exp in softmax/attention is within 2e-7).</li>
 *   <li>activations: rtol 2e-6, atol 1e-7 · max(1, |x|) (the CPU backend's vectorised exp / erfc forms
 *       measure |error| ≤ 1.3e-7 · max(1, |x|); the relative error is larger only where the result is
 *       tiny, e.g. quick-GELU's far negative tail).</li>
 *   <li>rope, resize: rtol 1e-6, atol 1e-6 (same formula, different association).</li>
 *   <li>add / mul / scale, copy (all conversions, GGML quantisation), embedding, argmax, topK:
 *       exact (bit-equal values, equal indices).</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendConsistencySuite {

    /** The backend under test; called once per test class, closed after the class. */
    protected abstract Backend candidate();

    /**
     * The form in which the candidate takes activations into matmuls with quantised weights (see
     * {@link QuantActivations}); the reference computes in the same form. A constant: it is read
     * while the suite is constructed.
     */
    protected QuantActivations quantActivations() {
        return QuantActivations.F32;
    }

    private Backend candidate;
    private final ReferenceBackend reference = new ReferenceBackend(quantActivations());
    private final List<Tensor> owned = new ArrayList<>();

    protected final Backend backend() {
        if (candidate == null) {
            candidate = candidate();
        }
        return candidate;
    }

    @AfterAll
    void closeBackend() {
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
        if (candidate != null) {
            candidate.close();
        }
    }

    // ================================================================== matmul

    private static final DType[] WEIGHTS = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};

    @Test
    void matmulGemvShapes() {
        // the last: one activation row over 1024 rows, which the CPU backend streams in chunks longer than 256 KB
        int[][] mnk = {{1, 1, 32}, {1, 7, 64}, {1, 17, 96}, {2, 33, 160}, {3, 5, 32}, {4, 64, 4096}, {1, 130, 544}, {3, 300, 96},
            {1, 1024, 1024}};
        int seed = 1;
        for (DType wt : WEIGHTS) {
            for (int[] s : mnk) {
                checkMatmul(wt, s[0], s[1], s[2], seed++, false, false, true);
            }
        }
    }

    @Test
    void matmulGemvShapesFloatOddK() {
        // the last two: many rows with a tail each, split over several chunks (the float kernels add row
        // tails in a pass after their main loop)
        int[][] mnk = {{1, 3, 1}, {1, 9, 7}, {1, 5, 33}, {2, 11, 17}, {1, 19, 129}, {3, 4, 250}, {1, 300, 200}, {2, 257, 1000}};
        int seed = 100;
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            for (int[] s : mnk) {
                checkMatmul(wt, s[0], s[1], s[2], seed++, false, false, seed % 2 == 0);
            }
        }
    }

    @Test
    void matmulGemmShapes() {
        int[][] mnk = {{5, 7, 32}, {6, 16, 64}, {7, 33, 96}, {13, 40, 256}, {37, 19, 288}, {100, 70, 320}, {64, 48, 4096}};
        int seed = 200;
        for (DType wt : WEIGHTS) {
            for (int[] s : mnk) {
                checkMatmul(wt, s[0], s[1], s[2], seed++, false, false, seed % 2 == 1);
            }
        }
        for (DType wt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            checkMatmul(wt, 9, 23, 13, seed++, false, false, true);
            checkMatmul(wt, 50, 3, 300, seed++, false, false, false);
        }
        // Many rows and columns: the CPU GEMM splits these into several row groups and column
        // blocks (edge tiles in both), the bias added per chunk.
        checkMatmul(DType.F32, 577, 100, 64, seed++, false, false, true);
        checkMatmul(DType.BF16, 300, 200, 288, seed++, false, false, true);
        // A larger than the CPU GEMM's packed-A buffer (6 Mi floats): two row blocks, the second of one row.
        checkMatmul(DType.BF16, 1537, 24, 4096, seed++, false, false, true);
    }

    @Test
    void matmulStridedViews() {
        int seed = 300;
        for (DType wt : new DType[] {DType.F32, DType.BF16, DType.Q8_0}) {
            checkMatmul(wt, 1, 9, 64, seed++, true, false, true);
            checkMatmul(wt, 3, 9, 64, seed++, true, true, false);
            checkMatmul(wt, 21, 9, 64, seed++, true, true, true);
        }
    }

    /**
     * Weights in the backend's matmul layout ({@link Backend#prepareLinear}: K-tiled on the CPU
     * backend when rows are long, Q4_0 interleaved by 32 rows on 512-bit machines) against the
     * reference on the plain weights: GEMV and GEMM shapes, 2-3 tiles, rows too long but not
     * evenly divisible (left as they are), row counts that are and are not multiples of 32, an odd
     * block count, several row chunks, bias, strided output; and {@link TiledWeights#plainCopy}
     * gives the plain bytes back.
     */
    @Test
    void matmulPreparedWeights() {
        int[][] mnk = {{1, 48, 4096}, {3, 33, 5632}, {1, 17, 2880}, {2, 9, 4000}, {12, 40, 4096}, {64, 24, 5632}, {9, 16, 2880},
            {1, 64, 4096}, {3, 96, 5632}, {5, 32, 96}, {1, 256, 2048}, {16, 64, 2880}, {8, 128, 160}, {1, 1024, 1024}};
        int seed = 500;
        for (DType wt : WEIGHTS) {
            for (int[] s : mnk) {
                checkMatmul(wt, s[0], s[1], s[2], seed++, false, true, seed % 2 == 0, true);
            }
        }
    }

    @Test
    void matmulF16InfinityInALongRun() {
        // one Inf among many rows: the F16 kernel recomputes the rows of a run that holds one exactly
        Random r = new Random(9);
        Tensor f = random(r, 300, 256);
        f.setFloat(Float.POSITIVE_INFINITY, 250, 70);
        Tensor w = converted(f, DType.F16);
        Tensor x = random(r, 1, 256);
        Tensor want = Tensor.allocate(DType.F32, 1, 300);
        reference.matmul(x, w, null, want);
        Tensor got = out(1, 300);
        backend().matmul(upload(x), upload(w), null, got);
        float[] g = read(got);
        float[] e = want.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            if (i == 250) {
                assertEquals(e[i], g[i], "matmul F16 row with an infinity");
            } else {
                assertEquals(e[i], g[i], 1e-4f * 256, "matmul F16 finite row " + i);
            }
        }
    }

    /**
     * F16 weights (the extremes 65504 and a subnormal among them, a tail past the vector steps)
     * against activation rows the CPU kernel prepares with a scale other than 2^112 (it keeps the
     * scaled row below 2^127: elements past 2^15 and up to 1e32, then Inf / NaN beside a 1e5 that
     * sets the scale alone) and rows of tiny values (1e-35 scale, no absolute slack): the
     * reference's values, Inf / NaN included, at F32 accuracy.
     */
    @Test
    void matmulF16LargeAndSpecialActivations() {
        Random r = new Random(12);
        int n = 40, k = 200;
        Tensor f = random(r, n, k);
        f.setFloat(65504f, 0, 3);
        f.setFloat(-65504f, 5, 150);
        f.setFloat(3e-6f, 1, 10);
        f.setFloat(1000f, 2, 197);
        Tensor w = converted(f, DType.F16);
        float[] rows = {40000f, 1e20f, 1e32f, 1e-35f, Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY};
        for (float v : rows) {
            Tensor x = random(r, 2, k);
            if (Float.isFinite(v)) {
                for (int e = 0; e < k; e++) {
                    x.setFloat(x.getFloat(0, e) * v, 0, e);
                }
            } else {
                x.setFloat(1e5f, 0, 20);
                x.setFloat(v, 0, 77);
            }
            Tensor want = Tensor.allocate(DType.F32, 2, n);
            reference.matmul(x, w, null, want);
            Tensor got = out(2, n);
            backend().matmul(upload(x), upload(w), null, got);
            float[] atol = new float[2 * n];
            java.util.Arrays.fill(atol, n, 2 * n, 1e-6f);  // row 0: relative only; row 1: ordinary
            assertMatmulClose("F16 matmul, x row scaled by / holding " + v, x, w, want, read(got), 1e-5, atol);
        }
    }

    @Test
    void matmulNonFiniteWeights() {
        Random r = new Random(8);
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            Tensor f = random(r, 4, 96);
            f.setFloat(Float.POSITIVE_INFINITY, 0, 5);
            f.setFloat(Float.NaN, 1, 40);
            f.setFloat(Float.NEGATIVE_INFINITY, 2, 95);
            Tensor w = converted(f, wt);
            for (int m : new int[] {1, 7, 12}) { // GEMV and GEMM paths
                Tensor x = random(r, m, 96);
                Tensor want = Tensor.allocate(DType.F32, m, 4);
                reference.matmul(x, w, null, want);
                Tensor got = out(m, 4);
                backend().matmul(upload(x), upload(w), null, got);
                float[] g = read(got);
                float[] e = want.toFloatArray();
                for (int i = 0; i < e.length; i++) {
                    if (i % 4 == 3) {
                        assertEquals(e[i], g[i], 1e-4f * 96, "matmul " + wt + " finite row");
                    } else {
                        assertEquals(Float.isNaN(e[i]), Float.isNaN(g[i]), "matmul " + wt + " NaN at " + i + ": " + g[i]);
                        if (!Float.isNaN(e[i])) {
                            assertEquals(e[i], g[i], "matmul " + wt + " infinity at " + i);
                        }
                    }
                }
            }
        }
    }

    /**
     * Prepared Q4_0 weights (interleaved on 512-bit machines, GGML blocks elsewhere) with activation
     * rows the fast kernels leave to their exact-semantics forms (Inf, NaN, elements beyond 2^100)
     * give the reference's Inf / NaN and F32 accuracy; so do rows of tiny values (1e-35 scale, no
     * absolute slack). (Run with {@code -XX:UseAVX=2} this covers the GGML-layout kernel.)
     */
    @Test
    void matmulPreparedQ4SpecialActivations() {
        Random r = new Random(10);
        Tensor w = weight(r, DType.Q4_0, 64, 128);
        Tensor p = backend().prepareLinear(upload(w));
        track(p);
        float[] special = {Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY, 1e33f, 1e-35f};
        for (float v : special) {
            Tensor x = random(r, 2, 128);
            if (Float.isFinite(v)) {
                for (int e = 0; e < 128; e++) {
                    x.setFloat(x.getFloat(0, e) * v, 0, e);
                }
            } else {
                x.setFloat(v, 0, 77);
            }
            Tensor want = Tensor.allocate(DType.F32, 2, 64);
            reference.matmul(x, w, null, want);
            Tensor got = out(2, 64);
            backend().matmul(upload(x), p, null, got);
            float[] atol = new float[2 * 64];
            java.util.Arrays.fill(atol, 64, 128, 1e-6f);  // row 0: relative only (its scale is 1e-35 / 1e33); row 1: ordinary
            assertMatmulClose("prepared " + p.describe() + " matmul, x row scaled by / holding " + v, x, w, want, read(got), 4e-5, atol);
        }
    }

    /**
     * The largest activations the fast Q4_0 kernels take (every element 2^100, see
     * {@code GemvKernels.q4RowIsOrdinary}) against quants of 15 (blocks of one 1 and 31 of -0.875,
     * whose scale is -1/8): the fast kernels' scaled partial sums (up to {@code 16 * 15 * 2^120}
     * in the interleaved kernel) must not overflow where the reference's sums stay finite.
     */
    @Test
    void matmulPreparedQ4LargestOrdinaryActivations() {
        assumeTrue(quantActivations() == QuantActivations.F32,
                "F32 activations only: rounded to Q8_0, a block of 2^100 has an fp16 scale of Inf");
        int n = 64, k = 128;
        float[] wv = new float[n * k];
        for (int i = 0; i < wv.length; i++) {
            wv[i] = i % 32 == 0 ? 1f : -0.875f;
        }
        Tensor w = converted(Tensor.of(wv, n, k), DType.Q4_0);
        Tensor p = backend().prepareLinear(upload(w));
        track(p);
        Tensor x = random(new Random(11), 2, k);
        for (int e = 0; e < k; e++) {
            x.setFloat(0x1p100f, 0, e);
        }
        Tensor want = Tensor.allocate(DType.F32, 2, n);
        reference.matmul(x, w, null, want);
        for (int i = 0; i < 2 * n; i++) {
            assertEquals(true, Float.isFinite(want.getFloat(i / n, i % n)), "the reference's sums are finite");
        }
        Tensor got = out(2, n);
        backend().matmul(upload(x), p, null, got);
        assertMatmulClose("prepared " + p.describe() + " matmul, x row of 2^100 against quants of 15", x, w, want, read(got), 4e-5);
    }

    /**
     * Activations rounded to Q8_0: Q4_0 GEMVs at the ends of the integer kernel's 16-bit block sums.
     * A block of equal positive weights quantises to quants of 0 (weight = -8 d); an activation row
     * of equal elements rounds to quants of +127 (row 0) or -127 (row 1); so every block's
     * {@code sum (q - 8) xq} is -32512 or +32512, the extremes the kernel's wrapping 16-bit sums must
     * hold exactly. Rows of the weight alternate with blocks of one 1 and 31 of -0.875 (quants 0 and
     * 15: the other side of the range).
     */
    @Test
    void matmulPreparedQ4IntegerSumExtremes() {
        assumeTrue(quantActivations() == QuantActivations.Q8_0, "the integer kernel runs on activations rounded to Q8_0");
        int n = 64, k = 256;
        float[] wv = new float[n * k];
        for (int i = 0; i < wv.length; i++) {
            int row = i / k;
            wv[i] = row % 2 == 0 ? 0.5f + row / 64f : (i % 32 == 0 ? 1f : -0.875f);
        }
        Tensor w = converted(Tensor.of(wv, n, k), DType.Q4_0);
        Tensor p = backend().prepareLinear(upload(w));
        track(p);
        float[] xv = new float[2 * k];
        for (int e = 0; e < k; e++) {
            xv[e] = 3f;
            xv[k + e] = -3f;
        }
        Tensor x = Tensor.of(xv, 2, k);
        Tensor want = Tensor.allocate(DType.F32, 2, n);
        reference.matmul(x, w, null, want);
        Tensor got = out(2, n);
        backend().matmul(upload(x), p, null, got);
        assertMatmulClose("prepared " + p.describe() + " matmul, activation quants of +-127 against quants of 0 and 15", x, w, want,
                read(got), 4e-5);
    }

    /**
     * {@link Backend#matmuls}: several weights against one input, as a decoder's q / k / v and gate /
     * up, against the reference (the candidate's own {@link Backend#matmul} of each weight need not
     * agree to the bit: the Vector API's lane reductions are ordered differently before and after C2
     * compiles a kernel, so two identical calls may differ in the last bits while the JIT warms up). Plain and prepared weights (K-tiled, interleaved), biases on none / some / all,
     * row counts that split into chunks across the weights' boundaries, outputs of one and of
     * several weights' worth of rows, 1-8 activation rows and 9 (the CPU backend's GEMM), a weight
     * of no rows, five weights (more than the CPU backend takes in one GEMV), no activation rows, a
     * strided output and x, and weights of two dtypes in one call.
     */
    @Test
    void matmulsShareOneInput() {
        int[][] cases = { // m, k, then each weight's rows
            {1, 64, 32, 32, 32}, {1, 256, 128, 32, 32}, {3, 96, 64, 96}, {1, 1024, 1024, 256, 256}, {2, 160, 7, 33, 1},
            {1, 4096, 96, 32, 64}, {4, 5632, 64, 64}, {8, 128, 64, 0, 32}, {9, 64, 32, 32, 64}, {1, 2048, 2048, 512, 512},
            {1, 96, 32, 64, 32, 96, 32}, {0, 64, 32, 32}};
        int seed = 900;
        for (DType wt : WEIGHTS) {
            for (int[] c : cases) {
                int[] ns = java.util.Arrays.copyOfRange(c, 2, c.length);
                DType[] types = new DType[ns.length];
                java.util.Arrays.fill(types, wt);
                checkMatmuls(types, c[0], c[1], ns, seed++, seed % 2 == 0, seed % 3, seed % 4 == 0);
            }
        }
        checkMatmuls(new DType[] {DType.F16, DType.Q4_0}, 1, 256, new int[] {64, 32}, seed++, true, 2, false);
        checkMatmuls(new DType[] {DType.Q8_0, DType.BF16, DType.Q8_0}, 2, 512, new int[] {32, 64, 96}, seed, true, 1, true);
    }

    /**
     * matmuls of an {@code [m, k]} input against weights {@code types[i]} of {@code ns[i]} rows (types
     * has at least ns.length entries), prepared or not; biases: 0 none, 1 on every other weight, 2 on
     * all; {@code strided}: x and the outputs are views into wider rows.
     */
    private void checkMatmuls(DType[] types, int m, int k, int[] ns, long seed, boolean prepare, int biases, boolean strided) {
        Random r = new Random(seed);
        int count = ns.length;
        Tensor xHost = random(r, m, k);
        Tensor x = strided ? upload(random(r, m, k + 8)).slice(1, 4, 4 + k) : upload(xHost);
        if (strided) {
            backend().copy(upload(xHost), x);
        }
        Tensor[] wHost = new Tensor[count], ws = new Tensor[count], bHost = new Tensor[count], bs = new Tensor[count];
        Tensor[] outs = new Tensor[count];
        for (int i = 0; i < count; i++) {
            wHost[i] = weight(r, types[i], ns[i], k);
            ws[i] = upload(wHost[i]);
            if (prepare) {
                Tensor p = backend().prepareLinear(ws[i]);
                if (p != ws[i]) {
                    track(p);
                }
                ws[i] = p;
            }
            if (biases == 2 || biases == 1 && i % 2 == 0) {
                bHost[i] = random(r, ns[i]);
                bs[i] = upload(bHost[i]);
            }
            outs[i] = strided ? out(m, ns[i] + 3).slice(1, 1, 1 + ns[i]) : out(m, ns[i]);
        }
        backend().matmuls(x, ws, biases == 0 ? null : bs, outs);
        for (int i = 0; i < count; i++) {
            String what = "matmuls " + i + " of " + count + ": " + ws[i].describe() + " M=" + m + " K=" + k + (prepare ? " prepared" : "")
                    + (bs[i] != null ? " bias" : "") + (strided ? " strided" : "");
            float[] got = read(outs[i]);
            Tensor want = Tensor.allocate(DType.F32, m, ns[i]);
            reference.matmul(xHost, wHost[i], bHost[i], want);
            assertMatmulClose(what, xHost, wHost[i], want, got, types[i] == DType.Q4_0 ? 4e-5 : 1e-5);
        }
    }

    /**
     * matmuls refuses, before it writes (the first weight is valid in each call): arrays of different
     * lengths, no weights, a null weight, a K that differs, an output or a bias of the wrong shape,
     * outputs that overlap each other or x.
     */
    @Test
    void matmulsBadArguments() {
        Random r = new Random(77);
        Tensor x = upload(random(r, 1, 64));
        Tensor w1 = upload(random(r, 32, 64)), w2 = upload(random(r, 16, 64)), wBadK = upload(random(r, 16, 48));
        Tensor o1 = out(1, 32), o2 = out(1, 16);
        Tensor both = out(1, 48);
        float[] before = read(o1);
        org.junit.jupiter.api.function.Executable[] bad = {
            () -> backend().matmuls(x, new Tensor[] {w1, w2}, null, new Tensor[] {o1}),
            () -> backend().matmuls(x, new Tensor[0], null, new Tensor[0]),
            () -> backend().matmuls(x, new Tensor[] {w1, null}, null, new Tensor[] {o1, o2}),
            () -> backend().matmuls(x, new Tensor[] {w1, w2}, new Tensor[] {null}, new Tensor[] {o1, o2}),
            () -> backend().matmuls(x, new Tensor[] {w1, wBadK}, null, new Tensor[] {o1, o2}),
            () -> backend().matmuls(x, new Tensor[] {w1, w2}, null, new Tensor[] {o1, o1.slice(1, 0, 16)}),
            () -> backend().matmuls(x, new Tensor[] {w1, w2}, null, new Tensor[] {both.slice(1, 0, 32), both.slice(1, 30, 46)}),
            () -> backend().matmuls(x, new Tensor[] {w1, w2}, null, new Tensor[] {o1, out(1, 17)}),
            () -> backend().matmuls(x, new Tensor[] {w1, w2}, new Tensor[] {null, upload(random(r, 15))}, new Tensor[] {o1, o2}),
            () -> backend().matmuls(x, new Tensor[] {w1, w2}, null, new Tensor[] {o1, x.slice(1, 0, 16)}),
        };
        for (org.junit.jupiter.api.function.Executable call : bad) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, call);
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("matmul"), e.getMessage());
        }
        assertExact("matmuls wrote nothing on bad arguments", before, read(o1));
    }

    @Test
    void matmulTransposedActivation() {
        Random r = new Random(7);
        Tensor xt = upload(random(r, 64, 6)); // [K, M] viewed as [M, K]
        Tensor x = xt.transpose(0, 1);
        Tensor w = upload(random(r, 10, 64));
        Tensor want = Tensor.allocate(DType.F32, 6, 10);
        reference.matmul(host(x), host(w), null, want);
        Tensor got = out(6, 10);
        backend().matmul(x, w, null, got);
        assertMatmulClose("matmul x transposed", host(x), host(w), want, read(got), 1e-5);
    }

    private void checkMatmul(DType wt, int m, int n, int k, long seed, boolean slicedX, boolean slicedOut, boolean withBias) {
        checkMatmul(wt, m, n, k, seed, slicedX, slicedOut, withBias, false);
    }

    /** With {@code prepare}, the weight goes through the backend's prepareLinear first (and a K-tiled one must untile to the same bytes). */
    private void checkMatmul(DType wt, int m, int n, int k, long seed, boolean slicedX, boolean slicedOut, boolean withBias,
                             boolean prepare) {
        Random r = new Random(seed);
        Tensor xFull = random(r, m, slicedX ? k + 32 : k);
        Tensor xHost = slicedX ? xFull.slice(1, 16, 16 + k) : xFull;
        Tensor wHost = weight(r, wt, n, k);
        Tensor bias = withBias ? random(r, n) : null;
        Tensor want = Tensor.allocate(DType.F32, m, n);
        reference.matmul(xHost, wHost, bias, want);

        Tensor x = slicedX ? upload(xFull).slice(1, 16, 16 + k) : upload(xHost);
        Tensor w = upload(wHost);
        if (prepare) {
            Tensor p = backend().prepareLinear(w);
            if (p != w) {
                track(p);
                if (TiledWeights.isTiled(p) || InterleavedQuant.isInterleaved(p.dtype())) {
                    try (Tensor plain = TiledWeights.plainCopy(host(p))) {
                        assertArrayEquals(bytes(wHost), bytes(plain), "prepared " + p.describe() + ": plain form");
                    }
                }
            }
            w = p;
        }
        Tensor b = bias == null ? null : upload(bias);
        Tensor got;
        Tensor outFull = null;
        if (slicedOut) {
            outFull = out(m, n + 5);
            got = outFull.slice(1, 2, 2 + n);
        } else {
            got = out(m, n);
        }
        backend().matmul(x, w, b, got);
        double rtol = wt == DType.Q4_0 ? 4e-5 : 1e-5;
        assertMatmulClose("matmul " + w.describe() + " M=" + m + " N=" + n + " K=" + k + (slicedX ? " x sliced" : "")
                + (slicedOut ? " out sliced" : ""), xHost, wHost, want, read(got), rtol);
    }

    /** |got - want| <= rtol * (|x|·|w|ᵀ + |bias|) + 1e-6, element by element. */
    private void assertMatmulClose(String what, Tensor x, Tensor w, Tensor want, float[] got, double rtol) {
        float[] atol = new float[(int) (x.dim(0) * w.dim(0))];
        java.util.Arrays.fill(atol, 1e-6f);
        assertMatmulClose(what, x, w, want, got, rtol, atol);
    }

    /** |got - want| <= rtol * (|x|·|w|ᵀ + |bias|) + atol, element by element. */
    private void assertMatmulClose(String what, Tensor x, Tensor w, Tensor want, float[] got, double rtol, float[] atol) {
        Tensor scale = Tensor.allocate(DType.F32, x.dim(0), w.dim(0));
        Tensor xa = abs(x);
        Tensor wa = abs(dequantized(w));
        reference.matmul(xa, wa, null, scale);
        assertClose(what, want.toFloatArray(), got, scale.toFloatArray(), rtol, atol);
    }

    // ================================================================== copy / conversion / embedding

    @Test
    void copyConversionsExact() {
        Random r = new Random(11);
        DType[] floats = {DType.F32, DType.F16, DType.BF16};
        long[][] shapes = {{1}, {7}, {3, 33}, {2, 5, 17}, {4, 1, 64}};
        for (DType from : floats) {
            for (DType to : floats) {
                for (long[] s : shapes) {
                    Tensor src = converted(random(r, s), from);
                    checkCopy(src, t -> t, to, from + "->" + to + " " + java.util.Arrays.toString(s));
                }
            }
        }
    }

    @Test
    void copyQuantisationExact() {
        Random r = new Random(12);
        long[][] shapes = {{32}, {3, 64}, {5, 96}, {2, 2, 4096}};
        for (DType q : new DType[] {DType.Q8_0, DType.Q4_0}) {
            for (long[] s : shapes) {
                Tensor src = random(r, s);
                // exact ties and zero blocks exercise the rounding and the d == 0 branch
                src.setFloat(0f, zeros(s.length));
                checkCopy(src, t -> t, q, "F32->" + q + " " + java.util.Arrays.toString(s));
                Tensor quant = Tensor.allocate(q, s);
                reference.copy(src, quant);
                checkCopy(quant, t -> t, DType.F32, q + "->F32 " + java.util.Arrays.toString(s));
            }
            Tensor zero = Tensor.allocate(DType.F32, 2, 64);
            checkCopy(zero, t -> t, q, "zero block " + q);
        }
    }

    @Test
    void copyPermutedAndStrided() {
        Random r = new Random(13);
        Tensor src = random(r, 3, 5, 7);
        for (DType to : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            checkCopy(src, t -> t.permute(2, 0, 1), to, "permute(2,0,1) -> " + to);
            checkCopy(src, t -> t.transpose(0, 1), to, "transpose -> " + to);
            checkCopy(src, t -> t.slice(2, 1, 6).slice(0, 1, 3), to, "slices -> " + to);
            checkCopy(src, t -> t.select(1, 2), to, "select -> " + to);
        }
        Tensor b16 = converted(random(r, 4, 6, 8), DType.BF16);
        checkCopy(b16, t -> t.permute(1, 0, 2), DType.F32, "bf16 permute -> F32");
        checkCopy(converted(random(r, 4, 6, 8), DType.F16), t -> t.transpose(1, 2), DType.F32, "f16 transpose -> F32");
        // into a strided destination (a KV-cache slot)
        Tensor cacheRef = Tensor.allocate(DType.BF16, 6, 2, 8);
        Tensor rows = random(r, 2, 2, 8);
        reference.copy(rows, cacheRef.slice(0, 3, 5));
        Tensor cache = upload(Tensor.allocate(DType.BF16, 6, 2, 8));
        backend().copy(upload(rows), cache.slice(0, 3, 5));
        assertExact("copy into cache slice", cacheRef.toFloatArray(), read(cache));
        // copyRows default / override
        Tensor cache2 = upload(Tensor.allocate(DType.F16, 6, 2, 8));
        Tensor cacheRef2 = Tensor.allocate(DType.F16, 6, 2, 8);
        reference.copyRows(rows, cacheRef2, 4);
        backend().copyRows(upload(rows), cache2, 4);
        assertExact("copyRows", cacheRef2.toFloatArray(), read(cache2));
        // a source view at an offset, same dtype and converting, and rows that do not fit
        Tensor src3 = random(r, 5, 2, 8);
        for (DType cacheType : new DType[] {DType.F32, DType.BF16}) {
            Tensor cache3 = upload(Tensor.allocate(cacheType, 6, 2, 8));
            Tensor cacheRef3 = Tensor.allocate(cacheType, 6, 2, 8);
            reference.copyRows(src3.slice(0, 2, 4), cacheRef3, 1);
            backend().copyRows(upload(src3).slice(0, 2, 4), cache3, 1);
            assertExact("copyRows from a view into " + cacheType, cacheRef3.toFloatArray(), read(cache3));
            Tensor tooMany = upload(src3);
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> backend().copyRows(tooMany, cache3, 2));
        }
    }

    private void checkCopy(Tensor base, UnaryOperator<Tensor> view, DType to, String what) {
        Tensor srcHost = view.apply(base);
        Tensor want = Tensor.allocate(to, srcHost.shape());
        reference.copy(srcHost, want);
        Tensor src = view.apply(upload(base));
        Tensor got = backend().toDevice(Tensor.allocate(to, srcHost.shape()));
        track(got);
        backend().copy(src, got);
        Tensor gotHost = backend().toHost(got);
        if (to.isQuantized()) {
            assertArrayEquals(bytes(want), bytes(gotHost), "copy " + what + ": quantised bytes differ");
        } else {
            assertExact("copy " + what, want.toFloatArray(), gotHost.toFloatArray());
        }
    }

    @Test
    void embeddingAllDtypes() {
        Random r = new Random(14);
        for (DType wt : WEIGHTS) {
            Tensor table = weight(r, wt, 11, 64);
            Tensor ids = Tensor.ofInts(new int[] {3, 0, 10, 3, 7});
            Tensor want = Tensor.allocate(DType.F32, 5, 64);
            reference.embedding(table, ids, want);
            Tensor got = out(5, 64);
            backend().embedding(upload(table), upload(ids), got);
            assertExact("embedding " + wt, want.toFloatArray(), read(got));
        }
        // views at an offset: table rows 2..12 of a larger table, ids from the second on, out rows 1..5
        for (DType wt : WEIGHTS) {
            Tensor big = weight(r, wt, 14, 64);
            Tensor table = big.slice(0, 2, 13);
            Tensor ids = Tensor.ofInts(new int[] {9, 3, 0, 10, 3, 7}).slice(0, 1, 6);
            Tensor want = Tensor.allocate(DType.F32, 5, 64);
            reference.embedding(table, ids, want);
            Tensor gotFull = out(7, 64);
            backend().embedding(upload(big).slice(0, 2, 13), upload(Tensor.ofInts(new int[] {9, 3, 0, 10, 3, 7})).slice(0, 1, 6),
                    gotFull.slice(0, 1, 6));
            float[] g = read(gotFull);
            assertExact("embedding " + wt + " views at an offset", want.toFloatArray(), java.util.Arrays.copyOfRange(g, 64, 6 * 64));
        }
    }

    // ================================================================== normalisation

    @Test
    void normsAndSoftmax() {
        Random r = new Random(21);
        long[][] shapes = {{1, 1}, {1, 7}, {3, 33}, {2, 4, 127}, {5, 2048}, {1, 4096}};
        for (long[] s : shapes) {
            long d = s[s.length - 1];
            Tensor x = random(r, s);
            Tensor w = random(r, d);
            Tensor b = random(r, d);
            for (float offset : new float[] {0f, 1f}) {
                Tensor want = Tensor.allocate(DType.F32, s);
                reference.rmsNorm(x, w, 1e-6f, offset, want);
                Tensor got = out(s);
                backend().rmsNorm(upload(x), upload(w), 1e-6f, offset, got);
                assertRel("rmsNorm offset " + offset + " " + java.util.Arrays.toString(s), want, read(got), 1e-5, 1e-6);
            }
            Tensor want = Tensor.allocate(DType.F32, s);
            reference.layerNorm(x, w, b, 1e-5f, want);
            Tensor got = out(s);
            backend().layerNorm(upload(x), upload(w), upload(b), 1e-5f, got);
            assertRel("layerNorm " + java.util.Arrays.toString(s), want, read(got), 1e-5, 1e-6);

            Tensor xs = scaled(x, 8f);
            want = Tensor.allocate(DType.F32, s);
            reference.softmax(xs, want);
            got = out(s);
            backend().softmax(upload(xs), got);
            assertRel("softmax " + java.util.Arrays.toString(s), want, read(got), 1e-5, 1e-6);
        }
    }

    @Test
    void normsInPlaceAndStrided() {
        Random r = new Random(22);
        Tensor x = random(r, 4, 40);
        Tensor w = random(r, 40);
        Tensor want = Tensor.allocate(DType.F32, 4, 40);
        reference.rmsNorm(x, w, 1e-5f, 0f, want);
        Tensor inPlace = upload(copyOf(x));
        backend().rmsNorm(inPlace, upload(w), 1e-5f, 0f, inPlace);
        assertRel("rmsNorm in place", want, read(inPlace), 1e-5, 1e-6);

        Tensor wide = random(r, 4, 56);
        Tensor view = wide.slice(1, 8, 48); // row stride 56
        want = Tensor.allocate(DType.F32, 4, 40);
        reference.softmax(view, want);
        Tensor got = out(4, 40);
        backend().softmax(upload(wide).slice(1, 8, 48), got);
        assertRel("softmax row-strided", want, read(got), 1e-5, 1e-6);

        Tensor tBase = random(r, 40, 4); // viewed column-strided: the reference path
        want = Tensor.allocate(DType.F32, 4, 40);
        reference.layerNorm(tBase.transpose(0, 1), w, w, 1e-5f, want);
        got = out(4, 40);
        backend().layerNorm(upload(tBase).transpose(0, 1), upload(w), upload(w), 1e-5f, got);
        assertRel("layerNorm transposed", want, read(got), 1e-5, 1e-6);
    }

    // ================================================================== attention and rope

    @Test
    void ropeShapes() {
        Random r = new Random(31);
        int[][] thd = {{1, 1, 2}, {1, 32, 128}, {5, 3, 64}, {7, 2, 18}, {3, 4, 80}};
        for (int[] s : thd) {
            Tensor x = random(r, s[0], s[1], s[2]);
            Tensor inv = Tensor.allocate(DType.F32, s[2] / 2);
            for (int i = 0; i < s[2] / 2; i++) {
                inv.setFloat((float) Math.pow(10000.0, -2.0 * i / s[2]), i);
            }
            for (int start : new int[] {0, 17, 4000}) {
                Tensor want = Tensor.allocate(DType.F32, s[0], s[1], s[2]);
                reference.rope(x, start, inv, want);
                Tensor got = out(s[0], s[1], s[2]);
                backend().rope(upload(x), start, upload(inv), got);
                assertRel("rope " + java.util.Arrays.toString(s) + " start " + start, want, read(got), 1e-6, 1e-6);
                Tensor inPlace = upload(copyOf(x));
                backend().rope(inPlace, start, upload(inv), inPlace);
                assertRel("rope in place", want, read(inPlace), 1e-6, 1e-6);
            }
        }
        // q view out of a fused qkv projection: [T, H, Dh] with a token stride larger than H*Dh
        Tensor qkv = random(r, 3, 3 * 4 * 16);
        Tensor q = qkv.reshape(3, 12, 16).slice(1, 0, 4);
        Tensor inv = random(r, 8);
        Tensor want = Tensor.allocate(DType.F32, 3, 4, 16);
        reference.rope(q, 5, inv, want);
        Tensor got = out(3, 4, 16);
        backend().rope(upload(qkv).reshape(3, 12, 16).slice(1, 0, 4), 5, upload(inv), got);
        assertRel("rope strided q", want, read(got), 1e-6, 1e-6);
    }

    @Test
    void attentionShapes() {
        // {T, Hq, Hkv, Dh, S, queryStart, causal}
        int[][] cases = {
                {1, 1, 1, 8, 1, 0, 1},
                {1, 4, 4, 64, 37, 36, 1},     // decode, MHA
                {1, 8, 2, 64, 100, 99, 1},    // decode, GQA
                {1, 6, 1, 32, 50, 20, 1},     // decode, MQA, cache longer than the visible keys
                {7, 4, 2, 24, 7, 0, 1},       // prefill
                {5, 2, 1, 17, 12, 7, 1},      // chunked prefill, odd head dim
                {9, 3, 3, 16, 11, 0, 0},      // non-causal (vision)
                {4, 2, 2, 128, 4, 0, 1},
                {40, 4, 2, 24, 45, 5, 1},     // chunked prefill over several query blocks, GQA
                {37, 2, 2, 20, 37, 0, 0},     // non-causal over several query blocks
                // head dims of whole 4-vector multiples: the CPU backend's two-rows-at-a-time path
                {33, 4, 2, 64, 40, 7, 1},     // chunked prefill, GQA: pairs within a group
                {19, 3, 3, 32, 19, 0, 1},     // causal MHA: pairs of consecutive tokens (n and n + 1 keys)
                {23, 6, 2, 32, 30, 7, 1},     // group of 3: pairs across tokens, an odd row left over
                {17, 2, 2, 96, 17, 0, 0},     // non-causal (vision)
                // one query token against 16+ keys: the CPU backend's split over keys (items of keys,
                // partial softmaxes merged); head dims with vector tails and below one vector
                {1, 4, 2, 64, 16, 15, 1},     // the fewest keys it takes: one item
                {1, 4, 2, 64, 20, 14, 1},     // one key fewer: the split by heads
                {1, 16, 4, 128, 640, 639, 1}, // TinyLlama decode at 640 tokens
                {1, 8, 2, 64, 300, 200, 1},   // cache longer than the visible keys
                {1, 4, 4, 80, 129, 128, 1},
                {1, 6, 1, 24, 200, 0, 0},     // non-causal, MQA
                {1, 2, 2, 7, 150, 149, 1},
                {1, 10, 2, 48, 160, 159, 1},  // groups of 5: four heads per widened row, then one
                {1, 3, 1, 40, 140, 139, 1},   // group of 3, two vectors and a scalar tail
                {1, 5, 5, 40, 90, 89, 1},     // MHA: heads in pairs, then one; a vector and a scalar tail
                {1, 32, 32, 128, 200, 199, 1}, // Vicuna-7B's heads
        };
        Random r = new Random(41);
        for (int[] c : cases) {
            for (DType kv : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                Tensor q = random(r, c[0], c[1], c[3]);
                Tensor k = converted(random(r, c[4], c[2], c[3]), kv);
                Tensor v = converted(random(r, c[4], c[2], c[3]), kv);
                float scale = (float) (1 / Math.sqrt(c[3]));
                Tensor want = Tensor.allocate(DType.F32, c[0], c[1], c[3]);
                reference.attention(q, k, v, scale, c[6] == 1, c[5], want);
                Tensor got = out(c[0], c[1], c[3]);
                backend().attention(upload(q), upload(k), upload(v), scale, c[6] == 1, c[5], got);
                assertRel("attention " + kv + " " + java.util.Arrays.toString(c), want, read(got), 1e-5, 1e-6);
            }
        }
    }

    @Test
    void attentionDecodeOnTinyF16Values() {
        // F16 subnormals (|x| < 6.1e-5) in the cache: the vectorised widening must keep them exact,
        // with queries below 2^15 (the CPU backend widens F16 rows unscaled and scales the query by
        // 2^112) and with larger ones (its exact path)
        Random r = new Random(44);
        for (float qScale : new float[] {3e3f, 3e4f})
        for (DType kv : new DType[] {DType.F16, DType.BF16}) {
            Tensor q = scaled(random(r, 1, 4, 64), qScale);
            float qMax = 0f;
            for (float x : q.toFloatArray()) {
                qMax = Math.max(qMax, Math.abs(x));
            }
            assertEquals(qScale > 1e4f, qMax >= 0x1p15f, "the query scale " + qScale + " picks the path it is meant to (max |q| " + qMax + ")");
            Tensor k = converted(scaled(random(r, 200, 2, 64), 2e-5f), kv);
            Tensor v = converted(scaled(random(r, 200, 2, 64), 2e-5f), kv);
            Tensor want = Tensor.allocate(DType.F32, 1, 4, 64);
            reference.attention(q, k, v, 0.125f, true, 199, want);
            Tensor got = out(1, 4, 64);
            backend().attention(upload(q), upload(k), upload(v), 0.125f, true, 199, got);
            assertRel("attention decode on tiny " + kv + " values", want, read(got), 1e-5, 1e-12);
        }
        // a NaN value in an F16 row (exponent 31: widened one by one) gives NaN in that dimension only
        Tensor q = random(r, 1, 4, 64);
        Tensor k = converted(random(r, 200, 2, 64), DType.F16);
        Tensor vf = random(r, 200, 2, 64);
        vf.setFloat(Float.NaN, 150, 1, 5);
        Tensor v = converted(vf, DType.F16);
        Tensor want = Tensor.allocate(DType.F32, 1, 4, 64);
        reference.attention(q, k, v, 0.125f, true, 199, want);
        assertEquals(true, Float.isNaN(want.getFloat(0, 3, 5)) && !Float.isNaN(want.getFloat(0, 3, 6)), "the reference's NaN");
        Tensor got = out(1, 4, 64);
        backend().attention(upload(q), upload(k), upload(v), 0.125f, true, 199, got);
        assertRel("attention decode with a NaN in an F16 value row", want, read(got), 1e-5, 1e-6);
        // an Inf / NaN in an F16 key row of kv head 0: query heads 0-1 NaN, 2-3 finite
        attentionDecodeWithSpecialKey(r, 4, 2, 0);
    }

    /**
     * MHA decode with an Inf / NaN in the second head of a pair (the CPU backend scores two heads of
     * a row per pass): that head's output is NaN, the others finite, as in the reference.
     */
    @Test
    void attentionDecodeMhaWithSpecialKeys() {
        attentionDecodeWithSpecialKey(new Random(44), 3, 3, 1);
    }

    /**
     * Decode over 200 F16 keys (hq query heads, hkv kv heads of 64) with +Inf, then NaN, in one element
     * of key row 120's, then 121's, kv head {@code specialHead}, met by a positive query element: that
     * key's score is +Inf / NaN, so the query heads of that kv head come out NaN and the others finite,
     * as in the reference. (Two neighbouring rows: the CPU backend scores GQA keys two rows at a time,
     * and one of the two is the second of its pair whichever key its work item starts at.)
     */
    private void attentionDecodeWithSpecialKey(Random r, int hq, int hkv, int specialHead) {
        int group = hq / hkv;
        for (int row : new int[] {120, 121})
        for (float special : new float[] {Float.POSITIVE_INFINITY, Float.NaN}) {
            Tensor q = random(r, 1, hq, 64);
            for (int h = 0; h < hq; h++) {
                q.setFloat(1f, 0, h, 9);
            }
            Tensor kf = random(r, 200, hkv, 64);
            kf.setFloat(special, row, specialHead, 9);
            Tensor k = converted(kf, DType.F16);
            Tensor v = converted(random(r, 200, hkv, 64), DType.F16);
            Tensor want = Tensor.allocate(DType.F32, 1, hq, 64);
            reference.attention(q, k, v, 0.125f, true, 199, want);
            for (int h = 0; h < hq; h++) {
                assertEquals(h / group == specialHead, Float.isNaN(want.getFloat(0, h, 0)), "the reference's NaN heads: head " + h);
            }
            Tensor got = out(1, hq, 64);
            backend().attention(upload(q), upload(k), upload(v), 0.125f, true, 199, got);
            assertRel(hq + "/" + hkv + "-head attention decode with " + special + " in F16 key row " + row, want, read(got), 1e-5, 1e-6);
        }
    }

    @Test
    void attentionOnCacheViews() {
        Random r = new Random(42);
        // KV cache [maxLen, Hkv, Dh] sliced to the filled length; q from a fused projection
        Tensor kc = converted(random(r, 40, 2, 32), DType.BF16);
        Tensor vc = converted(random(r, 40, 2, 32), DType.BF16);
        Tensor qkv = random(r, 3, 6 * 32);
        Tensor q = qkv.reshape(3, 6, 32).slice(1, 0, 4);
        Tensor want = Tensor.allocate(DType.F32, 3, 4, 32);
        reference.attention(q, kc.slice(0, 0, 25), vc.slice(0, 0, 25), 0.2f, true, 22, want);
        Tensor got = out(3, 4, 32);
        backend().attention(upload(qkv).reshape(3, 6, 32).slice(1, 0, 4), upload(kc).slice(0, 0, 25),
                upload(vc).slice(0, 0, 25), 0.2f, true, 22, got);
        assertRel("attention on cache views", want, read(got), 1e-5, 1e-6);
    }

    @Test
    void windowAttentionMatches() {
        Random r = new Random(43);
        // {Hm, Wm, D, window}
        int[][] cases = {{8, 12, 24, 2}, {4, 4, 7, 4}, {6, 9, 33, 3}, {16, 16, 64, 4}, {3, 3, 1, 1}};
        for (int[] c : cases) {
            Tensor map = random(r, c[0], c[1], c[2]);
            int t = c[0] / c[3] * (c[1] / c[3]);
            Tensor q = scaled(random(r, t, c[2]), 0.5f);
            Tensor want = Tensor.allocate(DType.F32, t, c[2]);
            reference.windowAttention(q, map, c[3], 0.3f, want);
            Tensor got = out(t, c[2]);
            backend().windowAttention(upload(q), upload(map), c[3], 0.3f, got);
            assertRel("windowAttention " + java.util.Arrays.toString(c), want, read(got), 1e-5, 1e-6);
        }
        // a quadrant of a larger map (row stride) and a channels-last view of an NCHW map (fallback)
        Tensor big = random(r, 8, 16, 12);
        Tensor q = random(r, 16, 12);
        Tensor want = Tensor.allocate(DType.F32, 16, 12);
        reference.windowAttention(q, big.slice(1, 8, 16), 2, 0.5f, want);
        Tensor got = out(16, 12);
        backend().windowAttention(upload(q), upload(big).slice(1, 8, 16), 2, 0.5f, got);
        assertRel("windowAttention on a quadrant view", want, read(got), 1e-5, 1e-6);
        Tensor nchw = random(r, 12, 8, 8);
        want = Tensor.allocate(DType.F32, 16, 12);
        Tensor q2 = random(r, 16, 12);
        reference.windowAttention(q2, nchw.permute(1, 2, 0), 2, 0.5f, want);
        got = out(16, 12);
        backend().windowAttention(upload(q2), upload(nchw).permute(1, 2, 0), 2, 0.5f, got);
        assertRel("windowAttention on a permuted map", want, read(got), 1e-5, 1e-6);
    }

    // ================================================================== pointwise

    @Test
    void activations() {
        Random r = new Random(51);
        long[][] shapes = {{1}, {7}, {3, 33}, {2, 1000}};
        for (Activation act : Activation.values()) {
            for (long[] s : shapes) {
                Tensor x = scaled(random(r, s), 4f);
                Tensor want = Tensor.allocate(DType.F32, s);
                reference.activation(act, x, want);
                Tensor got = out(s);
                backend().activation(act, upload(x), got);
                assertActivation(act + " " + java.util.Arrays.toString(s), x, want, read(got));

                Tensor up = random(r, s);
                want = Tensor.allocate(DType.F32, s);
                reference.gatedActivation(act, x, up, want);
                Tensor gate = upload(copyOf(x));
                backend().gatedActivation(act, gate, upload(up), gate); // in place into gate
                assertActivation("gated " + act + " " + java.util.Arrays.toString(s), x, want, read(gate));
            }
            // tails and extremes: large |x|, tiny |x|, zero, infinities
            float[] special = {0f, -0f, 1e-30f, -1e-30f, 1e-6f, -1e-6f, 30f, -30f, 90f, -90f, 200f, -200f,
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3.4e38f, -3.4e38f, 0.5f, -0.5f, 5f};
            Tensor x = Tensor.of(special);
            Tensor want = Tensor.allocate(DType.F32, special.length);
            reference.activation(act, x, want);
            Tensor got = out(special.length);
            backend().activation(act, upload(x), got);
            assertActivation(act + " special values", x, want, read(got));
        }
        // strided input goes through the fallback
        Tensor tBase = random(r, 9, 5);
        Tensor t = tBase.transpose(0, 1);
        Tensor want = Tensor.allocate(DType.F32, 5, 9);
        reference.activation(Activation.SILU, t, want);
        Tensor got = out(5, 9);
        backend().activation(Activation.SILU, upload(tBase).transpose(0, 1), got);
        assertActivation("silu transposed", t, want, read(got));
    }

    private void assertActivation(String what, Tensor x, Tensor want, float[] got) {
        float[] xs = x.toFloatArray();
        float[] w = want.toFloatArray();
        float[] scale = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            scale[i] = Math.abs(w[i]);
        }
        float[] atol = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            atol[i] = (float) (1e-7 * Math.max(1, Math.abs(xs[i % xs.length])));
        }
        assertClose(what, w, got, scale, 2e-6, atol);
    }

    @Test
    void addMulScaleBroadcast() {
        Random r = new Random(61);
        long[][][] pairs = {
                {{7}, {7}}, {{3, 33}, {3, 33}}, {{3, 33}, {33}}, {{2, 5, 17}, {17}}, {{2, 5, 17}, {1, 1, 17}},
                {{4, 9}, {1}}, {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {2, 1, 4}}, {{1, 1}, {1}}, {{6, 1000}, {1000}},
        };
        for (long[][] p : pairs) {
            Tensor a = random(r, p[0]);
            Tensor b = random(r, p[1]);
            for (boolean add : new boolean[] {true, false}) {
                Tensor want = Tensor.allocate(DType.F32, p[0]);
                Tensor got = out(p[0]);
                if (add) {
                    reference.add(a, b, want);
                    backend().add(upload(a), upload(b), got);
                } else {
                    reference.mul(a, b, want);
                    backend().mul(upload(a), upload(b), got);
                }
                assertExact((add ? "add " : "mul ") + java.util.Arrays.toString(p[0]) + " with "
                        + java.util.Arrays.toString(p[1]), want.toFloatArray(), read(got));
                Tensor inPlace = upload(copyOf(a));
                if (add) {
                    backend().add(inPlace, upload(b), inPlace);
                } else {
                    backend().mul(inPlace, upload(b), inPlace);
                }
                assertExact("in place " + (add ? "add" : "mul"), want.toFloatArray(), read(inPlace));
            }
            Tensor want = Tensor.allocate(DType.F32, p[0]);
            reference.scale(a, -0.37f, want);
            Tensor got = out(p[0]);
            backend().scale(upload(a), -0.37f, got);
            assertExact("scale", want.toFloatArray(), read(got));
        }
        Tensor aBase = random(r, 6, 4);
        Tensor b = random(r, 6);
        Tensor want = Tensor.allocate(DType.F32, 4, 6);
        reference.add(aBase.transpose(0, 1), b, want);
        Tensor got = out(4, 6);
        backend().add(upload(aBase).transpose(0, 1), upload(b), got);
        assertExact("add transposed a", want.toFloatArray(), read(got));
    }

    // ================================================================== convolution and resampling

    @Test
    void conv2dShapes() {
        // {N, H, W, C, O, k, stride, pad}
        int[][] cases = {
                {1, 5, 5, 3, 4, 3, 1, 1},
                {2, 9, 7, 5, 6, 3, 2, 1},
                {1, 28, 28, 3, 16, 14, 14, 0},  // CLIP patch embed, small
                {1, 16, 16, 3, 8, 4, 4, 0},     // ConvNeXt stem
                {1, 8, 8, 12, 10, 2, 2, 0},     // downsample
                {1, 4, 6, 7, 9, 1, 1, 0},       // pointwise
                {1, 40, 40, 2, 3, 3, 1, 1},     // more pixels than one im2col slab
        };
        Random r = new Random(71);
        for (int[] c : cases) {
            for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                Tensor x = random(r, c[0], c[1], c[2], c[3]);
                Tensor w = weight(r, wt, c[4], c[3], c[5], c[5]);
                Tensor b = random(r, c[4]);
                int ho = (c[1] + 2 * c[7] - c[5]) / c[6] + 1;
                int wo = (c[2] + 2 * c[7] - c[5]) / c[6] + 1;
                Tensor want = Tensor.allocate(DType.F32, c[0], ho, wo, c[4]);
                reference.conv2d(x, w, b, c[6], c[7], want);
                Tensor got = out(c[0], ho, wo, c[4]);
                backend().conv2d(upload(x), upload(w), upload(b), c[6], c[7], got);
                Tensor scale = Tensor.allocate(DType.F32, c[0], ho, wo, c[4]);
                reference.conv2d(abs(x), abs(w), abs(b), c[6], c[7], scale);
                assertClose("conv2d " + wt + " " + java.util.Arrays.toString(c), want.toFloatArray(), read(got),
                        scale.toFloatArray(), 1e-5, 1e-6);
            }
        }
        // NCHW image viewed channels-last
        Tensor nchw = random(r, 1, 3, 8, 8);
        Tensor x = nchw.permute(0, 2, 3, 1);
        Tensor w = random(r, 4, 3, 2, 2);
        Tensor want = Tensor.allocate(DType.F32, 1, 4, 4, 4);
        reference.conv2d(x, w, null, 2, 0, want);
        Tensor got = out(1, 4, 4, 4);
        backend().conv2d(upload(nchw).permute(0, 2, 3, 1), upload(w), null, 2, 0, got);
        Tensor scale = Tensor.allocate(DType.F32, 1, 4, 4, 4);
        reference.conv2d(abs(x), abs(w), null, 2, 0, scale);
        assertClose("conv2d permuted input", want.toFloatArray(), read(got), scale.toFloatArray(), 1e-5, 1e-6);
    }

    @Test
    void depthwiseConv() {
        // {N, H, W, C, k, pad}
        // (the 9x23 case has interior pixels in blocks of four and a remainder on the CPU)
        int[][] cases = {{1, 7, 7, 8, 7, 3}, {2, 9, 5, 13, 7, 3}, {1, 4, 4, 1, 3, 1}, {1, 12, 10, 37, 7, 3}, {1, 6, 6, 5, 3, 0},
                {1, 9, 23, 24, 7, 3}};
        Random r = new Random(81);
        for (int[] c : cases) {
            Tensor x = random(r, c[0], c[1], c[2], c[3]);
            // BF16 weights (as ConvNeXt checkpoints store them) in one case: the reference reads the same values
            Tensor w = c[2] == 23 ? converted(random(r, c[3], 1, c[4], c[4]), DType.BF16) : random(r, c[3], 1, c[4], c[4]);
            Tensor b = random(r, c[3]);
            int ho = c[1] + 2 * c[5] - c[4] + 1;
            int wo = c[2] + 2 * c[5] - c[4] + 1;
            for (Tensor bias : new Tensor[] {b, null}) {
                Tensor want = Tensor.allocate(DType.F32, c[0], ho, wo, c[3]);
                reference.depthwiseConv2d(x, w, bias, c[5], want);
                Tensor got = out(c[0], ho, wo, c[3]);
                backend().depthwiseConv2d(upload(x), upload(w), bias == null ? null : upload(bias), c[5], got);
                Tensor scale = Tensor.allocate(DType.F32, c[0], ho, wo, c[3]);
                reference.depthwiseConv2d(abs(x), abs(w), bias == null ? null : abs(bias), c[5], scale);
                assertClose("depthwise " + java.util.Arrays.toString(c), want.toFloatArray(), read(got),
                        scale.toFloatArray(), 1e-5, 1e-6);
            }
        }
    }

    @Test
    void resizeBilinear() {
        // {N, H, W, C, Ho, Wo}
        int[][] cases = {{1, 5, 5, 3, 9, 9}, {1, 48, 21, 1, 21, 48}, {2, 7, 3, 17, 4, 11}, {1, 24, 24, 8, 336 / 14, 7},
                {1, 1, 1, 2, 3, 3}, {3, 10, 12, 1, 10, 12}};
        Random r = new Random(91);
        for (int[] c : cases) {
            Tensor x = random(r, c[0], c[1], c[2], c[3]);
            Tensor want = Tensor.allocate(DType.F32, c[0], c[4], c[5], c[3]);
            reference.resizeBilinear(x, want);
            Tensor got = out(c[0], c[4], c[5], c[3]);
            backend().resizeBilinear(upload(x), got);
            assertRel("resize " + java.util.Arrays.toString(c), want, read(got), 1e-6, 1e-6);
        }
        // NCHW viewed as [N*C, H, W, 1]
        Tensor img = random(r, 3, 16, 16);
        Tensor x = img.reshape(3, 16, 16, 1);
        Tensor want = Tensor.allocate(DType.F32, 3, 7, 7, 1);
        reference.resizeBilinear(x, want);
        Tensor got = out(3, 7, 7, 1);
        backend().resizeBilinear(upload(x), got);
        assertRel("resize NCHW planes", want, read(got), 1e-6, 1e-6);
        // into a channel slice of a wider map (ConvNeXt's stacked stages): the map's other channels untouched
        for (int[] c : new int[][] {{1, 6, 5, 17, 12, 9}, {2, 4, 4, 8, 7, 3}, {1, 3, 3, 40, 5, 5}}) {
            Tensor xs = random(r, c[0], c[1], c[2], c[3]);
            Tensor expect = Tensor.allocate(DType.F32, c[0], c[4], c[5], c[3]);
            reference.resizeBilinear(xs, expect);
            int before = 5, wide = before + c[3] + 3;
            float[] sentinel = new float[c[0] * c[4] * c[5] * wide];
            java.util.Arrays.fill(sentinel, 7.25f);
            Tensor map = upload(Tensor.of(sentinel, c[0], c[4], c[5], wide));
            backend().resizeBilinear(upload(xs), map.slice(3, before, before + c[3]));
            float[] all = read(map);
            float[] slice = new float[(int) expect.numel()];
            for (int p = 0, i = 0; p < c[0] * c[4] * c[5]; p++) {
                for (int ch = 0; ch < wide; ch++) {
                    float v = all[p * wide + ch];
                    if (ch >= before && ch < before + c[3]) {
                        slice[i++] = v;
                    } else {
                        assertEquals(7.25f, v, "resize into a slice " + java.util.Arrays.toString(c) + ": pixel " + p + " channel " + ch
                                + " outside the slice was written");
                    }
                }
            }
            assertRel("resize into a channel slice " + java.util.Arrays.toString(c), expect, slice, 1e-6, 1e-6);
        }
    }

    // ================================================================== selection

    @Test
    void topKAndArgmax() {
        Random r = new Random(101);
        int[][] mn = {{1, 1}, {1, 8}, {3, 8}, {2, 1000}, {1, 32000}, {5, 17}};
        for (int[] s : mn) {
            Tensor x = random(r, s[0], s[1]);
            if (s[1] >= 8) { // ties: equal values must come out lower index first
                x.setFloat(x.getFloat(0, 1), 0, s[1] - 1);
            }
            Tensor want = Tensor.allocate(DType.I32, s[0]);
            reference.argmax(x, want);
            Tensor got = backend().toDevice(Tensor.allocate(DType.I32, s[0]));
            track(got);
            backend().argmax(upload(x), got);
            assertArrayEquals(want.toIntArray(), backend().toHost(got).toIntArray(), "argmax " + java.util.Arrays.toString(s));
            for (int k : new int[] {1, 2, Math.min(s[1], 5), s[1] == 1000 ? 50 : 1}) {
                if (k > s[1]) {
                    continue;
                }
                Tensor wv = Tensor.allocate(DType.F32, s[0], k);
                Tensor wi = Tensor.allocate(DType.I32, s[0], k);
                reference.topK(x, k, wv, wi);
                Tensor gv = out(s[0], k);
                Tensor gi = backend().toDevice(Tensor.allocate(DType.I32, s[0], k));
                track(gi);
                backend().topK(upload(x), k, gv, gi);
                assertExact("topK values k=" + k + " " + java.util.Arrays.toString(s), wv.toFloatArray(), read(gv));
                assertArrayEquals(wi.toIntArray(), backend().toHost(gi).toIntArray(), "topK indices k=" + k);
            }
        }
        // MoE router shape: 8 experts, top-2, many tokens
        Tensor logits = random(r, 33, 8);
        Tensor wv = Tensor.allocate(DType.F32, 33, 2);
        Tensor wi = Tensor.allocate(DType.I32, 33, 2);
        reference.topK(logits, 2, wv, wi);
        Tensor gv = out(33, 2);
        Tensor gi = backend().toDevice(Tensor.allocate(DType.I32, 33, 2));
        track(gi);
        backend().topK(upload(logits), 2, gv, gi);
        assertArrayEquals(wi.toIntArray(), backend().toHost(gi).toIntArray(), "router top-2");
    }

    // ================================================================== bad input

    @Test
    void badInputsNameTheOp() {
        Tensor x = upload(Tensor.allocate(DType.F32, 2, 8));
        Tensor w = upload(Tensor.allocate(DType.F32, 3, 9));
        expectMessage(IllegalArgumentException.class, "matmul", () -> backend().matmul(x, w, null, out(2, 3)));
        expectMessage(IllegalArgumentException.class, "matmul", () -> backend().matmul(x, upload(Tensor.allocate(DType.F32, 3, 8)), null, out(2, 4)));
        expectMessage(IllegalArgumentException.class, "matmul", () -> backend().matmul(upload(Tensor.allocate(DType.I32, 2, 8)),
                upload(Tensor.allocate(DType.F32, 3, 8)), null, out(2, 3)));
        expectMessage(IllegalArgumentException.class, "add", () -> backend().add(x, upload(Tensor.allocate(DType.F32, 3)), out(2, 8)));
        expectMessage(IllegalArgumentException.class, "rmsNorm", () -> backend().rmsNorm(x, upload(Tensor.allocate(DType.F32, 7)), 1e-5f, 0f, out(2, 8)));
        expectMessage(IllegalArgumentException.class, "softmax", () -> backend().softmax(x, out(2, 9)));
        expectMessage(IllegalArgumentException.class, "attention", () -> backend().attention(upload(Tensor.allocate(DType.F32, 1, 3, 8)),
                upload(Tensor.allocate(DType.F32, 4, 2, 8)), upload(Tensor.allocate(DType.F32, 4, 2, 8)), 1f, true, 3, out(1, 3, 8)));
        expectMessage(IllegalArgumentException.class, "embedding", () -> backend().embedding(upload(Tensor.allocate(DType.F32, 4, 8)),
                upload(Tensor.ofInts(new int[] {1, 4})), out(2, 8)));
        expectMessage(IllegalArgumentException.class, "topK", () -> backend().topK(x, 9, out(2, 9),
                track(backend().toDevice(Tensor.allocate(DType.I32, 2, 9)))));
        expectMessage(IllegalArgumentException.class, "copy", () -> backend().copy(x, out(8, 2)));
        Tensor closed = upload(Tensor.allocate(DType.F32, 2, 8));
        Tensor closedOwner = closed;
        closedOwner.close();
        expectMessage(IllegalStateException.class, "scale", () -> backend().scale(closed, 2f, out(2, 8)));
        expectMessage(IllegalStateException.class, "matmul", () -> backend().matmul(closed, upload(Tensor.allocate(DType.F32, 3, 8)), null, out(2, 3)));
    }

    private static void expectMessage(Class<? extends RuntimeException> type, String op, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            if (!type.isInstance(e)) {
                fail(op + ": expected " + type.getSimpleName() + " but got " + e);
            }
            if (e.getMessage() == null || !e.getMessage().startsWith(op + ":")) {
                fail(op + ": message should start with the op name: " + e.getMessage());
            }
            return;
        }
        fail(op + ": bad input was accepted");
    }

    // ================================================================== helpers

    private Tensor track(Tensor t) {
        owned.add(t);
        return t;
    }

    /** The candidate's copy of a contiguous host tensor. */
    protected final Tensor upload(Tensor host) {
        Tensor d = backend().toDevice(host);
        if (d != host) {
            track(d);
        }
        return d;
    }

    private Tensor out(long... shape) {
        return track(backend().toDevice(Tensor.allocate(DType.F32, shape)));
    }

    private float[] read(Tensor t) {
        return backend().toHost(t).toFloatArray();
    }

    /** A host view of a candidate tensor for the reference (a copy on device backends). */
    private Tensor host(Tensor t) {
        return backend().toHost(t);
    }

    static Tensor random(Random r, long... shape) {
        float[] v = new float[(int) Tensor.product(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, shape);
    }

    private static Tensor converted(Tensor f32, DType to) {
        if (to == DType.F32) {
            return f32;
        }
        Tensor t = Tensor.allocate(to, f32.shape());
        new ReferenceBackend().copy(f32, t);
        return t;
    }

    /** A weight tensor of dtype {@code wt} from Gaussian values (quantised types via the GGML quantisers). */
    private static Tensor weight(Random r, DType wt, long... shape) {
        return converted(random(r, shape), wt);
    }

    private static Tensor dequantized(Tensor w) {
        Tensor t = Tensor.allocate(DType.F32, w.shape());
        new ReferenceBackend().copy(w, t);
        return t;
    }

    private static Tensor abs(Tensor t) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]);
        }
        return Tensor.of(v, t.shape());
    }

    private static Tensor scaled(Tensor t, float s) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= s;
        }
        return Tensor.of(v, t.shape());
    }

    private static Tensor copyOf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    private static long[] zeros(int n) {
        return new long[n];
    }

    private static byte[] bytes(Tensor t) {
        return t.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    private static void assertExact(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", expected exactly " + want[i]);
            }
        }
    }

    private static void assertRel(String what, Tensor want, float[] got, double rtol, double atol) {
        float[] w = want.toFloatArray();
        float[] scale = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            scale[i] = Math.abs(w[i]);
        }
        assertClose(what, w, got, scale, rtol, atol);
    }

    private static void assertClose(String what, float[] want, float[] got, float[] scale, double rtol, double atol) {
        float[] a = new float[want.length];
        java.util.Arrays.fill(a, (float) atol);
        assertClose(what, want, got, scale, rtol, a);
    }

    /** |got - want| <= atol[i] + rtol * scale[i]; NaN / Inf must match exactly. Reports the worst element. */
    private static void assertClose(String what, float[] want, float[] got, float[] scale, double rtol, float[] atol) {
        assertEquals(want.length, got.length, what + ": length");
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(want[i]) || Float.isInfinite(want[i]) || Float.isNaN(got[i]) || Float.isInfinite(got[i])) {
                if (Float.compare(want[i], got[i]) != 0) {
                    fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
                }
                continue;
            }
            double tol = atol[i] + rtol * scale[i];
            double ratio = Math.abs((double) got[i] - want[i]) / tol;
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worst = i;
            }
        }
        if (worstRatio > 1) {
            fail(String.format("%s: element %d is %.9g, expected %.9g (|diff| %.3g > tolerance %.3g)", what, worst,
                    got[worst], want[worst], Math.abs(got[worst] - want[worst]), atol[worst] + rtol * scale[worst]));
        }
    }
}
