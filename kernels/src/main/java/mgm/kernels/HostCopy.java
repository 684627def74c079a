package mgm.kernels;

import java.lang.foreign.MemorySegment;
import mgm.runtime.Tensor;

/** Host-side byte copies between a contiguous host tensor and a strided host view of the same dtype. */
final class HostCopy {
    private HostCopy() {}

    /** dst = src element by element (whole blocks for quantised dtypes); src contiguous, same shape and dtype. */
    static void scatter(Tensor src, Tensor dst) {
        long unit = dst.dtype().blockBytes();
        int bs = dst.dtype().blockSize();
        long[] shape = dst.shape(), strides = dst.strides();
        int rank = shape.length;
        long count = dst.numel() / bs;
        MemorySegment from = src.segment();
        MemorySegment to = dst.storage().segment();
        long[] idx = new long[rank];
        for (long i = 0; i < count; i++) {
            long e = dst.offset();
            for (int d = 0; d < rank; d++) {
                e += idx[d] * strides[d] * (d == rank - 1 ? bs : 1);
            }
            MemorySegment.copy(from, i * unit, to, dst.byteOffsetOf(e), unit);
            for (int d = rank - 1; d >= 0; d--) {
                long size = d == rank - 1 ? shape[d] / bs : shape[d];
                if (++idx[d] < size) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}
