package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Activation rows rounded to Q8_0 ({@link ActivationQ8}) into a packed {@code [m, k]} buffer, rows
 * split across the threads: the prefill GEMMs' input with {@link mgm.runtime.QuantActivations#Q8_0}.
 * (Rounded on the calling thread alone, 512 prompt rows cost the TinyLlama prefill ~10%.)
 */
final class RoundRowsTask extends RangeTask {
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Per worker: one row's staging and the rounding's by-products (unused here). */
    private final float[][] row;
    private final int[][] quants;
    private final float[][] scales;
    private final int[][] sums;
    private MemorySegment x, dst;
    private long xb, xStride;
    private int k;

    RoundRowsTask(int threads) {
        row = new float[threads][0];
        quants = new int[threads][0];
        scales = new float[threads][0];
        sums = new int[threads][0];
    }

    /** Rows of x (element stride xStride from byte xb) to dst, packed; returns the chunk count. */
    int set(MemorySegment x, long xb, long xStride, int m, int k, MemorySegment dst, int threads) {
        this.x = x;
        this.xb = xb;
        this.xStride = xStride;
        this.k = k;
        this.dst = dst;
        for (int w = 0; w < row.length; w++) {
            if (row[w].length < k) {
                row[w] = ThreadScratch.floats(k);
                quants[w] = ThreadScratch.ints(k);
                scales[w] = ThreadScratch.floats(k / 32);
                sums[w] = ThreadScratch.ints(k / 32);
            }
        }
        return split(m, grainFor(m, threads, 1));
    }

    void release() {
        x = dst = null;
    }

    @Override
    void range(long from, long to, int worker) {
        float[] r = row[worker];
        for (long i = from; i < to; i++) {
            MemorySegment.copy(x, FL, xb + 4L * i * xStride, r, 0, k);
            ActivationQ8.round(r, k, quants[worker], scales[worker], sums[worker], r);
            MemorySegment.copy(r, 0, dst, FL, 4L * i * k, k);
        }
    }
}
