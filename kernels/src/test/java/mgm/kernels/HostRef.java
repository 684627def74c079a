package mgm.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import mgm.runtime.DType;
import mgm.runtime.Numerics;
import mgm.runtime.Quant;
import mgm.runtime.Tensor;

/** Test helpers: random host tensors and plain-loop references in double precision. */
final class HostRef {
    private HostRef() {}

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    static Tensor random(Random r, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return Tensor.of(gaussian(r, (int) n), shape);
    }

    /** A host tensor of dtype dt holding the values of f32 (rounded / quantised with the reference rules). */
    static Tensor as(Tensor f32, DType dt) {
        if (dt == DType.F32) {
            return f32;
        }
        float[] v = f32.toFloatArray();
        Tensor t = Tensor.allocate(dt, f32.shape());
        if (dt.isQuantized()) {
            if (dt == DType.Q8_0) {
                Quant.quantizeQ8_0(v, 0, v.length, t.segment(), 0);
            } else {
                Quant.quantizeQ4_0(v, 0, v.length, t.segment(), 0);
            }
            return t;
        }
        long[] shape = f32.shape();
        long[] idx = new long[shape.length];
        for (float x : v) {
            t.setFloat(x, idx);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return t;
    }

    /** out = x w^T + b in double; also the scale sum |x||w| per element. */
    static double[][] matmul(float[] x, float[] w, float[] b, int M, int N, int K) {
        double[] out = new double[M * N], scale = new double[M * N];
        for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
                double s = 0, a = 0;
                for (int k = 0; k < K; k++) {
                    double p = (double) x[m * K + k] * w[n * K + k];
                    s += p;
                    a += Math.abs(p);
                }
                out[m * N + n] = s + (b == null ? 0 : b[n]);
                scale[m * N + n] = a + (b == null ? 0 : Math.abs(b[n]));
            }
        }
        return new double[][] {out, scale};
    }

    static void assertClose(String what, double[] want, float[] got, double[] scale, double rtol, double atol) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Double.isNaN(want[i]) || Double.isInfinite(want[i])) {
                if (Float.compare((float) want[i], got[i]) != 0) {
                    fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
                }
                continue;
            }
            double tol = atol + rtol * (scale == null ? Math.abs(want[i]) : scale[i]);
            if (!(Math.abs(got[i] - want[i]) <= tol)) {
                fail(String.format("%s: element %d is %.9g, expected %.9g (|diff| %.3g > %.3g)", what, i, got[i], want[i],
                        Math.abs(got[i] - want[i]), tol));
            }
        }
    }

    static void assertBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", expected exactly " + want[i]);
            }
        }
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    static double activation(int act, double x) {
        return switch (act) {
            case 0 -> x / (1 + Math.exp(-x));
            case 1 -> 0.5 * x * (1 + Numerics.erf(x / Math.sqrt(2)));
            case 2 -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            default -> x / (1 + Math.exp(-1.702 * x));
        };
    }
}
