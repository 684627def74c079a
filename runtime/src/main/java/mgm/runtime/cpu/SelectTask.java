package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Per-row selection: argmax (first index of the largest value) and top-k (descending, ties by
 * lower index), one row per work item. Top-k keeps a sorted candidate list of length k and skips
 * any value not above its current last entry, so a pass costs about one compare per element.
 */
final class SelectTask extends RangeTask {
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    private final float[][] vals;
    private final int[][] idx;
    private MemorySegment x, values, indices;
    private long xStride, vStride, iStride;
    private int n, k;

    SelectTask(int threads) {
        vals = new float[threads][0];
        idx = new int[threads][0];
    }

    /** k == 0: argmax into indices (stride iStride per row). */
    int set(MemorySegment x, long xStride, int rows, int n, int k, MemorySegment values, long vStride,
            MemorySegment indices, long iStride, int threads) {
        this.x = x;
        this.xStride = xStride;
        this.n = n;
        this.k = k;
        this.values = values;
        this.vStride = vStride;
        this.indices = indices;
        this.iStride = iStride;
        for (int w = 0; w < vals.length; w++) {
            if (vals[w].length < k) {
                vals[w] = ThreadScratch.floats(k);
                idx[w] = ThreadScratch.ints(k);
            }
        }
        return split(rows, grainFor(rows, threads, Math.max(1, 8192 / Math.max(1, n))));
    }

    void release() {
        x = values = indices = null;
    }

    @Override
    void range(long from, long to, int worker) {
        for (long r = from; r < to; r++) {
            long xo = 4L * r * xStride;
            if (k == 0) {
                int best = 0;
                float bv = x.get(FL, xo);
                for (int j = 1; j < n; j++) {
                    float v = x.get(FL, xo + 4L * j);
                    if (v > bv) {
                        bv = v;
                        best = j;
                    }
                }
                indices.set(I32, 4L * r * iStride, best);
            } else {
                topK(xo, vals[worker], idx[worker]);
                for (int j = 0; j < k; j++) {
                    values.set(FL, 4L * (r * vStride + j), vals[worker][j]);
                    indices.set(I32, 4L * (r * iStride + j), idx[worker][j]);
                }
            }
        }
    }

    private void topK(long xo, float[] v, int[] ix) {
        int have = 0;
        for (int j = 0; j < n; j++) {
            float e = x.get(FL, xo + 4L * j);
            if (have == k && !(e > v[k - 1])) {
                continue;
            }
            int p = have < k ? have++ : k - 1;
            while (p > 0 && e > v[p - 1]) {
                v[p] = v[p - 1];
                ix[p] = ix[p - 1];
                p--;
            }
            v[p] = e;
            ix[p] = j;
        }
    }
}
