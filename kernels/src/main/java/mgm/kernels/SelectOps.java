package mgm.kernels;

import static mgm.kernels.CudaBackend.address;

import mgm.runtime.DType;
import mgm.runtime.OpChecks;
import mgm.runtime.Tensor;

/** Selection: topK, argmax and top-p sampling. */
final class SelectOps {
    private final CudaBackend be;

    SelectOps(CudaBackend be) {
        this.be = be;
    }

    void topK(Tensor x, int k, Tensor values, Tensor indices) {
        String op = "topK";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "values", values);
        OpChecks.notNull(op, "indices", indices);
        OpChecks.onDevice(op, be.device(), x, values, indices);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        long M = x.dim(0), N = x.dim(1);
        OpChecks.require(k >= 1 && k <= N, op, "k = " + k + " outside [1, " + N + "]");
        OpChecks.dtype(op, "values", values, DType.F32);
        OpChecks.shape(op, "values", values, M, k);
        OpChecks.dtype(op, "indices", indices, DType.I32);
        OpChecks.shape(op, "indices", indices, M, k);
        if (M == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.rows(x), v = sc.target(values, false), i = sc.target(indices, false);
            be.args().ptr(address(xs)).i64(Views.rowStride(xs)).i32((int) N).i32(k).ptr(address(v)).i64(Views.rowStride(v))
                    .ptr(address(i)).i64(Views.rowStride(i));
            be.launch(Modules.SELECT, "topk_rows", (int) M, 1, 1, CudaBackend.threadsFor(N, 256), 0);
            sc.commit(v, values);
            sc.commit(i, indices);
        }
    }

    void argmax(Tensor x, Tensor out) {
        String op = "argmax";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        OpChecks.dtype(op, "out", out, DType.I32);
        OpChecks.shape(op, "out", out, x.dim(0));
        long M = x.dim(0), N = x.dim(1);
        OpChecks.require(N > 0 || M == 0, op, "rows of x " + x.describe() + " are empty");
        if (M == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.rows(x);
            be.args().ptr(address(xs)).i64(Views.rowStride(xs)).i32((int) N).ptr(address(out)).i64(out.stride(0));
            be.launch(Modules.SELECT, "argmax_rows", (int) M, 1, 1, CudaBackend.threadsFor(N, 1024), 0);
        }
    }

    /**
     * Top-p (nucleus) sampling on the be.device(), one token per row of logits [M, N] F32: probabilities
     * p = softmax(logits / temperature); the nucleus is the set {i : p_i &gt;= tau} for the largest tau
     * whose nucleus mass reaches topP (the shortest prefix of the sorted distribution, ties at its
     * end included); the token is the first one, in index order over the nucleus, whose cumulative
     * probability exceeds {@code uniforms[row] * nucleus mass}. uniforms F32 [M] in [0, 1), out I32 [M].
     */
    void sampleTopP(Tensor logits, float temperature, float topP, Tensor uniforms, Tensor out) {
        String op = "sampleTopP";
        OpChecks.notNull(op, "logits", logits);
        OpChecks.notNull(op, "uniforms", uniforms);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), logits, uniforms, out);
        OpChecks.dtype(op, "logits", logits, DType.F32);
        OpChecks.rank(op, "logits", logits, 2);
        long M = logits.dim(0), N = logits.dim(1);
        OpChecks.require(N > 0, op, "empty rows");
        OpChecks.require(temperature > 0 && Float.isFinite(temperature), op, "temperature " + temperature + " must be > 0");
        OpChecks.require(topP > 0 && topP <= 1, op, "topP " + topP + " outside (0, 1]");
        OpChecks.dtype(op, "uniforms", uniforms, DType.F32);
        OpChecks.shape(op, "uniforms", uniforms, M);
        OpChecks.dtype(op, "out", out, DType.I32);
        OpChecks.shape(op, "out", out, M);
        if (M == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.rows(logits), u = sc.dense(uniforms), o = sc.target(out, true);
            be.args().ptr(address(xs)).i64(Views.rowStride(xs)).i32((int) N).f32(temperature).f32(topP).ptr(address(u))
                    .ptr(address(o));
            be.launch(Modules.SELECT, "sample_top_p", (int) M, 1, 1, 1024, 0);
            sc.commit(o, out);
        }
    }
}
