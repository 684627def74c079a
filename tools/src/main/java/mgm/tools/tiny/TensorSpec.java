package mgm.tools.tiny;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One tensor of a generated checkpoint: its name in the file, shape, how its values are drawn, and
 * the name that seeds them. Values are a pure function of (seed, seed name, element index), so a
 * tensor is identical wherever it is written (a tower folder and the copy inside an MGM
 * checkpoint share a seed name) and can be produced in any order, a chunk at a time.
 *
 * @param name      the tensor's name in the file
 * @param shape     its shape
 * @param init      how values are drawn
 * @param seedName  the name whose hash seeds the values
 * @param integer   stored as I64 (position ids) instead of the checkpoint's float dtype
 */
record TensorSpec(String name, long[] shape, Init init, String seedName, boolean integer) {

    /** Gaussian {@code mean + std * N(0,1)}, or {@code 0, 1, 2 ...} for {@link #counting()}. */
    record Init(double mean, double std, boolean arange) {
        static Init normal(double mean, double std) {
            return new Init(mean, std, false);
        }

        static Init constant(double value) {
            return new Init(value, 0, false);
        }

        static Init counting() {
            return new Init(0, 0, true);
        }
    }

    static TensorSpec of(String name, Init init, long... shape) {
        return new TensorSpec(name, shape.clone(), init, name, false);
    }

    /** The same values stored under another name (a tower copy inside the MGM checkpoint). */
    TensorSpec renamed(String newName) {
        return new TensorSpec(newName, shape, init, seedName, integer);
    }

    TensorSpec asInteger() {
        return new TensorSpec(name, shape, init, seedName, true);
    }

    long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Fills {@code out[0 .. out.length)} with elements {@code first ..} of this tensor for {@code seed}. */
    void fill(long seed, long first, float[] out, int count) {
        if (init.arange()) {
            for (int i = 0; i < count; i++) {
                out[i] = first + i;
            }
            return;
        }
        if (init.std() == 0) {
            Arrays.fill(out, 0, count, (float) init.mean());
            return;
        }
        long s = tensorSeed(seed);
        for (int i = 0; i < count; i++) {
            out[i] = (float) (init.mean() + init.std() * gaussian(s, first + i));
        }
    }

    private long tensorSeed(long seed) {
        long h = 0xcbf29ce484222325L;
        for (byte b : seedName.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(seed * 0x9E3779B97F4A7C15L ^ h);
    }

    /** Element {@code i} of a standard normal stream: Box-Muller on two counter-hashed uniforms. */
    static double gaussian(long tensorSeed, long i) {
        long pair = i >>> 1;
        long a = mix(tensorSeed + 2 * pair * 0x9E3779B97F4A7C15L);
        long b = mix(a ^ 0xD1B54A32D192ED03L);
        double u1 = ((a >>> 11) + 1) * 0x1.0p-53; // (0, 1]
        double u2 = (b >>> 11) * 0x1.0p-53;       // [0, 1)
        double r = Math.sqrt(-2 * Math.log(u1));
        double angle = 2 * Math.PI * u2;
        return (i & 1) == 0 ? r * Math.cos(angle) : r * Math.sin(angle);
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
