package mgm.model.testing;

/** Tolerance measures used by the reference tests. */
public final class Compare {
    private Compare() {}

    /** max |a - e| / max |e| over all elements (the relative measure). */
    public static double relative(float[][] actual, float[][] expected) {
        double diff = 0;
        double scale = 0;
        for (int r = 0; r < expected.length; r++) {
            check(actual[r].length == expected[r].length, "row " + r + " has " + actual[r].length + " values, expected "
                    + expected[r].length);
            for (int i = 0; i < expected[r].length; i++) {
                diff = Math.max(diff, Math.abs((double) actual[r][i] - expected[r][i]));
                scale = Math.max(scale, Math.abs(expected[r][i]));
            }
        }
        return diff / scale;
    }

    public static double relative(float[] actual, float[] expected) {
        return relative(new float[][] {actual}, new float[][] {expected});
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Fraction of rows where our argmax is an argmax of the expected row. Logits computed in BF16
     * (as HF does) are coarse enough to tie; any of the tied tokens counts as agreeing.
     */
    public static double argmaxAgreement(float[][] actual, float[][] expected) {
        int same = 0;
        for (int r = 0; r < expected.length; r++) {
            int ours = argmax(actual[r]);
            if (expected[r][ours] == expected[r][argmax(expected[r])]) {
                same++;
            }
        }
        return (double) same / expected.length;
    }

    public static float[][] rows(Npy npy) {
        float[][] out = new float[npy.rows()][];
        for (int r = 0; r < out.length; r++) {
            out[r] = npy.row(r);
        }
        return out;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new AssertionError(message);
        }
    }
}
