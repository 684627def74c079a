package mgm.kernels;

import static mgm.kernels.CudaBackend.address;

import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.OpChecks;
import mgm.runtime.Tensor;

/** Element-wise ops: activations, gated activations, add / mul with broadcast, scale. */
final class PointwiseOps {
    private final CudaBackend be;

    PointwiseOps(CudaBackend be) {
        this.be = be;
    }

    void activation(Activation act, Tensor x, Tensor out) {
        String op = "activation";
        OpChecks.require(act != null, op, "activation is null");
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        long n = x.numel();
        if (n == 0) {
            return;
        }
        Views.Collapsed c = Views.collapse(x.shape(), out.strides(), x.strides());
        if (c.dense(0) && c.dense(1)) {
            be.args().i32(act.ordinal()).ptr(address(x)).ptr(address(out)).i64(n);
            be.launch(Modules.ELEMENTWISE, "activation_contig", be.gridFor(n), 1, 1, 256, 0);
        } else {
            be.args().i32(act.ordinal()).ptr(address(x)).view(c.shape(), c.strides()[1]).ptr(address(out))
                    .view(c.shape(), c.strides()[0]).i64(n);
            be.launch(Modules.ELEMENTWISE, "activation_strided", be.gridFor(n), 1, 1, 256, 0);
        }
    }

    void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        String op = "gatedActivation";
        OpChecks.require(act != null, op, "activation is null");
        OpChecks.notNull(op, "gate", gate);
        OpChecks.notNull(op, "up", up);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), gate, up, out);
        OpChecks.dtype(op, "gate", gate, DType.F32);
        OpChecks.dtype(op, "up", up, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "gate", gate, "up", up);
        OpChecks.sameShape(op, "gate", gate, "out", out);
        long n = gate.numel();
        if (n == 0) {
            return;
        }
        Views.Collapsed c = Views.collapse(gate.shape(), out.strides(), gate.strides(), up.strides());
        if (c.dense(0) && c.dense(1) && c.dense(2)) {
            be.args().i32(act.ordinal()).ptr(address(gate)).ptr(address(up)).ptr(address(out)).i64(n);
            be.launch(Modules.ELEMENTWISE, "gated_contig", be.gridFor(n), 1, 1, 256, 0);
        } else {
            be.args().i32(act.ordinal()).ptr(address(gate)).view(c.shape(), c.strides()[1]).ptr(address(up))
                    .view(c.shape(), c.strides()[2]).ptr(address(out)).view(c.shape(), c.strides()[0]).i64(n);
            be.launch(Modules.ELEMENTWISE, "gated_strided", be.gridFor(n), 1, 1, 256, 0);
        }
    }

    void binary(String op, int code, Tensor a, Tensor b, Tensor out) {
        OpChecks.notNull(op, "a", a);
        OpChecks.notNull(op, "b", b);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), a, b, out);
        OpChecks.dtype(op, "a", a, DType.F32);
        OpChecks.dtype(op, "b", b, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.broadcastable(op, a, b);
        OpChecks.sameShape(op, "a", a, "out", out);
        long n = a.numel();
        if (n == 0) {
            return;
        }
        Tensor bb = b.broadcastTo(a.shape());
        Views.Collapsed c = Views.collapse(a.shape(), out.strides(), a.strides(), bb.strides());
        long period = -1;
        if (c.dense(0) && c.dense(1) && c.dense(2)) {
            period = n;
        } else if (c.rank() == 2 && c.strides()[0][0] == c.shape()[1] && c.strides()[0][1] == 1
                && c.strides()[1][0] == c.shape()[1]
                && c.strides()[1][1] == 1 && c.strides()[2][0] == 0 && c.strides()[2][1] == 1) {
            period = c.shape()[1];  // a row vector (a bias) repeated over dense rows
        }
        if (period > 0) {
            be.args().i32(code).ptr(address(a)).ptr(address(b)).i64(period).ptr(address(out)).i64(n);
            be.launch(Modules.ELEMENTWISE, "binary_contig", be.gridFor(n / 4 + 1), 1, 1, 256, 0);
        } else {
            be.args().i32(code).ptr(address(a)).view(c.shape(), c.strides()[1]).ptr(address(b)).view(c.shape(), c.strides()[2])
                    .ptr(address(out)).view(c.shape(), c.strides()[0]).i64(n);
            be.launch(Modules.ELEMENTWISE, "binary_strided", be.gridFor(n), 1, 1, 256, 0);
        }
    }

    void scale(Tensor x, float s, Tensor out) {
        String op = "scale";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        long n = x.numel();
        if (n == 0) {
            return;
        }
        Views.Collapsed c = Views.collapse(x.shape(), out.strides(), x.strides());
        if (c.dense(0) && c.dense(1)) {
            be.args().ptr(address(x)).f32(s).ptr(address(out)).i64(n);
            be.launch(Modules.ELEMENTWISE, "scale_contig", be.gridFor(n), 1, 1, 256, 0);
        } else {
            be.args().ptr(address(x)).view(c.shape(), c.strides()[1]).f32(s).ptr(address(out)).view(c.shape(), c.strides()[0])
                    .i64(n);
            be.launch(Modules.ELEMENTWISE, "scale_strided", be.gridFor(n), 1, 1, 256, 0);
        }
    }
}
