package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import mgm.runtime.DType;
import mgm.runtime.Numerics;
import mgm.runtime.Quant;
import mgm.runtime.Tensor;

/**
 * Writes row-major Java arrays into host tensors of any view and output dtype (the reference
 * backend's way of producing results; converting and quantising as it goes).
 */
final class HostArrays {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private HostArrays() {}

    /** {@code dst = values} (row-major over dst's shape), converted to dst's dtype. */
    static void write(Tensor dst, float[] values) {
        MemorySegment seg = dst.storage().segment();
        if (dst.dtype().isQuantized()) {
            long row = dst.dim(-1);
            forEachRow(dst, (rowStart, r) -> {
                long at = dst.byteOffsetOf(rowStart);
                int from = (int) (r * row);
                if (dst.dtype() == DType.Q8_0) {
                    Quant.quantizeQ8_0(values, from, (int) row, seg, at);
                } else {
                    Quant.quantizeQ4_0(values, from, (int) row, seg, at);
                }
            });
            return;
        }
        long[] idx = new long[dst.rank()];
        long[] strides = dst.strides();
        long[] shape = dst.shape();
        for (int i = 0; i < values.length; i++) {
            long e = dst.offset();
            for (int d = 0; d < idx.length; d++) {
                e += idx[d] * strides[d];
            }
            long at = dst.byteOffsetOf(e);
            float v = values[i];
            switch (dst.dtype()) {
                case F32 -> seg.set(F32, at, v);
                case F16 -> seg.set(I16, at, Numerics.f32ToF16(v));
                case BF16 -> seg.set(I16, at, Numerics.f32ToBf16(v));
                case F64 -> seg.set(F64, at, v);
                case I32 -> seg.set(I32, at, (int) v);
                case I64 -> seg.set(I64, at, (long) v);
                case I8 -> seg.set(ValueLayout.JAVA_BYTE, at, (byte) v);
                default -> throw new IllegalArgumentException("cannot write dtype " + dst.dtype());
            }
            increment(idx, shape);
        }
    }

    /** {@code dst = values} for integer outputs (exact; no float round trip). */
    static void writeInts(Tensor dst, int[] values) {
        MemorySegment seg = dst.storage().segment();
        long[] idx = new long[dst.rank()];
        long[] strides = dst.strides();
        long[] shape = dst.shape();
        for (int v : values) {
            long e = dst.offset();
            for (int d = 0; d < idx.length; d++) {
                e += idx[d] * strides[d];
            }
            long at = dst.byteOffsetOf(e);
            switch (dst.dtype()) {
                case I32 -> seg.set(I32, at, v);
                case I64 -> seg.set(I64, at, v);
                case I8 -> seg.set(ValueLayout.JAVA_BYTE, at, (byte) v);
                case F32 -> seg.set(F32, at, v);
                case F16 -> seg.set(I16, at, Numerics.f32ToF16(v));
                case BF16 -> seg.set(I16, at, Numerics.f32ToBf16(v));
                case F64 -> seg.set(F64, at, v);
                default -> throw new IllegalArgumentException("cannot write dtype " + dst.dtype());
            }
            increment(idx, shape);
        }
    }

    interface RowVisitor {
        void visit(long rowStartElement, long rowNumber);
    }

    /** Calls {@code visitor} with the storage element index of each last-dim row, in row-major order. */
    static void forEachRow(Tensor t, RowVisitor visitor) {
        int lead = t.rank() - 1;
        long[] shape = t.shape();
        long[] strides = t.strides();
        long rows = 1;
        for (int d = 0; d < lead; d++) {
            rows *= shape[d];
        }
        long[] idx = new long[lead];
        for (long r = 0; r < rows; r++) {
            long e = t.offset();
            for (int d = 0; d < lead; d++) {
                e += idx[d] * strides[d];
            }
            visitor.visit(e, r);
            for (int d = lead - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    private static void increment(long[] idx, long[] shape) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                return;
            }
            idx[d] = 0;
        }
    }
}
