package mgm.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.Quant;

/**
 * An activation row rounded to Q8_0 blocks ({@link mgm.runtime.QuantActivations#Q8_0}), vectorised
 * and bit for bit {@link mgm.runtime.Quant#quantizeQ8_0} followed by
 * {@link mgm.runtime.Quant#dequantize}: per 32 elements {@code d = amax / 127},
 * {@code q = roundf(x * (1 / d))} as an int8, the scale stored as fp16. Runs once per activation
 * row and matmul, so it must cost little beside the weights' read.
 */
final class ActivationQ8 {
    private ActivationQ8() {}

    /**
     * The preferred species, as every other kernel uses on this machine: a 256-bit shape here, alone
     * among 512-bit ones, made the library's shared call profiles polymorphic, and in one full test
     * run a decode step of other kernels then allocated (boxed vectors).
     */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final FloatVector HALF = FloatVector.broadcast(F, 0.5f);
    private static final FloatVector ONE = FloatVector.broadcast(F, 1f);
    private static final int SIGN = 0x80000000;

    static {
        if (32 % L != 0) {
            throw new IllegalStateException("ActivationQ8: a Q8_0 block of 32 is not a whole number of " + L + "-lane vectors");
        }
    }

    /**
     * Rounds {@code x[0..k)} (k a multiple of 32): {@code rounded[i] = d[b] * quant[i]} (may be
     * {@code x}), the quants to {@code q} (each in both 16-bit halves of an int, see {@link #paired}),
     * the fp16 scales (as floats) to {@code d} and 8 x each block's quant sum to {@code sum8}.
     * Returns whether every scale is finite (else some rounded elements are NaN, as in the reference).
     */
    static boolean round(float[] x, int k, int[] q, float[] d, int[] sum8, float[] rounded) {
        boolean finite = true;
        for (int b = 0; b < k / 32; b++) {
            int o = 32 * b;
            float amax = 0f;
            for (int i = o; i < o + 32; i += L) {
                amax = Math.max(amax, FloatVector.fromArray(F, x, i).abs().reduceLanes(VectorOperators.MAX));
            }
            float scale = amax / 127f;
            float id = scale != 0f ? 1f / scale : 0f;
            float stored = Float.float16ToFloat(Float.floatToFloat16(scale));
            finite &= Float.isFinite(stored);
            d[b] = stored;
            int sum = 0;
            if (scale != 0f && scale < Float.MIN_NORMAL) {
                // a subnormal scale: 1 / scale is inexact or infinite, so |x / d| may pass 127 and the
                // reference's int8 cast wraps; such (absurdly small) blocks are rounded one by one
                for (int j = o; j < o + 32; j++) {
                    int quant = Quant.roundToInt8(x[j] * id);
                    q[j] = paired(quant);
                    sum += quant;
                    rounded[j] = stored * quant;
                }
            } else {
                for (int i = o; i < o + 32; i += L) {
                    // roundf(x * id) as a float: truncate |t| (a Java cast: NaN gives 0), add one where the
                    // dropped fraction is at least a half (exact), put t's sign back; |t| <= ~127 here
                    FloatVector t = FloatVector.fromArray(F, x, i).mul(id);
                    FloatVector a = t.abs();
                    FloatVector whole = (FloatVector) a.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0);
                    FloatVector magnitude = whole.add(ONE, a.sub(whole).compare(VectorOperators.GE, HALF));
                    FloatVector quant = magnitude.reinterpretAsInts().or(t.reinterpretAsInts().and(SIGN)).reinterpretAsFloats();
                    IntVector qi = (IntVector) quant.convert(VectorOperators.F2I, 0);
                    sum += qi.reduceLanes(VectorOperators.ADD);
                    qi.and(0xFFFF).or(qi.lanewise(VectorOperators.LSHL, 16)).intoArray(q, i);
                    ((FloatVector) qi.convert(VectorOperators.I2F, 0)).mul(stored).intoArray(rounded, i);  // (from qi: +0, not -0)
                }
            }
            sum8[b] = 8 * sum;
        }
        return finite;
    }

    /**
     * Rewrites the quants {@link #round} left in {@code q[0..k)} for the integer Q4_0 kernel
     * ({@link GemvKernels#groupsQ4Int}): in each block of 32, quant {@code 16 + j} becomes
     * {@code q[16 + j] - 16 q[j]} (paired), within +-2160, so that the kernel multiplies a whole
     * weight byte {@code lo + 16 hi} by {@code q[j]} and its high nibble by the folded quant.
     */
    static void foldUpperHalves(int[] q, int k) {
        if (L > 16) {  // a vector longer than half a block
            foldUpperHalvesScalar(q, k);
            return;
        }
        for (int o = 0; o + 32 <= k; o += 32) {
            for (int j = 0; j < 16; j += L) {
                // in 32-bit lanes: the low halves sign-extended, the fold, paired again (no 16-bit wrap: within +-2160)
                IntVector low = IntVector.fromArray(I, q, o + j).lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
                IntVector high = IntVector.fromArray(I, q, o + 16 + j).lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
                IntVector folded = high.sub(low.lanewise(VectorOperators.LSHL, 4));
                folded.and(0xFFFF).or(folded.lanewise(VectorOperators.LSHL, 16)).intoArray(q, o + 16 + j);
            }
        }
    }

    /** {@link #foldUpperHalves} one quant at a time. */
    static void foldUpperHalvesScalar(int[] q, int k) {
        for (int o = 0; o + 32 <= k; o += 32) {
            for (int j = 0; j < 16; j++) {
                q[o + 16 + j] = paired((short) q[o + 16 + j] - 16 * (short) q[o + j]);
            }
        }
    }

    /**
     * A quant in both 16-bit halves of an int: a 32-bit broadcast of it is 32 16-bit lanes of the
     * quant, which the integer Q4_0 kernel gets from a load ({@link GemvKernels#groupsQ4Int}).
     */
    static int paired(int quant) {
        return (quant & 0xFFFF) | (quant << 16);
    }
}
