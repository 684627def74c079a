package mgm.kernels;

import java.util.ArrayList;
import java.util.List;
import mgm.runtime.Tensor;

/** Shape arithmetic for launching kernels on strided views. */
final class Views {
    private Views() {}

    /**
     * The views of several same-shape tensors with size-1 dims dropped and adjacent dims merged
     * wherever every tensor allows it (dim d and d+1 merge when stride[d] == stride[d+1] * size[d+1]
     * in all of them). Row-major element order is unchanged, so one linear index still walks all of
     * them in step. {@code strides[i]} are the strides of tensor i.
     */
    record Collapsed(long[] shape, long[][] strides) {
        int rank() {
            return shape.length;
        }

        /** Tensor i is dense in row-major order (one run with unit stride). */
        boolean dense(int i) {
            return shape.length == 0 || (shape.length == 1 && strides[i][0] == 1);
        }
    }

    static Collapsed collapse(long[] shape, long[]... strides) {
        List<long[]> dims = new ArrayList<>();  // [size, stride0, stride1, ...]
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            long[] dim = new long[1 + strides.length];
            dim[0] = shape[d];
            for (int i = 0; i < strides.length; i++) {
                dim[1 + i] = strides[i][d];
            }
            if (!dims.isEmpty()) {
                long[] prev = dims.get(dims.size() - 1);
                boolean merge = true;
                for (int i = 0; i < strides.length && merge; i++) {
                    merge = prev[1 + i] == dim[1 + i] * dim[0];
                }
                if (merge) {
                    prev[0] *= dim[0];
                    for (int i = 0; i < strides.length; i++) {
                        prev[1 + i] = dim[1 + i];
                    }
                    continue;
                }
            }
            dims.add(dim);
        }
        long[] s = new long[dims.size()];
        long[][] st = new long[strides.length][dims.size()];
        for (int d = 0; d < dims.size(); d++) {
            s[d] = dims.get(d)[0];
            for (int i = 0; i < strides.length; i++) {
                st[i][d] = dims.get(d)[1 + i];
            }
        }
        return new Collapsed(s, st);
    }

    /**
     * t as rows of its last dim: the distance in elements between consecutive rows, when the last
     * dim has unit stride and the leading dims walk rows at one uniform stride; -1 otherwise.
     */
    static long rowStride(Tensor t) {
        int r = t.rank();
        if (r == 0) {
            return 1;
        }
        long d = t.dim(-1);
        if (d != 1 && t.stride(-1) != 1) {
            return -1;
        }
        long[] lead = new long[r - 1];
        long[] leadStrides = new long[r - 1];
        for (int i = 0; i < r - 1; i++) {
            lead[i] = t.dim(i);
            leadStrides[i] = t.stride(i);
        }
        Collapsed c = collapse(lead, leadStrides);
        if (c.rank() == 0) {
            return Math.max(d, 1);
        }
        return c.rank() == 1 ? c.strides()[0][0] : -1;
    }

    /** Number of rows of t seen as [rows, last dim]. */
    static long rows(Tensor t) {
        long d = t.rank() == 0 ? 1 : t.dim(-1);
        return d == 0 ? 0 : t.numel() / d;
    }
}
