package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
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
    /** Elements per chunk: enough work to amortise a chunk claim, small enough to balance. */
    static final long GRAIN = 16 * 1024;

    /** {@code out = act(x)} or, with {@code up != null}, {@code out = act(x) * up}. */
    static final class Activate extends RangeTask {
        private Activation act;
        private MemorySegment x;
        private MemorySegment up;
        private MemorySegment out;

        int set(Activation act, MemorySegment x, MemorySegment up, MemorySegment out, long n) {
            this.act = act;
            this.x = x;
            this.up = up;
            this.out = out;
            return split(n, GRAIN);
        }

        void release() {
            x = up = out = null;
        }

        @Override
        void range(long from, long to, int worker) {
            Activation a = act;
            long i = from;
            for (; i + L <= to; i += L) {
                FloatVector v = VecMath.apply(a, FloatVector.fromMemorySegment(F, x, 4 * i, LE));
                if (up != null) {
                    v = v.mul(FloatVector.fromMemorySegment(F, up, 4 * i, LE));
                }
                v.intoMemorySegment(out, 4 * i, LE);
            }
            if (i < to) {
                VectorMask<Float> m = F.indexInRange(i, to);
                FloatVector v = VecMath.apply(a, FloatVector.fromMemorySegment(F, x, 4 * i, LE, m));
                if (up != null) {
                    v = v.mul(FloatVector.fromMemorySegment(F, up, 4 * i, LE, m));
                }
                v.intoMemorySegment(out, 4 * i, LE, m);
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

        int set(BinaryOp op, Mode mode, MemorySegment a, MemorySegment b, MemorySegment out, long n, long rowLength, float scalar) {
            this.op = op;
            this.mode = mode;
            this.a = a;
            this.b = b;
            this.out = out;
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
                case SAME -> apply(a, b, out, 4 * from, 4 * from, to - from);
                case SCALAR -> applyScalar(from, to);
                case ROW -> {
                    for (long r = from; r < to; r++) {
                        apply(a, b, out, 4 * r * rowLength, 0, rowLength);
                    }
                }
            }
        }

        private void apply(MemorySegment a, MemorySegment b, MemorySegment out, long abyte, long bbyte, long n) {
            boolean add = op == BinaryOp.ADD;
            long i = 0;
            for (; i + L <= n; i += L) {
                FloatVector x = FloatVector.fromMemorySegment(F, a, abyte + 4 * i, LE);
                FloatVector y = FloatVector.fromMemorySegment(F, b, bbyte + 4 * i, LE);
                (add ? x.add(y) : x.mul(y)).intoMemorySegment(out, abyte + 4 * i, LE);
            }
            if (i < n) {
                VectorMask<Float> m = F.indexInRange(i, n);
                FloatVector x = FloatVector.fromMemorySegment(F, a, abyte + 4 * i, LE, m);
                FloatVector y = FloatVector.fromMemorySegment(F, b, bbyte + 4 * i, LE, m);
                (add ? x.add(y) : x.mul(y)).intoMemorySegment(out, abyte + 4 * i, LE, m);
            }
        }

        private void applyScalar(long from, long to) {
            boolean add = op == BinaryOp.ADD;
            float s = scalar;
            long i = from;
            for (; i + L <= to; i += L) {
                FloatVector x = FloatVector.fromMemorySegment(F, a, 4 * i, LE);
                (add ? x.add(s) : x.mul(s)).intoMemorySegment(out, 4 * i, LE);
            }
            if (i < to) {
                VectorMask<Float> m = F.indexInRange(i, to);
                FloatVector x = FloatVector.fromMemorySegment(F, a, 4 * i, LE, m);
                (add ? x.add(s) : x.mul(s)).intoMemorySegment(out, 4 * i, LE, m);
            }
        }
    }
}
