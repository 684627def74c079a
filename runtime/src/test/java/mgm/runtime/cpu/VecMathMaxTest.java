package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link VecMath#max} against the scalar {@code Math.max} fold it replaces, to the bit. */
class VecMathMaxTest {

    private static float scalarMax(float[] a, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, a[i]);
        }
        return m;
    }

    /** Equal bits, any NaN counting as NaN (payloads are not specified). */
    private static void check(String what, float[] a, int n) {
        float want = scalarMax(a, n), got = VecMath.max(a, n);
        if (Float.isNaN(want)) {
            assertEquals(true, Float.isNaN(got), what + ", n = " + n + ": " + got + " instead of NaN");
        } else {
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what + ", n = " + n + ": " + got + " instead of " + want);
        }
    }

    @Test
    void equalsTheScalarFoldOnRandomRowsOfEveryLength() {
        Random r = new Random(5);
        for (int n = 0; n <= 3 * VecMath.L + 5; n++) {
            float[] a = new float[n + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (r.nextGaussian() * 40);
            }
            a[a.length - 1] = 1e30f;  // beyond n: must not be read
            check("random", a, n);
        }
    }

    /** Repeated so that C2 compiles VecMath.max (its vector max must keep Math.max's NaN and -0 rules, not the instruction's). */
    @Test
    void specialValues() {
        for (int round = 0; round < 2000; round++) {
            specialValuesOnce();
        }
    }

    private static void specialValuesOnce() {
        int n = 2 * VecMath.L + 3;
        for (int at : new int[] {0, 1, VecMath.L - 1, VecMath.L, n - 1}) {
            float[] a = new float[n];
            java.util.Arrays.fill(a, Float.NEGATIVE_INFINITY);
            check("all -Inf", a, n);
            a[at] = Float.NaN;
            check("a NaN at " + at, a, n);
            java.util.Arrays.fill(a, -0f);
            a[at] = 0f;
            check("-0 and one +0 at " + at, a, n);
            java.util.Arrays.fill(a, -1f);
            a[at] = Float.POSITIVE_INFINITY;
            check("+Inf at " + at, a, n);
            a[at] = -Float.MIN_VALUE;
            check("the largest a negative subnormal at " + at, a, n);
        }
        assertEquals(Float.NEGATIVE_INFINITY, VecMath.max(new float[0], 0));
    }
}
