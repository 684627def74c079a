package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.DType;
import mgm.runtime.Numerics;
import mgm.runtime.Quant;
import mgm.runtime.Tensor;

/**
 * Data movement with dtype conversion, parallel over rows: {@code copy} (contiguous runs, any
 * strided view of the float dtypes, F32 to / from Q8_0 / Q4_0 through {@link Quant} so the bits are
 * GGML's) and the {@code embedding} gather. A "row" is a run along the last dimension; row r's
 * position comes from its multi-index over the leading dims.
 */
final class ConvertTask extends RangeTask {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final int MAX_RANK = 8;

    private final float[][] buf;
    private MemorySegment src, dst, ids;
    private DType srcType, dstType;
    private int rank;
    private final long[] shape = new long[MAX_RANK];
    private final long[] srcStride = new long[MAX_RANK];
    private final long[] dstStride = new long[MAX_RANK];
    private long srcOffset, dstOffset, idsOffset, rowLength;
    private boolean gather;

    ConvertTask(int threads) {
        buf = new float[threads][0];
    }

    /** Strided (or contiguous) copy of a [..., rowLength] view; offsets and strides in elements. */
    int setCopy(Tensor srcT, Tensor dstT, long dstOffset, int threads) {
        this.gather = false;
        this.src = srcT.storage().segment();
        this.dst = dstT.storage().segment();
        this.srcType = srcT.dtype();
        this.dstType = dstT.dtype();
        this.srcOffset = srcT.offset();
        this.dstOffset = dstOffset;
        this.rank = srcT.rank();
        // dims and strides read one by one (Tensor.shape() / strides() return copies: a decode step allocates nothing)
        long elements = 1;
        for (int d = 0; d < rank; d++) {
            shape[d] = srcT.dim(d);
            srcStride[d] = srcT.stride(d);
            dstStride[d] = dstT.stride(d);
            elements *= shape[d];
        }
        rowLength = shape[rank - 1];
        ensureBuffers((int) Math.min(rowLength, 1 << 16));
        long rows = rowLength == 0 ? 0 : elements / rowLength;
        return split(rows, grainFor(rows, threads, Math.max(1, 8192 / Math.max(1, rowLength))));
    }

    /** Embedding gather: out[t, :] = table[ids[t], :]; the caller checked every id. */
    int setGather(Tensor table, Tensor idsT, Tensor out, long outRowStride, int threads) {
        long tokens = idsT.dim(0);
        long d = table.dim(1);
        long tableRowElems = d;
        this.gather = true;
        // whole storages and element offsets (Tensor.segment() slices: a decode step allocates nothing)
        this.src = table.storage().segment();
        this.srcType = table.dtype();
        this.dst = out.storage().segment();
        this.dstType = DType.F32;
        this.ids = idsT.storage().segment();
        this.idsOffset = idsT.offset();
        this.rank = 2;
        this.shape[0] = tokens;
        this.shape[1] = d;
        this.srcStride[0] = tableRowElems;
        this.srcStride[1] = 1;
        this.dstStride[0] = outRowStride;
        this.dstStride[1] = 1;
        this.srcOffset = table.offset();
        this.dstOffset = out.offset();
        this.rowLength = d;
        ensureBuffers((int) Math.min(d, 1 << 16));
        return split(tokens, grainFor(tokens, threads, 1));
    }

    private void ensureBuffers(int n) {
        int need = Math.max(32, (n + 31) / 32 * 32);
        for (int w = 0; w < buf.length; w++) {
            if (buf[w].length < need) {
                buf[w] = ThreadScratch.floats(need);
            }
        }
    }

    void release() {
        src = dst = ids = null;
    }

    @Override
    void range(long from, long to, int worker) {
        for (long r = from; r < to; r++) {
            long so = srcOffset;
            long dof = dstOffset;
            if (gather) {
                so += ids.get(I32, 4L * (idsOffset + r)) * srcStride[0];
                dof += r * dstStride[0];
            } else {
                long rem = r;
                for (int d = rank - 2; d >= 0; d--) {
                    long i = rem % shape[d];
                    rem /= shape[d];
                    so += i * srcStride[d];
                    dof += i * dstStride[d];
                }
            }
            long ss = srcStride[rank - 1];
            long ds = dstStride[rank - 1];
            if ((ss == 1 || rowLength == 1) && (ds == 1 || rowLength == 1)) {
                run(so, dof, rowLength, buf[worker]);
            } else {
                for (long j = 0; j < rowLength; j++) {
                    write(dst, dstType, dof + j * ds, read(src, srcType, so + j * ss));
                }
            }
        }
    }

    /** n contiguous elements from element so of src to element dof of dst. */
    private void run(long so, long dof, long n, float[] tmp) {
        if (srcType == dstType && !srcType.isQuantized()) {
            int size = srcType.blockBytes();
            MemorySegment.copy(src, so * size, dst, dof * size, n * size);
            return;
        }
        if (srcType.isQuantized() || dstType.isQuantized()) {
            // block-aligned: Quant handles 32-element blocks; chunk through the per-thread buffer
            int chunk = tmp.length / 32 * 32;
            for (long done = 0; done < n; done += chunk) {
                int len = (int) Math.min(chunk, n - done);
                readFloats(so + done, len, tmp);
                writeFloats(dof + done, len, tmp);
            }
            return;
        }
        if (srcType == DType.F32) {
            writeFromF32(so, dof, n);
        } else if (dstType == DType.F32) {
            readToF32(so, dof, n);
        } else {
            for (long j = 0; j < n; j++) {
                write(dst, dstType, dof + j, read(src, srcType, so + j));
            }
        }
    }

    private void readFloats(long so, int len, float[] tmp) {
        if (srcType.isQuantized()) {
            Quant.dequantize(srcType, src, so / 32 * srcType.blockBytes(), len, tmp, 0);
        } else {
            for (int j = 0; j < len; j++) {
                tmp[j] = read(src, srcType, so + j);
            }
        }
    }

    private void writeFloats(long dof, int len, float[] tmp) {
        switch (dstType) {
            case Q8_0 -> Quant.quantizeQ8_0(tmp, 0, len, dst, dof / 32 * dstType.blockBytes());
            case Q4_0 -> Quant.quantizeQ4_0(tmp, 0, len, dst, dof / 32 * dstType.blockBytes());
            default -> {
                for (int j = 0; j < len; j++) {
                    write(dst, dstType, dof + j, tmp[j]);
                }
            }
        }
    }

    /** F32 source to F32 / F16 / BF16 / I32 destination. */
    private void writeFromF32(long so, long dof, long n) {
        for (long j = 0; j < n; j++) {
            write(dst, dstType, dof + j, src.get(FL, 4L * (so + j)));
        }
    }

    /** F16 / BF16 / other source to F32; F16 and BF16 widened in registers ({@link HalfRows}). */
    private void readToF32(long so, long dof, long n) {
        if (srcType == DType.BF16 || srcType == DType.F16) {
            for (long done = 0; done < n; done += 1 << 20) {
                int len = (int) Math.min(1 << 20, n - done);
                HalfRows.widen(src, srcType, 2L * (so + done), len, dst, 4L * (dof + done));
            }
            return;
        }
        for (long j = 0; j < n; j++) {
            dst.set(FL, 4L * (dof + j), read(src, srcType, so + j));
        }
    }

    static float read(MemorySegment seg, DType type, long e) {
        return switch (type) {
            case F32 -> seg.get(FL, 4L * e);
            case F16 -> Numerics.f16ToF32(seg.get(SH, 2L * e));
            case BF16 -> Numerics.bf16ToF32(seg.get(SH, 2L * e));
            case I32 -> seg.get(I32, 4L * e);
            case I8 -> seg.get(ValueLayout.JAVA_BYTE, e);
            default -> throw new IllegalStateException("copy: unsupported source dtype " + type);
        };
    }

    static void write(MemorySegment seg, DType type, long e, float v) {
        switch (type) {
            case F32 -> seg.set(FL, 4L * e, v);
            case F16 -> seg.set(SH, 2L * e, Numerics.f32ToF16(v));
            case BF16 -> seg.set(SH, 2L * e, Numerics.f32ToBf16(v));
            default -> throw new IllegalStateException("copy: unsupported destination dtype " + type);
        }
    }

    private static long product(long[] dims) {
        long p = 1;
        for (long d : dims) {
            p *= d;
        }
        return p;
    }
}
