package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused window attention (MGM patch info mining): token t attends over the window x window pixels
 * of its cell of a channels-last map; one work item per token, scores and weighted sum straight
 * from the map's rows (any row / column strides, channels contiguous), softmax in F32 through
 * {@link VecMath#expSum}. Nothing is gathered or allocated per call.
 */
final class WindowAttentionTask extends RangeTask {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private final float[][] scores;
    private final float[][] acc;
    private MemorySegment q, map, out;
    private long qb, mb, ob, mapRow, mapCol;
    private int d, window, cols;
    private float scale;

    WindowAttentionTask(int threads) {
        scores = new float[threads][0];
        acc = new float[threads][0];
    }

    /** q / out: [T, d] contiguous at byte offsets qb / ob; map: pixel (y, x) channel c at mb + 4 (y mapRow + x mapCol + c). */
    int set(MemorySegment q, long qb, MemorySegment map, long mb, long mapRow, long mapCol, MemorySegment out, long ob,
            int tokens, int d, int window, int cols, float scale, int threads) {
        this.q = q;
        this.qb = qb;
        this.map = map;
        this.mb = mb;
        this.mapRow = mapRow;
        this.mapCol = mapCol;
        this.out = out;
        this.ob = ob;
        this.d = d;
        this.window = window;
        this.cols = cols;
        this.scale = scale;
        int n = window * window;
        for (int w = 0; w < scores.length; w++) {
            if (scores[w].length < VecMath.padded(n)) {
                scores[w] = ThreadScratch.floats(VecMath.padded(n));
            }
            if (acc[w].length < d) {
                acc[w] = ThreadScratch.floats(d);
            }
        }
        return split(tokens, grainFor(tokens, threads, 1));
    }

    void release() {
        q = map = out = null;
    }

    @Override
    void range(long from, long to, int worker) {
        float[] sc = scores[worker];
        float[] ac = acc[worker];
        int n = window * window;
        for (long t = from; t < to; t++) {
            long y0 = t / cols * window;
            long x0 = t % cols * window;
            long qo = qb + 4L * t * d;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                long po = mb + 4L * ((y0 + i / window) * mapRow + (x0 + i % window) * mapCol);
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
                int c = 0;
                for (; c + 2 * L <= d; c += 2 * L) {
                    a0 = FloatVector.fromMemorySegment(F, q, qo + 4L * c, LE).fma(FloatVector.fromMemorySegment(F, map, po + 4L * c, LE), a0);
                    a1 = FloatVector.fromMemorySegment(F, q, qo + 4L * (c + L), LE)
                            .fma(FloatVector.fromMemorySegment(F, map, po + 4L * (c + L), LE), a1);
                }
                float s = a0.lanewise(VectorOperators.ADD, a1).reduceLanes(VectorOperators.ADD);
                for (; c < d; c++) {
                    s += q.get(FL, qo + 4L * c) * map.get(FL, po + 4L * c);
                }
                sc[i] = s * scale;
                max = Math.max(max, sc[i]);
            }
            float inv = 1f / VecMath.expSum(sc, n, max);
            java.util.Arrays.fill(ac, 0, d, 0f);
            for (int i = 0; i < n; i++) {
                long po = mb + 4L * ((y0 + i / window) * mapRow + (x0 + i % window) * mapCol);
                FloatVector p = FloatVector.broadcast(F, sc[i]);
                int c = 0;
                for (; c + L <= d; c += L) {
                    FloatVector.fromMemorySegment(F, map, po + 4L * c, LE).fma(p, FloatVector.fromArray(F, ac, c)).intoArray(ac, c);
                }
                for (; c < d; c++) {
                    ac[c] += sc[i] * map.get(FL, po + 4L * c);
                }
            }
            long oo = ob + 4L * t * d;
            int c = 0;
            for (; c + L <= d; c += L) {
                FloatVector.fromArray(F, ac, c).mul(inv).intoMemorySegment(out, oo + 4L * c, LE);
            }
            for (; c < d; c++) {
                out.set(FL, oo + 4L * c, ac[c] * inv);
            }
        }
    }
}
