package mgm.kernels;

import static mgm.kernels.CudaBackend.address;

import mgm.runtime.DType;
import mgm.runtime.OpChecks;
import mgm.runtime.Tensor;

/** Row-wise ops over the last dim: rmsNorm, layerNorm, softmax (one block per row). */
final class RowOps {
    private final CudaBackend be;

    RowOps(CudaBackend be) {
        this.be = be;
    }

    void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        String op = "rmsNorm";
        checkRowOp(op, x, out);
        long D = x.dim(-1);
        checkVector(op, "weight", weight, D);
        rowKernel(Modules.NORM, "rms_norm", x, out, (xs, xStride, o, oStride, sc) -> {
            Tensor wd = sc.dense(weight);
            be.args().ptr(address(xs)).i64(xStride).ptr(address(wd)).i32(wd.dtype().ordinal()).f32(eps).f32(weightOffset)
                    .ptr(address(o)).i64(oStride).i32((int) D);
        });
    }

    void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        String op = "layerNorm";
        checkRowOp(op, x, out);
        long D = x.dim(-1);
        checkVector(op, "weight", weight, D);
        if (bias != null) {
            checkVector(op, "bias", bias, D);
        }
        rowKernel(Modules.NORM, "layer_norm", x, out, (xs, xStride, o, oStride, sc) -> {
            Tensor wd = sc.dense(weight);
            Tensor bd = sc.dense(bias);
            be.args().ptr(address(xs)).i64(xStride).ptr(address(wd)).i32(wd.dtype().ordinal()).ptr(bd == null ? 0 : address(bd))
                    .i32(bd == null ? 0 : bd.dtype().ordinal()).f32(eps).ptr(address(o)).i64(oStride).i32((int) D);
        });
    }

    void softmax(Tensor x, Tensor out) {
        String op = "softmax";
        checkRowOp(op, x, out);
        long D = x.dim(-1);
        rowKernel(Modules.NORM, "softmax_rows", x, out, (xs, xStride, o, oStride, sc) ->
                be.args().ptr(address(xs)).i64(xStride).ptr(address(o)).i64(oStride).i32((int) D));
    }

    private void checkRowOp(String op, Tensor x, Tensor out) {
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        OpChecks.require(x.rank() >= 1, op, "x " + x.describe() + " needs at least one dim");
        OpChecks.require(x.dim(-1) <= Integer.MAX_VALUE, op, "rows longer than 2^31");
    }

    private void checkVector(String op, String name, Tensor v, long d) {
        OpChecks.notNull(op, name, v);
        OpChecks.onDevice(op, be.device(), v);
        OpChecks.dtype(op, name, v, DType.F32, DType.F16, DType.BF16);
        OpChecks.shape(op, name, v, d);
    }

    private interface RowArgs {
        void pack(Tensor x, long xStride, Tensor out, long outStride, OpScratch sc);
    }

    /** One block per row of x seen as [rows, D]. */
    private void rowKernel(String module, String kernel, Tensor x, Tensor out, RowArgs pack) {
        long rows = Views.rows(x), D = x.dim(-1);
        if (rows == 0 || D == 0) {
            return;
        }
        OpChecks.require(rows <= Integer.MAX_VALUE, kernel, "more than 2^31 rows");
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.rows(x);
            Tensor o = out == x && xs == x ? x : sc.target(out, false);
            pack.pack(xs, Views.rowStride(xs), o, Views.rowStride(o), sc);
            be.launch(module, kernel, (int) rows, 1, 1, CudaBackend.threadsFor(D / 4, 1024), 0);
            sc.commit(o, out);
        }
    }
}
