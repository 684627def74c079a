package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.Activation;

/** Element-wise kernels over contiguous F32 data: activations, gated activations, add / mul with broadcast, scale. */
final class PointwiseTasks {
    private PointwiseTasks() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /** Elements per chunk: enough work to amortise a chunk claim, small enough to balance. */
    static final long GRAIN = 16 * 1024;

    /**
     * {@code out = act(x)} or, with {@code up != null}, {@code out = act(x) * up}: each chunk is
     * copied into a per-thread buffer, transformed there by {@link VecMath#activate} (whole
     * vectors, no masked tail), multiplied by {@code up} and copied out. In place works because a
     * chunk is read completely before it is written.
     */
    static final class Activate extends RangeTask {
        static final int CHUNK = 2048;
        private final float[][] buf;
        private Activation act;
        private MemorySegment x;
        private MemorySegment up;
        private MemorySegment out;
        private long xb, ub, ob;

        Activate(int threads) {
            buf = ThreadScratch.floats(threads, VecMath.padded(CHUNK));
        }

        /** Segments are whole storages; xb / ub / ob are the byte offsets of the first element. */
        int set(Activation act, MemorySegment x, long xb, MemorySegment up, long ub, MemorySegment out, long ob, long n) {
            this.act = act;
            this.x = x;
            this.up = up;
            this.out = out;
            this.xb = xb;
            this.ub = ub;
            this.ob = ob;
            return split(n, GRAIN);
        }

        void release() {
            x = up = out = null;
        }

        @Override
        void range(long from, long to, int worker) {
            float[] b = buf[worker];
            for (long c = from; c < to; c += CHUNK) {
                int n = (int) Math.min(CHUNK, to - c);
                MemorySegment.copy(x, FL, xb + 4 * c, b, 0, n);
                VecMath.activate(act, b, n);
                if (up != null) {
                    int i = 0;
                    for (; i + L <= n; i += L) {
                        FloatVector.fromArray(F, b, i).mul(FloatVector.fromMemorySegment(F, up, ub + 4 * (c + i), LE)).intoArray(b, i);
                    }
                    for (; i < n; i++) {
                        b[i] *= up.get(FL, ub + 4 * (c + i));
                    }
                }
                MemorySegment.copy(b, 0, out, FL, ob + 4 * c, n);
            }
        }
    }

    enum BinaryOp { ADD, MUL }

    /**
     * {@code out = a op b} over contiguous a / out; b is either the same size (step 0 = none), a row
     * of {@code rowLength} repeated over every row, or a single value.
     */
    static final class Binary extends RangeTask {
        enum Mode { SAME, ROW, SCALAR }

        private BinaryOp op;
        private Mode mode;
        private MemorySegment a;
        private MemorySegment b;
        private MemorySegment out;
        private long rowLength;
        private float scalar;
        private long ab, bb, ob;

        /** Segments are whole storages; ab / bb / ob are the byte offsets of the first element. */
        int set(BinaryOp op, Mode mode, MemorySegment a, long ab, MemorySegment b, long bb, MemorySegment out, long ob,
                long n, long rowLength, float scalar) {
            this.op = op;
            this.mode = mode;
            this.a = a;
            this.b = b;
            this.out = out;
            this.ab = ab;
            this.bb = bb;
            this.ob = ob;
            this.rowLength = rowLength;
            this.scalar = scalar;
            if (mode == Mode.ROW) {
                long rows = n / rowLength;
                return split(rows, Math.max(1, GRAIN / Math.max(1, rowLength)));
            }
            return split(n, GRAIN);
        }

        void release() {
            a = b = out = null;
        }

        @Override
        void range(long from, long to, int worker) {
            switch (mode) {
                case SAME -> apply(ab + 4 * from, bb + 4 * from, ob + 4 * from, to - from);
                case SCALAR -> applyScalar(from, to);
                case ROW -> {
                    for (long r = from; r < to; r++) {
                        apply(ab + 4 * r * rowLength, bb, ob + 4 * r * rowLength, rowLength);
                    }
                }
            }
        }

        private void apply(long abyte, long bbyte, long obyte, long n) {
            boolean add = op == BinaryOp.ADD;
            long i = 0;
            for (; i + L <= n; i += L) {
                FloatVector x = FloatVector.fromMemorySegment(F, a, abyte + 4 * i, LE);
                FloatVector y = FloatVector.fromMemorySegment(F, b, bbyte + 4 * i, LE);
                (add ? x.add(y) : x.mul(y)).intoMemorySegment(out, obyte + 4 * i, LE);
            }
            if (i < n) {
                VectorMask<Float> m = F.indexInRange(i, n);
                FloatVector x = FloatVector.fromMemorySegment(F, a, abyte + 4 * i, LE, m);
                FloatVector y = FloatVector.fromMemorySegment(F, b, bbyte + 4 * i, LE, m);
                (add ? x.add(y) : x.mul(y)).intoMemorySegment(out, obyte + 4 * i, LE, m);
            }
        }

        private void applyScalar(long from, long to) {
            boolean add = op == BinaryOp.ADD;
            float s = scalar;
            long i = from;
            for (; i + L <= to; i += L) {
                FloatVector x = FloatVector.fromMemorySegment(F, a, ab + 4 * i, LE);
                (add ? x.add(s) : x.mul(s)).intoMemorySegment(out, ob + 4 * i, LE);
            }
            if (i < to) {
                VectorMask<Float> m = F.indexInRange(i, to);
                FloatVector x = FloatVector.fromMemorySegment(F, a, ab + 4 * i, LE, m);
                (add ? x.add(s) : x.mul(s)).intoMemorySegment(out, ob + 4 * i, LE, m);
            }
        }
    }
}
