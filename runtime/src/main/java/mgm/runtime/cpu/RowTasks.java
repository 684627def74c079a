package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Per-row kernels over the last dimension: RMSNorm, LayerNorm, softmax. Rows are addressed as
 * {@code base + r * rowStride} (elements) for input and output separately, so in-place calls and
 * row-strided views work. Reductions accumulate in F32 vectors.
 */
final class RowTasks {
    private RowTasks() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    enum Kind { RMS_NORM, LAYER_NORM, SOFTMAX }

    static final class Norm extends RangeTask {
        private final float[][] buffers;
        private Kind kind;
        private MemorySegment x;
        private long xStride;
        private MemorySegment out;
        private long outStride;
        private MemorySegment weight;
        private MemorySegment bias;
        private float eps;
        private float weightOffset;
        private int d;
        private long xb, ob, wb, bb;

        Norm(int threads) {
            buffers = new float[threads][0];
        }

        /** Segments are whole storages; the *b arguments are byte offsets of the first element. */
        int set(Kind kind, MemorySegment x, long xb, long xStride, MemorySegment out, long ob, long outStride,
                MemorySegment weight, long wb, MemorySegment bias, long bb, float eps, float weightOffset, long rows, int d,
                int threads) {
            this.xb = xb;
            this.ob = ob;
            this.wb = wb;
            this.bb = bb;
            this.kind = kind;
            this.x = x;
            this.xStride = xStride;
            this.out = out;
            this.outStride = outStride;
            this.weight = weight;
            this.bias = bias;
            this.eps = eps;
            this.weightOffset = weightOffset;
            this.d = d;
            return split(rows, grainFor(rows, threads, Math.max(1, 4096 / Math.max(1, d))));
        }

        void release() {
            x = out = weight = bias = null;
        }

        @Override
        void range(long from, long to, int worker) {
            for (long r = from; r < to; r++) {
                long xo = xb + 4 * r * xStride;
                long oo = ob + 4 * r * outStride;
                switch (kind) {
                    case RMS_NORM -> rmsNorm(xo, oo);
                    case LAYER_NORM -> layerNorm(xo, oo);
                    case SOFTMAX -> softmax(xo, oo, worker);
                }
            }
        }

        private float sumSquares(long xo, float shift) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= d; i += 2 * L) {
                FloatVector v0 = FloatVector.fromMemorySegment(F, x, xo + 4L * i, LE).sub(shift);
                FloatVector v1 = FloatVector.fromMemorySegment(F, x, xo + 4L * (i + L), LE).sub(shift);
                acc0 = v0.fma(v0, acc0);
                acc1 = v1.fma(v1, acc1);
            }
            float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            for (; i < d; i++) {
                float v = x.get(FL, xo + 4L * i) - shift;
                s += v * v;
            }
            return s;
        }

        private void rmsNorm(long xo, long oo) {
            float inv = (float) (1.0 / Math.sqrt(sumSquares(xo, 0f) / d + eps));
            int i = 0;
            for (; i + L <= d; i += L) {
                FloatVector w = FloatVector.fromMemorySegment(F, weight, wb + 4L * i, LE).add(weightOffset);
                FloatVector.fromMemorySegment(F, x, xo + 4L * i, LE).mul(inv).mul(w).intoMemorySegment(out, oo + 4L * i, LE);
            }
            for (; i < d; i++) {
                out.set(FL, oo + 4L * i, x.get(FL, xo + 4L * i) * inv * (weightOffset + weight.get(FL, wb + 4L * i)));
            }
        }

        private void layerNorm(long xo, long oo) {
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i + L <= d; i += L) {
                acc = FloatVector.fromMemorySegment(F, x, xo + 4L * i, LE).add(acc);  // accumulator as argument (see VecMath.expSum)
            }
            float s = acc.reduceLanes(VectorOperators.ADD);
            for (; i < d; i++) {
                s += x.get(FL, xo + 4L * i);
            }
            float mean = s / d;
            float inv = (float) (1.0 / Math.sqrt(sumSquares(xo, mean) / d + eps));
            i = 0;
            for (; i + L <= d; i += L) {
                FloatVector w = FloatVector.fromMemorySegment(F, weight, wb + 4L * i, LE);
                FloatVector b = FloatVector.fromMemorySegment(F, bias, bb + 4L * i, LE);
                FloatVector.fromMemorySegment(F, x, xo + 4L * i, LE).sub(mean).mul(inv).fma(w, b).intoMemorySegment(out, oo + 4L * i, LE);
            }
            for (; i < d; i++) {
                float v = (x.get(FL, xo + 4L * i) - mean) * inv;
                out.set(FL, oo + 4L * i, Math.fma(v, weight.get(FL, wb + 4L * i), bias.get(FL, bb + 4L * i)));
            }
        }

        private void softmax(long xo, long oo, int worker) {
            float[] b = rowBuffer(worker);
            MemorySegment.copy(x, FL, xo, b, 0, d);
            FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            int i = 0;
            for (; i + L <= d; i += L) {
                mx = FloatVector.fromArray(F, b, i).max(mx);  // accumulator as argument (see VecMath.expSum)
            }
            float max = mx.reduceLanes(VectorOperators.MAX);
            for (; i < d; i++) {
                max = Math.max(max, b[i]);
            }
            float inv = 1f / VecMath.expSum(b, d, max); // an all -inf row gives NaN, as in PyTorch
            i = 0;
            for (; i + L <= d; i += L) {
                FloatVector.fromArray(F, b, i).mul(inv).intoArray(b, i);
            }
            for (; i < d; i++) {
                b[i] *= inv;
            }
            MemorySegment.copy(b, 0, out, FL, oo, d);
        }

        private float[] rowBuffer(int worker) {
            if (buffers[worker].length < VecMath.padded(d)) {
                buffers[worker] = ThreadScratch.floats(VecMath.padded(d));
            }
            return buffers[worker];
        }

    }
}
