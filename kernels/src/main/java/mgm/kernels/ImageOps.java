package mgm.kernels;

import static mgm.kernels.CudaBackend.address;

import mgm.runtime.DType;
import mgm.runtime.OpChecks;
import mgm.runtime.Tensor;

/** Depthwise convolution and bilinear resize (channels-last images). */
final class ImageOps {
    private final CudaBackend be;

    ImageOps(CudaBackend be) {
        this.be = be;
    }

    void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        String op = "depthwiseConv2d";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "w", w, 4);
        OpChecks.dtype(op, "w", w, DType.F32, DType.F16, DType.BF16);
        OpChecks.require(padding >= 0, op, "padding " + padding + " is negative");
        long N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), k = w.dim(2);
        OpChecks.shape(op, "w", w, C, 1, k, k);
        long Ho = H + 2L * padding - k + 1, Wo = W + 2L * padding - k + 1;
        OpChecks.require(Ho >= 0 && Wo >= 0, op, "kernel " + k + " larger than the padded input");
        if (bias != null) {
            OpChecks.dtype(op, "bias", bias, DType.F32);
            OpChecks.shape(op, "bias", bias, C);
        }
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.shape(op, "out", out, N, Ho, Wo, C);
        long n = out.numel();
        if (n == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.dense(x), ws = sc.dense(w), b = sc.dense(bias), o = sc.target(out, true);
            be.args().ptr(address(xs)).ptr(address(ws)).i32(ws.dtype().ordinal()).ptr(b == null ? 0 : address(b)).ptr(address(o))
                    .i32((int) N).i32((int) H).i32((int) W).i32((int) C).i32((int) k).i32(padding).i32((int) Ho).i32((int) Wo);
            be.launch(Modules.CONV, "depthwise_conv2d", be.gridFor(n), 1, 1, 256, 0);
            sc.commit(o, out);
        }
    }

    void resizeBilinear(Tensor x, Tensor out) {
        String op = "resizeBilinear";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "out", out, 4);
        long N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), Ho = out.dim(1), Wo = out.dim(2);
        OpChecks.shape(op, "out", out, N, -1, -1, C);
        long n = out.numel();
        if (n == 0) {
            return;
        }
        OpChecks.require(H > 0 && W > 0, op, "empty input " + x.describe());
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.dense(x), o = sc.target(out, true);
            be.args().ptr(address(xs)).ptr(address(o)).i32((int) N).i32((int) H).i32((int) W).i32((int) C).i32((int) Ho)
                    .i32((int) Wo)
                    .f32((float) H / (float) Ho).f32((float) W / (float) Wo);
            be.launch(Modules.RESIZE, "resize_bilinear", be.gridFor(n), 1, 1, 256, 0);
            sc.commit(o, out);
        }
    }
}
