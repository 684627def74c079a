package mgm.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.Activation;

/**
 * Vectorised activations and exp, written as whole-vector loops over float arrays:
 * <ul>
 *   <li>exp: Cody-Waite range reduction + the Cephes degree-6 polynomial; relative error 8.3e-8
 *       measured on [-87, 0] against {@link Math#exp}; below -87.3 it returns exactly 0, above 88.7
 *       +Inf, NaN propagates.</li>
 *   <li>GELU (erf): {@code 0.5 x erfc(-x/√2)} with erfc evaluated on |x|/√2 by the Numerical Recipes
 *       Chebyshev form (relative error 1.2e-7 for every x >= 0), so the negative tail stays accurate
 *       in relative terms.</li>
 *   <li>SiLU, quick-GELU and tanh-GELU as {@code x / (1 + exp(-a x))} (tanh-GELU: {@code a x} replaced by
 *       {@code 2u}), which avoids the cancellation of {@code 1 + tanh(u)} near -1.</li>
 * </ul>
 * Measured over 2M points on [-30, 30] against the double-precision {@code Numerics} forms:
 * |error| ≤ 1.2e-7 · max(1, |x|) for all four; relative error ≤ 2.3e-7 for SiLU and ≤ 2.7e-6 for
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
            FloatVector eC = u.max(EXP_LO).min(EXP_HI);
            FloatVector eN = eC.mul(LOG2E).add(0.5f);
            FloatVector eF = (FloatVector) ((IntVector) eN.convert(VectorOperators.F2I, 0)).convert(VectorOperators.I2F, 0);
            eF = eF.sub(1f, eF.compare(VectorOperators.GT, eN));
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eP = eR.mul(P0).add(P1).fma(eR, P2V).fma(eR, P3V).fma(eR, P4V).fma(eR, P5V).fma(eR.mul(eR), eR).add(1f);
            FloatVector e = eP.mul(((IntVector) eF.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, u.compare(VectorOperators.GT, EXP_HI)).blend(0f, u.compare(VectorOperators.LT, EXP_LO));
            x.div(e.add(1f)).intoArray(a, i);
        }
    }

    /** tanh-GELU as x / (1 + exp(-2u)), u = √(2/π)(x + 0.044715 x³). */
    private static void geluTanhLoop(float[] a, int n) {
        for (int i = 0; i < n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector u = x.mul(x).mul(0.044715f).add(1f).mul(x).mul(GELU_TANH_C * -2f);
            FloatVector eC = u.max(EXP_LO).min(EXP_HI);
            FloatVector eN = eC.mul(LOG2E).add(0.5f);
            FloatVector eF = (FloatVector) ((IntVector) eN.convert(VectorOperators.F2I, 0)).convert(VectorOperators.I2F, 0);
            eF = eF.sub(1f, eF.compare(VectorOperators.GT, eN));
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eP = eR.mul(P0).add(P1).fma(eR, P2V).fma(eR, P3V).fma(eR, P4V).fma(eR, P5V).fma(eR.mul(eR), eR).add(1f);
            FloatVector e = eP.mul(((IntVector) eF.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, u.compare(VectorOperators.GT, EXP_HI)).blend(0f, u.compare(VectorOperators.LT, EXP_LO));
            x.div(e.add(1f)).intoArray(a, i);
        }
    }

    /** Exact GELU 0.5 x erfc(-x/√2), erfc on |x|/√2 (Numerical Recipes form, relative error 1.2e-7). */
    private static void geluErfLoop(float[] a, int n) {
        for (int i = 0; i < n; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector z = x.abs().mul(SQRT1_2);
            FloatVector t = ONE.div(z.mul(0.5f).add(1f));
            FloatVector p = t.mul(0.17087277f).add(-0.82215223f).fma(t, E2).fma(t, E3).fma(t, E4).fma(t, E5).fma(t, E6)
                    .fma(t, E7).fma(t, E8).fma(t, E9);
            FloatVector u = z.mul(z).neg().add(p);
            FloatVector eC = u.max(EXP_LO).min(EXP_HI);
            FloatVector eN = eC.mul(LOG2E).add(0.5f);
            FloatVector eF = (FloatVector) ((IntVector) eN.convert(VectorOperators.F2I, 0)).convert(VectorOperators.I2F, 0);
            eF = eF.sub(1f, eF.compare(VectorOperators.GT, eN));
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eP = eR.mul(P0).add(P1).fma(eR, P2V).fma(eR, P3V).fma(eR, P4V).fma(eR, P5V).fma(eR.mul(eR), eR).add(1f);
            FloatVector e = eP.mul(((IntVector) eF.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, u.compare(VectorOperators.GT, EXP_HI)).blend(0f, u.compare(VectorOperators.LT, EXP_LO));
            FloatVector c = t.mul(e); // erfc(|x|/√2)
            FloatVector factor = c.neg().add(2f).blend(c, x.compare(VectorOperators.LT, 0f)); // erfc(-x/√2)
            x.mul(0.5f).mul(factor).intoArray(a, i);
        }
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
            FloatVector eC = u.max(EXP_LO).min(EXP_HI);
            FloatVector eN = eC.mul(LOG2E).add(0.5f);
            FloatVector eF = (FloatVector) ((IntVector) eN.convert(VectorOperators.F2I, 0)).convert(VectorOperators.I2F, 0);
            eF = eF.sub(1f, eF.compare(VectorOperators.GT, eN));
            FloatVector eR = eC.sub(eF.mul(LN2_HI)).sub(eF.mul(LN2_LO));
            FloatVector eP = eR.mul(P0).add(P1).fma(eR, P2V).fma(eR, P3V).fma(eR, P4V).fma(eR, P5V).fma(eR.mul(eR), eR).add(1f);
            FloatVector e = eP.mul(((IntVector) eF.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(Float.POSITIVE_INFINITY, u.compare(VectorOperators.GT, EXP_HI)).blend(0f, u.compare(VectorOperators.LT, EXP_LO));
            e.intoArray(a, i);
            acc = acc.add(e);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static final FloatVector ONE = FloatVector.broadcast(F, 1f);
    private static final FloatVector P2V = FloatVector.broadcast(F, P2);
    private static final FloatVector P3V = FloatVector.broadcast(F, P3);
    private static final FloatVector P4V = FloatVector.broadcast(F, P4);
    private static final FloatVector P5V = FloatVector.broadcast(F, P5);
    private static final FloatVector E2 = FloatVector.broadcast(F, 1.48851587f);
    private static final FloatVector E3 = FloatVector.broadcast(F, -1.13520398f);
    private static final FloatVector E4 = FloatVector.broadcast(F, 0.27886807f);
    private static final FloatVector E5 = FloatVector.broadcast(F, -0.18628806f);
    private static final FloatVector E6 = FloatVector.broadcast(F, 0.09678418f);
    private static final FloatVector E7 = FloatVector.broadcast(F, 0.37409196f);
    private static final FloatVector E8 = FloatVector.broadcast(F, 1.00002368f);
    private static final FloatVector E9 = FloatVector.broadcast(F, -1.26551223f);

    /** Room needed for n elements processed in whole vectors. */
    static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    static final int L = F.length();
}
