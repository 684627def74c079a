package mgm.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.Activation;

/**
 * Vectorised activations and exp, written as whole-vector loops over float arrays:
 * <ul>
 *   <li>exp: n = round(x log2 e) by adding 1.5 * 2^23 (no float/int conversions: Java's saturating
 *       F2I costs a compare-and-branch per vector on AVX2, and Java's max/min five instructions
 *       each, so the clamp is a compare and a blend), Cody-Waite range reduction, the Cephes
 *       degree-6 polynomial, 2^n built in the exponent field; relative error 8.6e-8 measured on
 *       [-87, 0] against {@link Math#exp}; below -87.3 it returns exactly 0, above 88.7 +Inf, NaN
 *       propagates.</li>
 *   <li>GELU (erf): {@code 0.5 x erfc(-x/√2)} with erfc evaluated on |x|/√2 by the Numerical Recipes
 *       Chebyshev form (relative error 1.2e-7 for every x >= 0), so the negative tail stays accurate
 *       in relative terms.</li>
 *   <li>SiLU, quick-GELU and tanh-GELU as {@code x / (1 + exp(-a x))} (tanh-GELU: {@code a x} replaced by
 *       {@code 2u}), which avoids the cancellation of {@code 1 + tanh(u)} near -1.</li>
 * </ul>
 * Polynomials are evaluated by Estrin's scheme: one vector's chain of dependent operations is what
 * bounds these loops (the out-of-order window holds about three vectors' worth), and Estrin cuts
 * the erfc polynomial from nine dependent steps to four (GELU-erf 3.2 -> 2.4 ns per element).
 * Measured over 2M points on [-30, 30] against the double-precision {@code Numerics} forms:
 * |error| ≤ 1.3e-7 · max(1, |x|) for all four; relative error ≤ 2.3e-7 for SiLU and ≤ 2.7e-6 for
 * quick-GELU (far tail, where rounding {@code -1.702 x} to float dominates). For GELU below x ≈ -5
 * the double reference itself has only absolute accuracy (it adds 1 to an erf/tanh near -1).
 */
final class VecMath {
    private VecMath() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float EXP_HI = 88.7f;
    private static final float EXP_LO = -87.3f;
    // Cephes expf polynomial for e^r on [-ln2/2, ln2/2].
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    private static final float SQRT1_2 = 0.70710678118654752f;
    private static final float GELU_TANH_C = 0.7978845608028654f; // sqrt(2/pi)






    /**
     * {@code a[i] = act(a[i])} for i &lt; n. The array must have room for {@link #padded}(n) floats:
     * the loop runs over whole vectors (lanes past n are computed and ignored), so there is no
     * masked tail. The exp is written out inside each loop rather than called: C2 does not always
     * inline a callee at a call site it considers lukewarm, and a vector passed to or returned from
     * a call that is not inlined is boxed on the heap (measured: kilobytes per op).
     */
    static void activate(Activation act, float[] a, int n) {
        switch (act) {
            case SILU -> sigmoidLoop(a, n, 1f);
            case QUICK_GELU -> sigmoidLoop(a, n, 1.702f);
            case GELU_ERF -> geluErfLoop(a, n);
            case GELU_TANH -> geluTanhLoop(a, n);
        }
    }

    /** x / (1 + exp(-k x)). */
    private static void sigmoidLoop(float[] a, int n, float k) {
        for (int i = 0; i < n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector u = x.mul(-k);
            VectorMask<Float> eLo = u.compare(VectorOperators.LT, EXP_LO);
            VectorMask<Float> eHi = u.compare(VectorOperators.GT, EXP_HI);
            FloatVector eC = u.blend(EXP_LO, eLo).blend(EXP_HI, eHi);
            FloatVector eT = eC.fma(LOG2E_V, ROUND_V);
            FloatVector eF = eT.sub(ROUND_V);
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eR2 = eR.mul(eR);
            FloatVector eQ = eR.fma(P0V, P1V).fma(eR2.mul(eR2), eR.fma(P2V, P3V).fma(eR2, eR.fma(P4V, P5V)));
            FloatVector eP = eQ.fma(eR2, eR).add(1f);
            FloatVector e = eP.mul(EXP_BIAS_V.add(eT.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, eHi).blend(0f, eLo);
            x.div(e.add(1f)).intoArray(a, i);
        }
    }

    /** tanh-GELU as x / (1 + exp(-2u)), u = √(2/π)(x + 0.044715 x³). */
    private static void geluTanhLoop(float[] a, int n) {
        for (int i = 0; i < n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector u = x.mul(x).mul(0.044715f).add(1f).mul(x).mul(GELU_TANH_C * -2f);
            VectorMask<Float> eLo = u.compare(VectorOperators.LT, EXP_LO);
            VectorMask<Float> eHi = u.compare(VectorOperators.GT, EXP_HI);
            FloatVector eC = u.blend(EXP_LO, eLo).blend(EXP_HI, eHi);
            FloatVector eT = eC.fma(LOG2E_V, ROUND_V);
            FloatVector eF = eT.sub(ROUND_V);
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eR2 = eR.mul(eR);
            FloatVector eQ = eR.fma(P0V, P1V).fma(eR2.mul(eR2), eR.fma(P2V, P3V).fma(eR2, eR.fma(P4V, P5V)));
            FloatVector eP = eQ.fma(eR2, eR).add(1f);
            FloatVector e = eP.mul(EXP_BIAS_V.add(eT.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, eHi).blend(0f, eLo);
            x.div(e.add(1f)).intoArray(a, i);
        }
    }

    /** Exact GELU 0.5 x erfc(-x/√2), erfc on |x|/√2 (Numerical Recipes form, relative error 1.2e-7). */
    private static void geluErfLoop(float[] a, int n) {
        for (int i = 0; i < n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector z = x.abs().mul(SQRT1_2);
            FloatVector t = ONE.div(z.mul(0.5f).add(1f));
            // the degree-9 polynomial in t by Estrin's scheme: four dependent steps instead of nine
            FloatVector t2 = t.mul(t);
            FloatVector t4 = t2.mul(t2);
            FloatVector r0 = t.fma(E3, E2).fma(t2, t.fma(E1, E0));
            FloatVector r1 = t.fma(E7, E6).fma(t2, t.fma(E5, E4));
            FloatVector p = t.fma(E9, E8).fma(t4.mul(t4), r1.fma(t4, r0));
            FloatVector u = z.mul(z).neg().add(p);
            VectorMask<Float> eLo = u.compare(VectorOperators.LT, EXP_LO);
            VectorMask<Float> eHi = u.compare(VectorOperators.GT, EXP_HI);
            FloatVector eC = u.blend(EXP_LO, eLo).blend(EXP_HI, eHi);
            FloatVector eT = eC.fma(LOG2E_V, ROUND_V);
            FloatVector eF = eT.sub(ROUND_V);
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eR2 = eR.mul(eR);
            FloatVector eQ = eR.fma(P0V, P1V).fma(eR2.mul(eR2), eR.fma(P2V, P3V).fma(eR2, eR.fma(P4V, P5V)));
            FloatVector eP = eQ.fma(eR2, eR).add(1f);
            FloatVector e = eP.mul(EXP_BIAS_V.add(eT.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, eHi).blend(0f, eLo);
            FloatVector c = t.mul(e); // erfc(|x|/√2)
            FloatVector factor = c.neg().add(2f).blend(c, x.compare(VectorOperators.LT, 0f)); // erfc(-x/√2)
            x.mul(0.5f).mul(factor).intoArray(a, i);
        }
    }

    /**
     * The largest of {@code a[0..n)} folded by {@link Math#max} from -Inf (NaN if any element is NaN,
     * +0 over -0), a vector of lanes at a time: the same value as the scalar fold, since max is exact
     * and Math.max's order (NaN first, -0 below +0) makes it independent of the order of the fold. The
     * scalar fold is a chain of dependent max operations; attention's softmax ran it once per query
     * head and key (a 640-key decode step on one core: 13% of its time in that loop).
     */
    static float max(float[] a, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i + L <= n; i += L) {
            acc = FloatVector.fromArray(F, a, i).max(acc);  // the accumulator as the argument (see expSum)
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, a[i]);
        }
        return m;
    }

    /**
     * {@code a[i] = exp(a[i] - max)} for i &lt; n, returning their sum; a has room for padded(n)
     * floats. The padding lanes are set to -Inf so that they add exactly 0 (one loop, no tail).
     */
    static float expSum(float[] a, int n, float max) {
        int end = padded(n);
        for (int i = n; i < end; i++) {
            a[i] = Float.NEGATIVE_INFINITY;
        }
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < end; i += L) {
            FloatVector u = FloatVector.fromArray(F, a, i).sub(max);
            VectorMask<Float> eLo = u.compare(VectorOperators.LT, EXP_LO);
            VectorMask<Float> eHi = u.compare(VectorOperators.GT, EXP_HI);
            FloatVector eC = u.blend(EXP_LO, eLo).blend(EXP_HI, eHi);
            FloatVector eT = eC.fma(LOG2E_V, ROUND_V);
            FloatVector eF = eT.sub(ROUND_V);
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eR2 = eR.mul(eR);
            FloatVector eQ = eR.fma(P0V, P1V).fma(eR2.mul(eR2), eR.fma(P2V, P3V).fma(eR2, eR.fma(P4V, P5V)));
            FloatVector eP = eQ.fma(eR2, eR).add(1f);
            FloatVector e = eP.mul(EXP_BIAS_V.add(eT.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, eHi).blend(0f, eLo);
            e.intoArray(a, i);
            acc = e.add(acc);  // the accumulator as the argument: a loop-carried receiver is devirtualised from a shared profile and boxed where it is polluted
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static final FloatVector ONE = FloatVector.broadcast(F, 1f);
    private static final FloatVector LOG2E_V = FloatVector.broadcast(F, LOG2E);
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to the nearest integer n, held in its low mantissa bits. */
    private static final FloatVector ROUND_V = FloatVector.broadcast(F, 12582912f);
    /** From the bits of n + 1.5 * 2^23 to the biased exponent n + 127. */
    private static final int EXP_BIAS = 127 - Float.floatToRawIntBits(12582912f);
    /**
     * EXP_BIAS in every lane, the receiver of the add: a method called on a reinterpreted vector is
     * bound through the JVM-wide call profile of IntVector.add, and where other vector sizes polluted
     * it, C2 boxed the exp's vectors (seen as steady allocation in VecMath.expSum in some programs).
     */
    private static final IntVector EXP_BIAS_V = IntVector.broadcast(I, EXP_BIAS);
    private static final FloatVector P0V = FloatVector.broadcast(F, P0);
    private static final FloatVector P1V = FloatVector.broadcast(F, P1);
    private static final FloatVector P2V = FloatVector.broadcast(F, P2);
    private static final FloatVector P3V = FloatVector.broadcast(F, P3);
    private static final FloatVector P4V = FloatVector.broadcast(F, P4);
    private static final FloatVector P5V = FloatVector.broadcast(F, P5);
    // erfc(z) ≈ t exp(-z² + Σ Ek t^k), t = 1 / (1 + z/2) (Numerical Recipes erfcc)
    private static final FloatVector E0 = FloatVector.broadcast(F, -1.26551223f);
    private static final FloatVector E1 = FloatVector.broadcast(F, 1.00002368f);
    private static final FloatVector E2 = FloatVector.broadcast(F, 0.37409196f);
    private static final FloatVector E3 = FloatVector.broadcast(F, 0.09678418f);
    private static final FloatVector E4 = FloatVector.broadcast(F, -0.18628806f);
    private static final FloatVector E5 = FloatVector.broadcast(F, 0.27886807f);
    private static final FloatVector E6 = FloatVector.broadcast(F, -1.13520398f);
    private static final FloatVector E7 = FloatVector.broadcast(F, 1.48851587f);
    private static final FloatVector E8 = FloatVector.broadcast(F, -0.82215223f);
    private static final FloatVector E9 = FloatVector.broadcast(F, 0.17087277f);

    /** a[0 .. n) *= s, in whole vectors (a has room for {@link #padded}(n)). */
    static void scale(float[] a, int n, float s) {
        for (int i = 0; i < n; i += L) {
            FloatVector.fromArray(F, a, i).mul(s).intoArray(a, i);
        }
    }

    /** Lane m takes lane 2m mod L (EVENS) or 2m + 1 mod L (ODDS): the low half from one vector, the high half (UPPER) from the next. */
    // (F.length(), not L: L is initialised after these)
    private static final VectorShuffle<Float> EVENS = VectorShuffle.fromOp(F, m -> 2 * m % F.length());
    private static final VectorShuffle<Float> ODDS = VectorShuffle.fromOp(F, m -> (2 * m + 1) % F.length());
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(F, -1L << (F.length() / 2));

    /**
     * dst[at .. at + n) = src[at .. at + n) times factor, each whole block of 2L elements in even /
     * odd order (its L even elements, then its L odd ones), the rest in place: the activation layout
     * of the kernels that widen BF16 / F16 pairs in place (the BF16 / F16 GEMV, decode attention's
     * query). Two permutes and a blend per L outputs instead of a scalar gather (16 query heads of
     * 128 took ~2 us that way in each decode attention call).
     */
    static void evenOdd(float[] src, float[] dst, int at, int n, float factor) {
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            FloatVector a = FloatVector.fromArray(F, src, at + i), b = FloatVector.fromArray(F, src, at + i + L);
            a.rearrange(EVENS).blend(b.rearrange(EVENS), UPPER).mul(factor).intoArray(dst, at + i);
            a.rearrange(ODDS).blend(b.rearrange(ODDS), UPPER).mul(factor).intoArray(dst, at + i + L);
        }
        for (; i < n; i++) {
            dst[at + i] = src[at + i] * factor;
        }
    }

    /** {@code max |a[i]|} over {@code [0, n)} (0 for n = 0); NaN if any element is NaN (as {@link Math#max}). */
    static float maxAbs(float[] a, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            acc = FloatVector.fromArray(F, a, i).abs().max(acc);
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, Math.abs(a[i]));
        }
        return m;
    }

    /** {@code max |a[i]|} over the finite elements of {@code a[0, n)}; 0 if there are none. */
    static float maxAbsFinite(float[] a, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, a, i).abs();
            acc = v.blend(0f, v.compare(VectorOperators.LT, Float.POSITIVE_INFINITY).not()).max(acc);  // Inf and NaN count as 0
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            float v = Math.abs(a[i]);
            m = v < Float.POSITIVE_INFINITY ? Math.max(m, v) : m;
        }
        return m;
    }

    /** Whether some {@code |a[i]| >= bound} in {@code [0, n)} (NaN elements are not). */
    static boolean anyMagnitudeAtLeast(float[] a, int n, float bound) {
        int i = 0;
        for (; i + L <= n; i += L) {
            if (FloatVector.fromArray(F, a, i).abs().compare(VectorOperators.GE, bound).anyTrue()) {
                return true;
            }
        }
        for (; i < n; i++) {
            if (Math.abs(a[i]) >= bound) {
                return true;
            }
        }
        return false;
    }

    /** Room needed for n elements processed in whole vectors. */
    static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    static final int L = F.length();
}
