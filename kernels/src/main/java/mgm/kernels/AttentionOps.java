package mgm.kernels;

import static mgm.kernels.CudaBackend.address;

import mgm.runtime.DType;
import mgm.runtime.OpChecks;
import mgm.runtime.Tensor;

/** rope, attention (split-K decode, flash prefill on tensor cores or fp32, row-wise) and windowAttention. */
final class AttentionOps {
    private final CudaBackend be;

    AttentionOps(CudaBackend be) {
        this.be = be;
    }

    void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        String op = "rope";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "invFreq", invFreq);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, invFreq, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "x", x, 3);
        OpChecks.sameShape(op, "x", x, "out", out);
        long T = x.dim(0), H = x.dim(1), Dh = x.dim(2);
        OpChecks.require(Dh % 2 == 0, op, "head dim " + Dh + " must be even");
        OpChecks.dtype(op, "invFreq", invFreq, DType.F32);
        OpChecks.shape(op, "invFreq", invFreq, Dh / 2);
        OpChecks.require(startPos >= 0, op, "startPos " + startPos + " is negative");
        long n = T * H * (Dh / 2);
        if (n == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.unitLast(x);
            Tensor o = out == x && xs == x ? x : (out.stride(2) == 1 ? out : sc.tensor(DType.F32, out.shape()));
            Tensor f = sc.dense(invFreq);
            be.args().ptr(address(xs)).i64(xs.stride(0)).i64(xs.stride(1)).ptr(address(o)).i64(o.stride(0)).i64(o.stride(1))
                    .ptr(address(f)).i32((int) T).i32((int) H).i32((int) Dh).i32(startPos);
            be.launch(Modules.ROPE, "rope_half", be.gridFor(n), 1, 1, 256, 0);
            sc.commit(o, out);
        }
    }

    void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        String op = "attention";
        OpChecks.notNull(op, "q", q);
        OpChecks.notNull(op, "k", k);
        OpChecks.notNull(op, "v", v);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), q, k, v, out);
        OpChecks.dtype(op, "q", q, DType.F32);
        OpChecks.dtype(op, "k", k, DType.F32, DType.F16, DType.BF16);
        OpChecks.dtype(op, "v", v, DType.F32, DType.F16, DType.BF16);
        OpChecks.require(k.dtype() == v.dtype(), op, "k " + k.describe() + " and v " + v.describe() + " must have one dtype");
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "q", q, 3);
        OpChecks.rank(op, "k", k, 3);
        long T = q.dim(0), Hq = q.dim(1), Dh = q.dim(2), S = k.dim(0), Hkv = k.dim(1);
        OpChecks.shape(op, "k", k, S, Hkv, Dh);
        OpChecks.shape(op, "v", v, S, Hkv, Dh);
        OpChecks.sameShape(op, "q", q, "out", out);
        OpChecks.require(Hkv > 0 && Hq % Hkv == 0, op, "query heads " + Hq + " must be a multiple of kv heads " + Hkv);
        OpChecks.require(Dh <= 1024, op, "head dim " + Dh + " above 1024 is not supported on CUDA");
        OpChecks.require(!causal || queryStart >= 0, op, "queryStart " + queryStart + " is negative");
        OpChecks.require(!causal || queryStart + T <= S, op, "causal queries at positions " + queryStart + ".."
                + (queryStart + T - 1) + " need " + (queryStart + T) + " keys, got " + S);
        if (T == 0 || Hq == 0 || Dh == 0) {
            return;
        }
        long visible = causal ? Math.min(S, (long) queryStart + T) : S;
        OpChecks.require(visible > 0, op, "no key is visible (S = " + S + ", queryStart = " + queryStart + ")");
        try (OpScratch sc = new OpScratch(be)) {
            Tensor qs = sc.unitLast(q), ks = sc.unitLast(k), vs = sc.unitLast(v);
            Tensor o = out.stride(-1) == 1 ? out : sc.tensor(DType.F32, out.shape());
            int dt = ks.dtype().ordinal();
            if (T == 1 && Dh <= 256) {
                decodeAttention(qs, ks, vs, dt, scale, (int) visible, (int) Hq, (int) Hkv, (int) Dh, o, sc);
            } else {
                be.args().ptr(address(qs)).i64(qs.stride(0)).i64(qs.stride(1)).ptr(address(ks)).ptr(address(vs)).i32(dt)
                        .i64(ks.stride(0)).i64(ks.stride(1)).i64(vs.stride(0)).i64(vs.stride(1)).ptr(address(o)).i64(o.stride(0))
                        .i64(o.stride(1)).f32(scale).i32(causal ? 1 : 0).i32(queryStart).i32((int) T).i32((int) S).i32((int) Hq)
                        .i32((int) Hkv).i32((int) Dh);
                int tcShared = tensorCoreAttentionBytes((int) Dh);
                if (ks.dtype() != DType.F32 && (Dh == 64 || Dh == 80 || Dh == 96 || Dh == 128)
                        && tcShared <= be.driver().info().maxSharedPerBlock()) {
                    be.args.i32(be.attentionExact() ? 1 : 0);
                    be.launch(Modules.ATTENTION, "attn_prefill_tc", (int) ((T + 63) / 64), (int) Hq, 1, 128, tcShared);
                } else if (Dh <= 256) {
                    int shared = 4 * (int) (32 * Dh + 32 * (Dh + 1) + 32 * 33);
                    be.launch(Modules.ATTENTION, "attn_prefill", (int) ((T + 31) / 32), (int) Hq, 1, 128, shared);
                } else {
                    be.launch(Modules.ATTENTION, "attn_rowwise", (int) T, (int) Hq, 1, 256, 4 * (int) (8 * Dh + 16));
                }
            }
            sc.commit(o, out);
        }
    }

    /** Backend.windowAttention as one fused kernel: a block per token scores its window, softmaxes and sums. */
    void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        String op = "windowAttention";
        OpChecks.windowAttention(be.device(), q, map, window, out);
        long d = map.dim(2);
        long rows = map.dim(0) / window, cols = map.dim(1) / window;
        long T = rows * cols;
        OpChecks.require(d <= Integer.MAX_VALUE && T <= Integer.MAX_VALUE && (long) window * window <= 8192, op, "too large");
        if (T == 0 || d == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            Tensor m = sc.unitLast(map);
            be.args().ptr(address(q)).ptr(address(m)).i64(m.stride(0)).i64(m.stride(1)).i32((int) cols).i32(window).i32((int) d)
                    .f32(scale).ptr(address(out));
            be.launch(Modules.ATTENTION, "window_attention", (int) T, 1, 1, 256, 4 * window * window);
        }
    }

    /** Dynamic shared memory of attn_prefill_tc (layout in attention.cu). */
    static int tensorCoreAttentionBytes(int dh) {
        int ldq = dh + 8, ldp = 32 + 8, lds = 32 + 4;
        return 2 * (3 * 64 * ldq + 2 * 32 * ldq + 3 * 64 * ldp) + 4 * (64 * lds + 3 * 64 + 256);
    }

    /** Split-K decode: chunks of keys in parallel, then a merge. S here is the visible key count. */
    private void decodeAttention(Tensor q, Tensor k, Tensor v, int dt, float scale, int S, int Hq, int Hkv, int Dh, Tensor out,
                                 OpScratch sc) {
        int group = Hq / Hkv;
        int gb = 1;  // query heads per block: the largest divisor of the group within the kernel's limits
        for (int g = 1; g <= Math.min(group, 8); g++) {
            if (group % g == 0 && g * Dh <= 2048) {
                gb = g;
            }
        }
        int blocksPerSplit = Hq / gb;
        int wantSplits = Math.max(1, (2 * be.sms() + blocksPerSplit - 1) / blocksPerSplit);
        int chunk = Math.max(32, (S + wantSplits - 1) / wantSplits);
        chunk = (chunk + 31) / 32 * 32;
        int splits = (S + chunk - 1) / chunk;
        Tensor partO = sc.tensor(DType.F32, (long) Hq * splits * Dh);
        Tensor partMl = sc.tensor(DType.F32, (long) Hq * splits * 2);
        int shared = 4 * (gb * Dh + 32 * (Dh + 1) + gb * 32 + 3 * gb);
        be.args().ptr(address(q)).i64(q.stride(1)).ptr(address(k)).ptr(address(v)).i32(dt).i64(k.stride(0)).i64(k.stride(1))
                .i64(v.stride(0)).i64(v.stride(1)).f32(scale).i32(S).i32(Hq).i32(Hkv).i32(Dh).i32(gb).i32(chunk)
                .ptr(address(partO)).ptr(address(partMl));
        be.launch(Modules.ATTENTION, "attn_decode_split", blocksPerSplit, splits, 1, 128, shared);
        be.args().ptr(address(partO)).ptr(address(partMl)).i32(splits).i32(Dh).ptr(address(out)).i64(out.stride(1));
        be.launch(Modules.ATTENTION, "attn_decode_merge", Hq, 1, 1, 128, 0);
    }
}
