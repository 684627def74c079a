package mgm.model.testing;

import java.util.Arrays;

/**
 * Compares one pipeline stage, viewed as a row-major {@code [rows, cols]} array, with a stage
 * fixture written by fixtures/mgm/make_fixtures.py: elementwise on the stored rows (all of them when
 * the stage is small), and on big stages also the per-column mean, RMS and max |x| over all rows.
 * Every check is a consequence of the elementwise bound {@code max|ours - ref| <= tol * max|ref|}
 * (the mean of differences, a difference of RMS values and of maxima are all at most the largest
 * difference), so none of them is looser than the bound, and together they cover every element.
 */
public final class StageCheck {
    private StageCheck() {}

    /** Returns the largest relative difference found (to max |ref| of the whole stage); fails above {@code tol}. */
    public static double check(String what, Npz fixture, float[] ours, double tol) {
        long[] shape = longs(fixture.get("shape"));
        long total = 1;
        for (long d : shape) {
            total *= d;
        }
        if (total != ours.length) {
            throw new AssertionError(what + ": " + ours.length + " values, the reference has " + total + " "
                    + Arrays.toString(shape));
        }
        double scale = fixture.scalar("abs_max");
        double worst;
        if (fixture.has("full")) {
            worst = maxDiff(ours, 0, fixture.get("full").data(), 0, ours.length) / scale;
            assertWithin(what + " (all values)", worst, tol);
            return worst;
        }
        Npy rows = fixture.get("rows");
        int cols = (int) rows.shape()[1];
        float[] index = fixture.get("row_index").data();
        worst = 0;
        for (int i = 0; i < index.length; i++) {
            int r = (int) index[i];
            worst = Math.max(worst, maxDiff(ours, (long) r * cols, rows.data(), (long) i * cols, cols) / scale);
        }
        assertWithin(what + " (" + index.length + " sampled rows)", worst, tol);
        int nRows = ours.length / cols;
        double[] mean = new double[cols];
        double[] sq = new double[cols];
        double[] absMax = new double[cols];
        double oursMax = 0;
        for (int r = 0; r < nRows; r++) {
            for (int c = 0; c < cols; c++) {
                double v = ours[r * cols + c];
                mean[c] += v;
                sq[c] += v * v;
                absMax[c] = Math.max(absMax[c], Math.abs(v));
            }
        }
        float[] refMean = fixture.get("col_mean").data();
        float[] refRms = fixture.get("col_rms").data();
        float[] refAbsMax = fixture.get("col_absmax").data();
        double statWorst = 0;
        for (int c = 0; c < cols; c++) {
            statWorst = Math.max(statWorst, Math.abs(mean[c] / nRows - refMean[c]) / scale);
            statWorst = Math.max(statWorst, Math.abs(Math.sqrt(sq[c] / nRows) - refRms[c]) / scale);
            statWorst = Math.max(statWorst, Math.abs(absMax[c] - refAbsMax[c]) / scale);
            oursMax = Math.max(oursMax, absMax[c]);
        }
        statWorst = Math.max(statWorst, Math.abs(oursMax - scale) / scale);
        assertWithin(what + " (per-column mean, RMS and max |x| over all " + nRows + " rows)", statWorst, tol);
        if (fixture.has("row_max")) {
            float[] refMax = fixture.get("row_max").data();
            float[] refArgmax = fixture.get("row_argmax").data();
            double rowWorst = 0;
            for (int r = 0; r < nRows; r++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < cols; c++) {
                    m = Math.max(m, ours[r * cols + c]);
                }
                rowWorst = Math.max(rowWorst, Math.abs(m - refMax[r]) / scale);
                // The reference's argmax must be (within the bound) a maximum of ours too.
                double atRefArgmax = ours[r * cols + (int) refArgmax[r]];
                rowWorst = Math.max(rowWorst, (m - atRefArgmax) / scale / 2);
            }
            assertWithin(what + " (max and argmax of every row)", rowWorst, tol);
            statWorst = Math.max(statWorst, rowWorst);
        }
        return Math.max(worst, statWorst);
    }

    private static double maxDiff(float[] a, long aFrom, float[] b, long bFrom, long n) {
        double d = 0;
        for (long i = 0; i < n; i++) {
            d = Math.max(d, Math.abs((double) a[(int) (aFrom + i)] - b[(int) (bFrom + i)]));
        }
        return d;
    }

    private static void assertWithin(String what, double rel, double tol) {
        if (!(rel <= tol)) {
            throw new AssertionError(what + ": relative difference " + rel + " exceeds " + tol);
        }
    }

    private static long[] longs(Npy a) {
        long[] out = new long[a.data().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) a.data()[i];
        }
        return out;
    }
}
