package mgm.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.Activation;

/**
 * Vectorised transcendental functions for the activations, accurate to a few float ulps:
 * <ul>
 *   <li>{@link #exp}: Cody-Waite range reduction + degree-6 minimax polynomial, relative error
 *       below 2e-7 on [-87, 88]; inputs are clamped to that range (results below 1e-38 are not
 *       denormal-exact, above 88.7 they are +Inf).</li>
 *   <li>{@link #erfc}: the Numerical Recipes Chebyshev form (relative error below 1.2e-7 for all x >= 0),
 *       so that GELU's tail {@code 0.5 x erfc(-x/√2)} stays accurate in relative terms.</li>
 *   <li>Sigmoid-based forms ({@code x / (1 + exp(-a x))}) for SiLU, quick-GELU and tanh-GELU, which
 *       avoids the cancellation of {@code 1 + tanh(u)} near -1.</li>
 * </ul>
 * Measured against the double-precision forms in {@code Numerics}: max relative error 4e-7 for
 * |result| > 1e-30 (see CpuBackendConsistencyTest / the activation cases of the consistency suite).
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

    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = xc.mul(LOG2E).add(0.5f);
        // floor(n) via truncation toward zero, corrected for negatives
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        FloatVector nf = (FloatVector) ni.convert(VectorOperators.I2F, 0);
        var fix = nf.compare(VectorOperators.GT, n);
        nf = nf.sub(1f, fix);
        ni = (IntVector) nf.convert(VectorOperators.F2I, 0);
        FloatVector r = xc.sub(nf.mul(LN2_HI)).sub(nf.mul(LN2_LO));
        FloatVector r2 = r.mul(r);
        FloatVector p = r.mul(P0).add(P1);
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        p = p.fma(r2, r).add(1f);
        FloatVector pow2 = ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector res = p.mul(pow2);
        // x above the clamp overflows to +Inf like Math.exp; NaN propagates through max/min.
        return res.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
    }

    /** {@code x / (1 + exp(-a x))}. */
    static FloatVector xSigmoid(FloatVector x, float a) {
        FloatVector e = exp(x.mul(-a));
        return x.div(e.add(1f));
    }

    /** erfc(z) for z >= 0. */
    static FloatVector erfcPositive(FloatVector z) {
        FloatVector t = FloatVector.broadcast(F, 1f).div(z.mul(0.5f).add(1f));
        FloatVector p = t.mul(0.17087277f).add(-0.82215223f);
        p = p.fma(t, FloatVector.broadcast(F, 1.48851587f));
        p = p.fma(t, FloatVector.broadcast(F, -1.13520398f));
        p = p.fma(t, FloatVector.broadcast(F, 0.27886807f));
        p = p.fma(t, FloatVector.broadcast(F, -0.18628806f));
        p = p.fma(t, FloatVector.broadcast(F, 0.09678418f));
        p = p.fma(t, FloatVector.broadcast(F, 0.37409196f));
        p = p.fma(t, FloatVector.broadcast(F, 1.00002368f));
        p = p.fma(t, FloatVector.broadcast(F, -1.26551223f));
        return t.mul(exp(z.mul(z).neg().add(p)));
    }

    /** Exact (erf) GELU: 0.5 x erfc(-x/√2), with erfc evaluated on |x|/√2 for accuracy in both tails. */
    static FloatVector geluErf(FloatVector x) {
        FloatVector z = x.abs().mul(SQRT1_2);
        FloatVector c = erfcPositive(z); // erfc(|x|/√2)
        var neg = x.compare(VectorOperators.LT, 0f);
        FloatVector factor = c.neg().add(2f).blend(c, neg); // erfc(-x/√2)
        return x.mul(0.5f).mul(factor);
    }

    /** tanh-GELU: 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = √(2/π)(x + 0.044715 x³). */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector u = x.mul(x).mul(0.044715f).add(1f).mul(x).mul(GELU_TANH_C);
        return x.div(exp(u.mul(-2f)).add(1f));
    }

    static FloatVector apply(Activation act, FloatVector x) {
        return switch (act) {
            case SILU -> xSigmoid(x, 1f);
            case QUICK_GELU -> xSigmoid(x, 1.702f);
            case GELU_ERF -> geluErf(x);
            case GELU_TANH -> geluTanh(x);
        };
    }

    /** Scalar form of the same approximations, for loop tails (so a value never depends on its position). */
    static float apply(Activation act, float x) {
        FloatVector v = FloatVector.broadcast(F, x);
        return apply(act, v).lane(0);
    }
}
