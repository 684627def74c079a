package mgm.kernels;

import static mgm.kernels.CudaBackend.address;

import java.util.Locale;
import mgm.runtime.DType;
import mgm.runtime.OpChecks;
import mgm.runtime.Tensor;

/** Backend.matmul (GEMV for M <= 8, tensor-core or fp32 GEMM, or cuBLAS) and conv2d (implicit GEMM). */
final class LinearOps {
    static final int GEMV_MAX_ROWS = 8;
    /** Dynamic shared memory of the tensor-core GEMM / conv kernels (SMEM_BYTES in gemm.cu). */
    static final int GEMM_SHARED_BYTES = 52736;

    private final CudaBackend be;

    LinearOps(CudaBackend be) {
        this.be = be;
    }

    void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        String op = "matmul";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        OpChecks.rank(op, "w", w, 2);
        OpChecks.require(w.dtype().isWeightType(), op, "w " + w.describe()
                + " must have a weight dtype (F32, F16, BF16, Q8_0, Q4_0)");
        OpChecks.contiguous(op, "w", w);
        long M = x.dim(0), K = x.dim(1), N = w.dim(0);
        OpChecks.shape(op, "w", w, N, K);
        if (bias != null) {
            OpChecks.dtype(op, "bias", bias, DType.F32);
            OpChecks.shape(op, "bias", bias, N);
        }
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.shape(op, "out", out, M, N);
        OpChecks.require(M <= Integer.MAX_VALUE && N <= Integer.MAX_VALUE && K <= Integer.MAX_VALUE, op, "dims above 2^31");
        if (M == 0 || N == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            if (K == 0) {
                zeroThenBias(out, bias, sc);
                return;
            }
            Tensor xs = sc.rows(x);
            Tensor b = sc.dense(bias);
            Tensor o = sc.target(out, false);
            long xStride = Views.rowStride(xs), oStride = Views.rowStride(o);
            DType wt = w.dtype();
            if (M <= GEMV_MAX_ROWS) {
                for (long m0 = 0; m0 < M; m0 += GEMV_MAX_ROWS) {
                    int rows = (int) Math.min(GEMV_MAX_ROWS, M - m0);
                    be.args().ptr(address(xs) + m0 * xStride * 4).i64(xStride).ptr(address(w)).ptr(b == null ? 0 : address(b))
                            .ptr(address(o) + m0 * oStride * 4).i64(oStride).i32(rows).i32((int) N).i32((int) K);
                    be.launch(Modules.GEMV, "gemv_" + wt.name().toLowerCase(Locale.ROOT), (int) ((N + 3) / 4), 1, 1, 128, 0);
                }
            } else if (useCublas(wt)) {
                cublasGemm(xs, xStride, w, b, o, oStride, (int) M, (int) N, (int) K, sc);
            } else {
                String kernel = switch (wt) {
                    case F32 -> "gemm_f32";
                    case F16 -> "gemm_wmma_f16";
                    case BF16 -> "gemm_wmma_bf16";
                    case Q8_0 -> "gemm_wmma_q8_0";
                    case Q4_0 -> "gemm_wmma_q4_0";
                    default -> throw new AssertionError(wt);
                };
                long gy = (M + 63) / 64;
                OpChecks.require(gy <= 65535, op, "M = " + M + " is too large for one launch");
                be.args().ptr(address(xs)).i64(xStride).ptr(address(w)).ptr(b == null ? 0 : address(b)).ptr(address(o))
                        .i64(oStride)
                        .i32((int) M).i32((int) N).i32((int) K);
                if (wt != DType.F32) {
                    be.args.i32(be.gemmExact() ? 1 : 0);
                }
                be.launch(Modules.GEMM, kernel, (int) ((N + 63) / 64), (int) gy, 1, wt == DType.F32 ? 256 : 128,
                        wt == DType.F32 ? 0 : GEMM_SHARED_BYTES);
            }
            sc.commit(o, out);
        }
    }

    /** cuBLAS runs F32 and BF16 weights with the same precision as the own kernels, F16 only when exactness is off. */
    private boolean useCublas(DType wt) {
        if (be.gemmPolicy().equals("own") || wt.isQuantized() || (wt == DType.F16 && be.gemmExact())) {
            return false;
        }
        boolean present = be.driver().blas().isPresent();
        if (be.gemmPolicy().equals("cublas") && !present) {
            throw new IllegalStateException("-D" + CudaBackend.GEMM_PROPERTY + "=cublas but cuBLAS is not available on "
                    + be.driver().info().name());
        }
        return present;
    }

    private void cublasGemm(Tensor x, long xStride, Tensor w, Tensor bias, Tensor out, long oStride, int M, int N, int K,
            OpScratch sc) {
        Blas blas = be.driver().blas().orElseThrow();
        DType wt = w.dtype();
        int ldo = (int) oStride;
        if (wt == DType.F32) {
            blas.gemm(Blas.R_32F, address(x), (int) xStride, address(w), K, address(out), ldo, M, N, K, 0f);
        } else if (wt == DType.BF16) {  // out = x1 . w + x2 . w + x3 . w (x split exactly), or x1 . w
            Tensor parts = sc.tensor(DType.BF16, 3, M, K);
            long step = (long) M * K * 2;
            be.args().ptr(address(x)).i64(xStride).ptr(address(parts)).ptr(address(parts) + step).ptr(address(parts) + 2 * step)
                    .i32(M)
                    .i32(K);
            be.launch(Modules.CONVERT, "split_bf16_rows", be.gridFor((long) M * K), 1, 1, 256, 0);
            for (int t = 0; t < (be.gemmExact() ? 3 : 1); t++) {
                blas.gemm(Blas.R_16BF, address(parts) + t * step, K, address(w), K, address(out), ldo, M, N, K, t == 0 ? 0f : 1f);
            }
        } else {  // F16 with exactness off: activations rounded to fp16
            Tensor xh = sc.tensor(DType.F16, M, K);
            be.copy(x, xh);
            blas.gemm(Blas.R_16F, address(xh), K, address(w), K, address(out), ldo, M, N, K, 0f);
        }
        if (bias != null) {
            be.add(out, bias, out);
        }
    }

    private void zeroThenBias(Tensor out, Tensor bias, OpScratch sc) {
        Tensor o = sc.target(out, true);
        be.driver().memset(address(o), 0, o.byteSize());
        if (bias != null) {
            be.add(o, bias, o);
        }
        sc.commit(o, out);
    }

    void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        String op = "conv2d";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, be.device(), x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "w", w, 4);
        OpChecks.require(w.dtype().isWeightType(), op, "w " + w.describe() + " must have a weight dtype");
        OpChecks.require(stride >= 1, op, "stride " + stride + " must be positive");
        OpChecks.require(padding >= 0, op, "padding " + padding + " is negative");
        long N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), O = w.dim(0), kh = w.dim(2), kw = w.dim(3);
        OpChecks.shape(op, "w", w, O, C, kh, kw);
        long Ho = (H + 2L * padding - kh) / stride + 1, Wo = (W + 2L * padding - kw) / stride + 1;
        OpChecks.require(H + 2L * padding >= kh && W + 2L * padding >= kw, op, "kernel " + kh + "x" + kw
                + " larger than the padded input " + (H + 2L * padding) + "x" + (W + 2L * padding));
        if (bias != null) {
            OpChecks.dtype(op, "bias", bias, DType.F32);
            OpChecks.shape(op, "bias", bias, O);
        }
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.shape(op, "out", out, N, Ho, Wo, O);
        long M = N * Ho * Wo, K = C * kh * kw;
        OpChecks.require(M <= Integer.MAX_VALUE && K <= Integer.MAX_VALUE && x.numel() <= Integer.MAX_VALUE, op, "too large");
        if (M == 0 || O == 0) {
            return;
        }
        try (OpScratch sc = new OpScratch(be)) {
            Tensor xs = sc.dense(x);
            Tensor ws = sc.dense(w);
            if (ws.dtype().isQuantized()) {  // rare (kw a multiple of 32): run the fp32 path on a dequantised copy
                Tensor f = sc.tensor(DType.F32, ws.shape());
                be.copy(ws, f);
                ws = f;
            }
            Tensor b = sc.dense(bias);
            Tensor o = sc.target(out, true);
            String kernel = switch (ws.dtype()) {
                case F32 -> "conv2d_f32";
                case F16 -> "conv2d_wmma_f16";
                case BF16 -> "conv2d_wmma_bf16";
                default -> throw new AssertionError(ws.dtype());
            };
            long gy = (M + 63) / 64;
            OpChecks.require(gy <= 65535, op, "output too large for one launch");
            be.args().ptr(address(xs))
                    .ints((int) N, (int) H, (int) W, (int) C, (int) kh, (int) kw, stride, padding, (int) Ho, (int) Wo)
                    .ptr(address(ws)).ptr(b == null ? 0 : address(b)).ptr(address(o)).i32((int) O);
            if (ws.dtype() != DType.F32) {
                be.args.i32(be.gemmExact() ? 1 : 0);
            }
            be.launch(Modules.GEMM, kernel, (int) ((O + 63) / 64), (int) gy, 1, ws.dtype() == DType.F32 ? 256 : 128,
                    ws.dtype() == DType.F32 ? 0 : GEMM_SHARED_BYTES);
            sc.commit(o, out);
        }
    }
}
