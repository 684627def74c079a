package mgm.runtime;

/**
 * Scalar conversions between the float formats, matching PyTorch's rounding (round to nearest
 * even). The fast kernels use vectorised forms of the same bit manipulations.
 */
public final class Numerics {
    private Numerics() {}

    public static float f16ToF32(short h) {
        return Float.float16ToFloat(h);
    }

    public static short f32ToF16(float f) {
        return Float.floatToFloat16(f);
    }

    public static float bf16ToF32(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    /** Round to nearest even, as torch's {@code .to(torch.bfloat16)}; NaN stays a quiet NaN. */
    public static short f32ToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** OCP FP8 E4M3 (the "fn" variant torch uses: no infinities, S.1111.111 is NaN). */
    public static float f8e4m3ToF32(byte v) {
        int b = v & 0xFF;
        int sign = (b & 0x80) != 0 ? -1 : 1;
        int exp = (b >>> 3) & 0xF;
        int man = b & 0x7;
        if (exp == 0xF && man == 0x7) {
            return Float.NaN;
        }
        if (exp == 0) {
            return sign * (man / 8f) * 0x1p-6f;
        }
        return sign * (1 + man / 8f) * (float) Math.scalb(1.0, exp - 7);
    }

    /** FP8 E5M2 (IEEE-like: the top byte of an fp16). */
    public static float f8e5m2ToF32(byte v) {
        return Float.float16ToFloat((short) ((v & 0xFF) << 8));
    }

    /** exact erf-based GELU, computed in double so that the reference is not the weak point. */
    public static float geluErf(float x) {
        return (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
    }

    public static float geluTanh(float x) {
        double c = Math.sqrt(2.0 / Math.PI);
        return (float) (0.5 * x * (1.0 + Math.tanh(c * (x + 0.044715 * x * x * x))));
    }

    public static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    public static float quickGelu(float x) {
        return (float) (x / (1.0 + Math.exp(-1.702 * x)));
    }

    public static float apply(Activation act, float x) {
        return switch (act) {
            case SILU -> silu(x);
            case GELU_ERF -> geluErf(x);
            case GELU_TANH -> geluTanh(x);
            case QUICK_GELU -> quickGelu(x);
        };
    }

    /**
     * erf with absolute error below 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), ample for
     * float results.
     */
    public static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }
}
