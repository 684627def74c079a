package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vector helpers that prepare a GEMV's activation row and decode attention's query
 * ({@link VecMath#evenOdd}, {@link VecMath#maxAbs}, {@link VecMath#maxAbsFinite},
 * {@link VecMath#anyMagnitudeAtLeast}, {@link GemvKernels#prepareQ4Subnormal}) against the plain
 * scalar loops they replaced, to the bit, on every length around the vector sizes and with
 * Inf / NaN / subnormal elements. Each check runs many times so that C2 compiles the helpers.
 */
class ActivationPrepareTest {
    private static final int L = VecMath.L;
    private static final int ROUNDS = 300;

    @Test
    void evenOddMatchesTheScalarGather() {
        Random r = new Random(11);
        for (int round = 0; round < ROUNDS; round++) {
            for (int n : new int[] {0, 1, 2 * L - 1, 2 * L, 2 * L + 1, 4 * L + 3, 128, 130}) {
                for (float factor : new float[] {1f, 0x1p112f, 0x1p100f}) {
                    int at = r.nextInt(3);
                    float[] src = randomRow(r, at + n + 2);
                    float[] want = new float[src.length], got = new float[src.length];
                    java.util.Arrays.fill(want, 7f);
                    java.util.Arrays.fill(got, 7f);
                    scalarEvenOdd(src, want, at, n, factor);
                    VecMath.evenOdd(src, got, at, n, factor);
                    for (int i = 0; i < src.length; i++) {
                        assertSameFloat(want[i], got[i], "evenOdd n = " + n + ", at = " + at + ", factor " + factor + ", element " + i);
                    }
                }
            }
        }
    }

    @Test
    void magnitudeScansMatchTheScalarLoops() {
        Random r = new Random(12);
        for (int round = 0; round < ROUNDS; round++) {
            for (int n = 0; n <= 3 * L + 2; n++) {
                float[] a = randomRow(r, n + 1);
                a[n] = Float.NaN;  // beyond n: must not be read
                int special = n == 0 ? -1 : r.nextInt(n);
                if (special >= 0 && round % 4 != 0) {
                    a[special] = new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0x1p15f, -0x1p15f,
                        Math.nextDown(0x1p15f), -Float.MIN_VALUE}[round % 7];
                }
                String what = "n = " + n + ", special " + (special >= 0 ? a[special] + " at " + special : "none");
                assertSameFloat(scalarMaxAbs(a, n), VecMath.maxAbs(a, n), "maxAbs " + what);
                assertSameFloat(scalarMaxAbsFinite(a, n), VecMath.maxAbsFinite(a, n), "maxAbsFinite " + what);
                assertEquals(scalarAnyAtLeast(a, n, 0x1p15f), VecMath.anyMagnitudeAtLeast(a, n, 0x1p15f), "anyMagnitudeAtLeast " + what);
            }
        }
    }

    /** The row scaled by 2^P in float steps equals the double-precision product rounded once, for rows from 2^-149 to 2^100. */
    @Test
    void q4SubnormalScalingEqualsTheDoubleProduct() {
        Random r = new Random(13);
        int k = 4 * 32 + 32;
        for (int round = 0; round < ROUNDS; round++) {
            float magnitude = Math.scalb(1f, r.nextInt(250) - 149);
            float[] x = new float[k];
            for (int i = 0; i < k; i++) {
                x[i] = (float) (r.nextGaussian() * magnitude);
            }
            x[r.nextInt(k)] = 0f;
            float largest = VecMath.maxAbs(x, k);
            if (!GemvKernels.q4RowIsOrdinary(largest)) {
                continue;
            }
            float[] dst = new float[k], negSums = new float[k / 32];
            float back = GemvKernels.prepareQ4Subnormal(x, k, largest, dst, negSums);
            int e = Math.getExponent(largest);
            double up = Math.scalb(1.0, 126 - e);
            for (int i = 0; i < k; i++) {
                assertSameFloat((float) (x[i] * up), dst[i], "magnitude " + magnitude + ", element " + i);
            }
            assertEquals(Math.scalb(1f, 23 + e), back);
            for (int b = 0; b < k / 32; b++) {
                double sum = 0, abs = 0;
                for (int j = 0; j < 32; j++) {
                    sum += x[32 * b + j];
                    abs += Math.abs(x[32 * b + j]);
                }
                double want = -sum * Math.scalb(1.0, -23 - e), got = negSums[b];
                // float summation of 32 terms: within 32 ulps of the terms' magnitudes (and exactly 0 where every term is 0)
                assertTrue(Math.abs(got - want) <= 32 * Math.ulp((float) (abs * Math.scalb(1.0, -23 - e))),
                        "magnitude " + magnitude + ", block " + b + ": " + got + " vs " + want);
            }
        }
    }

    private static float[] randomRow(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * 100);
        }
        return a;
    }

    private static void scalarEvenOdd(float[] src, float[] dst, int at, int n, float factor) {
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            for (int m = 0; m < L; m++) {
                dst[at + i + m] = src[at + i + 2 * m] * factor;
                dst[at + i + L + m] = src[at + i + 2 * m + 1] * factor;
            }
        }
        for (; i < n; i++) {
            dst[at + i] = src[at + i] * factor;
        }
    }

    private static float scalarMaxAbs(float[] a, int n) {
        float m = 0;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, Math.abs(a[i]));
        }
        return m;
    }

    private static float scalarMaxAbsFinite(float[] a, int n) {
        float m = 0;
        for (int i = 0; i < n; i++) {
            float v = Math.abs(a[i]);
            m = v > m && v != Float.POSITIVE_INFINITY ? v : m;
        }
        return m;
    }

    private static boolean scalarAnyAtLeast(float[] a, int n, float bound) {
        boolean any = false;
        for (int i = 0; i < n; i++) {
            any |= Math.abs(a[i]) >= bound;
        }
        return any;
    }

    /** Equal bits, any NaN counting as NaN. */
    private static void assertSameFloat(float want, float got, String what) {
        if (Float.isNaN(want)) {
            assertTrue(Float.isNaN(got), what + ": " + got + " instead of NaN");
        } else {
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what + ": " + got + " instead of " + want);
        }
    }
}
