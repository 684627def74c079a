package mgm.kernels;

import java.util.ArrayList;
import java.util.List;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/** Temporaries of one op (contiguous copies of views a kernel cannot read, output staging), released when it ends. */
/** Temporaries of one op, released when it ends. */
final class OpScratch implements AutoCloseable {
    private final CudaBackend be;
    private final List<Tensor> owned = new ArrayList<>();

    OpScratch(CudaBackend be) {
        this.be = be;
    }

    Tensor tensor(DType dtype, long... shape) {
        Tensor t = be.deviceTensor(dtype, shape);
        owned.add(t);
        return t;
    }

    /** t itself when its rows are evenly spaced with a unit last stride, else a contiguous copy. */
    Tensor rows(Tensor t) {
        if (Views.rowStride(t) >= 0) {
            return t;
        }
        Tensor c = tensor(t.dtype(), t.shape());
        be.copy(t, c);
        return c;
    }

    /** t itself when contiguous, else a contiguous copy. */
    Tensor dense(Tensor t) {
        if (t == null || t.isContiguous()) {
            return t;
        }
        Tensor c = tensor(t.dtype(), t.shape());
        be.copy(t, c);
        return c;
    }

    /** Where to write `out`: itself when the kernel can, else scratch copied back by {@link #commit}. */
    Tensor target(Tensor out, boolean needDense) {
        boolean ok = needDense ? out.isContiguous() : Views.rowStride(out) >= 0;
        return ok ? out : tensor(out.dtype(), out.shape());
    }

    void commit(Tensor written, Tensor out) {
        if (written != out) {
            be.copy(written, out);
        }
    }

    @Override
    public void close() {
        for (Tensor t : owned) {
            t.close();
        }
    }

    /** t when its last dim has unit stride (or size 1), else a contiguous copy. */
    Tensor unitLast(Tensor t) {
        if (t.stride(-1) == 1 || t.dim(-1) == 1) {
            return t;
        }
        Tensor c = tensor(t.dtype(), t.shape());
        be.copy(t, c);
        return c;
    }
}
