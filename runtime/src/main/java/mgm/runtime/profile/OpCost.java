package mgm.runtime.profile;

import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * Bytes moved and FLOPs of each op, from shapes and dtypes alone, filled into an {@link OpSample}
 * together with the op's signature. Called after the op ran, so the arguments are valid.
 *
 * <p>The model, stated once so that every number in a report can be checked by hand:
 * <ul>
 *   <li><b>Bytes</b> are the compulsory traffic: every input tensor read once and every output written
 *       once, at its stored dtype (Q8_0: 34 bytes per 32 weights, Q4_0: 18 bytes per 32, F16/BF16: 2,
 *       F32: 4). A broadcast operand counts its own size. Attention reads only the keys and values its
 *       queries can see (causal: the first {@code queryStart + T} positions of the cache).</li>
 *   <li><b>FLOPs</b> count a multiply-add as 2 and any other arithmetic or transcendental
 *       function as 1, in the straightforward formula:
 *       matmul {@code 2·M·N·K} (+{@code M·N} for a bias);
 *       attention {@code 4·Dh·Hq·pairs} (QKᵀ and PV; pairs = visible (query, key) pairs: {@code T·S}
 *       unmasked, {@code Σ_t min(S, queryStart + t + 1)} causal; softmax left out, below 1% at Dh ≥ 64);
 *       windowAttention {@code 4·D·T·window²};
 *       conv2d {@code 2·N·Ho·Wo·O·C·kh·kw} (+{@code N·Ho·Wo·O} bias; padded taps count, as in PyTorch's counters);
 *       depthwise {@code 2·N·Ho·Wo·C·k²} (+bias);
 *       per element: rmsNorm 4, layerNorm 8, softmax 5, rope 3, add/mul/scale 1, bilinear 7 (per output),
 *       activations SiLU 4, GELU-erf 5, GELU-tanh 9, QuickGELU 5, gated +1;
 *       copy, embedding, topK and argmax 0.</li>
 * </ul>
 */
public final class OpCost {
    private OpCost() {}

    /** Bytes of a tensor at its dtype (whole blocks for quantised types). */
    static long bytes(Tensor t) {
        if (t == null) {
            return 0;
        }
        DType d = t.dtype();
        return (t.numel() + d.blockSize() - 1) / d.blockSize() * d.blockBytes();
    }

    /** Bytes of {@code elements} elements of {@code d}. */
    static long bytes(DType d, long elements) {
        return (elements + d.blockSize() - 1) / d.blockSize() * d.blockBytes();
    }

    public static void copy(OpSample s, Tensor src, Tensor dst) {
        copyLike(s, OpKind.COPY, src, dst.dtype());
    }

    public static void copyRows(OpSample s, Tensor src, Tensor dst) {
        copyLike(s, OpKind.COPY_ROWS, src, dst.dtype());
    }

    private static void copyLike(OpSample s, OpKind kind, Tensor src, DType dstType) {
        s.start(kind, src.dtype());
        s.dtype2 = dstType;
        shape(s, src);
        s.bytes = bytes(src) + bytes(dstType, src.numel());
    }

    public static void embedding(OpSample s, Tensor table, Tensor ids, Tensor out) {
        s.start(OpKind.EMBEDDING, table.dtype());
        long t = ids.numel();
        long d = table.dim(1);
        s.dim(t);
        s.dim(table.dim(0));
        s.dim(d);
        s.bytes = t * bytes(table.dtype(), d) + bytes(ids) + bytes(out);
    }

    public static void matmul(OpSample s, Tensor x, Tensor w, Tensor bias, Tensor out) {
        s.start(OpKind.MATMUL, w.dtype());
        long m = x.dim(0);
        long k = x.dim(1);
        long n = out.dim(1); // not w.dim(0): a K-tiled weight is [T, N, K / T]
        s.dim(m);
        s.dim(k);
        s.dim(n);
        if (bias != null) {
            s.flags |= OpSample.BIAS;
        }
        s.flops = 2 * m * n * k + (bias != null ? m * n : 0);
        s.bytes = bytes(x) + bytes(w) + bytes(bias) + bytes(out);
    }

    /**
     * Several weights against one input ({@link mgm.runtime.Backend#matmuls}), one sample: N is the
     * weights' rows together, the dtype the first weight's, x read once.
     */
    public static void matmuls(OpSample s, Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        s.start(OpKind.MATMUL, ws[0].dtype());
        long m = x.dim(0);
        long k = x.dim(1);
        long n = 0;
        long bytes = bytes(x);
        for (int i = 0; i < ws.length; i++) {
            Tensor bias = biases == null ? null : biases[i];
            n += outs[i].dim(1);
            bytes += bytes(ws[i]) + bytes(bias) + bytes(outs[i]);
            if (bias != null) {
                s.flags |= OpSample.BIAS;
                s.flops += m * outs[i].dim(1);
            }
        }
        s.dim(m);
        s.dim(k);
        s.dim(n);
        s.flops += 2 * m * n * k;
        s.bytes = bytes;
    }

    public static void rmsNorm(OpSample s, Tensor x, Tensor weight, Tensor out) {
        rowOp(s, OpKind.RMS_NORM, x, weight.dtype(), 4);
        s.bytes = bytes(x) + bytes(weight) + bytes(out);
    }

    public static void layerNorm(OpSample s, Tensor x, Tensor weight, Tensor bias, Tensor out) {
        rowOp(s, OpKind.LAYER_NORM, x, weight.dtype(), 8);
        s.bytes = bytes(x) + bytes(weight) + bytes(bias) + bytes(out);
    }

    public static void softmax(OpSample s, Tensor x, Tensor out) {
        rowOp(s, OpKind.SOFTMAX, x, DType.F32, 5);
        s.bytes = bytes(x) + bytes(out);
    }

    private static void rowOp(OpSample s, OpKind kind, Tensor x, DType dtype, int flopsPerElement) {
        s.start(kind, dtype);
        long d = x.dim(-1);
        s.dim(d == 0 ? 0 : x.numel() / d);
        s.dim(d);
        s.flops = flopsPerElement * x.numel();
    }

    public static void rope(OpSample s, Tensor x, Tensor invFreq, Tensor out) {
        s.start(OpKind.ROPE, DType.F32);
        shape(s, x);
        s.flops = 3 * x.numel();
        s.bytes = bytes(x) + bytes(invFreq) + bytes(out);
    }

    public static void attention(OpSample s, Tensor q, Tensor k, Tensor v, boolean causal, int queryStart, Tensor out) {
        s.start(OpKind.ATTENTION, k.dtype());
        s.dtype2 = v.dtype();
        long t = q.dim(0);
        long hq = q.dim(1);
        long dh = q.dim(2);
        long capacity = k.dim(0);
        long hkv = k.dim(1);
        s.dim(t);
        s.dim(hq);
        s.dim(dh);
        s.dim(capacity);
        s.dim(hkv);
        if (causal) {
            s.flags |= OpSample.CAUSAL;
        }
        long keys = causal ? Math.min(capacity, queryStart + t) : capacity;
        s.flops = 4 * dh * hq * visiblePairs(t, capacity, causal, queryStart);
        s.bytes = bytes(q) + bytes(out) + bytes(k.dtype(), keys * hkv * dh) + bytes(v.dtype(), keys * hkv * dh);
    }

    /** (query, key) pairs attention computes: {@code T·S}, or causal {@code Σ_t min(S, queryStart + t + 1)}. */
    static long visiblePairs(long t, long keys, boolean causal, long queryStart) {
        if (!causal) {
            return t * keys;
        }
        // Query i sees a_i = queryStart + i + 1 keys, capped at `keys`: an arithmetic run, then a flat part.
        long first = queryStart + 1;
        long uncapped = Math.max(0, Math.min(t, keys - first + 1));  // queries with a_i <= keys
        long run = uncapped * first + uncapped * (uncapped - 1) / 2;
        return run + (t - uncapped) * keys;
    }

    public static void windowAttention(OpSample s, Tensor q, Tensor map, int window, Tensor out) {
        s.start(OpKind.WINDOW_ATTENTION, map.dtype());
        long t = q.dim(0);
        long d = q.dim(1);
        s.dim(t);
        s.dim(d);
        s.dim(window);
        s.flops = 4 * d * t * window * window;
        s.bytes = bytes(q) + bytes(map) + bytes(out);
    }

    public static void activation(OpSample s, Activation act, Tensor x, Tensor out) {
        s.start(OpKind.ACTIVATION, DType.F32);
        s.flags = act.ordinal() << 4;
        shape(s, x);
        s.flops = activationFlops(act) * x.numel();
        s.bytes = bytes(x) + bytes(out);
    }

    public static void gatedActivation(OpSample s, Activation act, Tensor gate, Tensor up, Tensor out) {
        s.start(OpKind.GATED_ACTIVATION, DType.F32);
        s.flags = act.ordinal() << 4;
        shape(s, gate);
        s.flops = (activationFlops(act) + 1) * gate.numel();
        s.bytes = bytes(gate) + bytes(up) + bytes(out);
    }

    static int activationFlops(Activation act) {
        return switch (act) {
            case SILU -> 4;        // x / (1 + exp(-x)): neg, exp, add, div
            case GELU_ERF -> 5;    // 0.5 x (1 + erf(x / sqrt 2)): div, erf, add, mul, mul
            case GELU_TANH -> 9;   // 0.5 x (1 + tanh(c (x + 0.044715 x^3))): 3 mul, add, mul, tanh, add, 2 mul
            case QUICK_GELU -> 5;  // x / (1 + exp(-1.702 x)): mul, neg, exp, add, div
        };
    }

    public static void add(OpSample s, Tensor a, Tensor b, Tensor out) {
        binary(s, OpKind.ADD, a, b, out);
    }

    public static void mul(OpSample s, Tensor a, Tensor b, Tensor out) {
        binary(s, OpKind.MUL, a, b, out);
    }

    private static void binary(OpSample s, OpKind kind, Tensor a, Tensor b, Tensor out) {
        s.start(kind, DType.F32);
        shape(s, a);
        s.dim(b.numel());
        s.flops = a.numel();
        s.bytes = bytes(a) + bytes(b) + bytes(out);
    }

    public static void scale(OpSample s, Tensor x, Tensor out) {
        s.start(OpKind.SCALE, DType.F32);
        shape(s, x);
        s.flops = x.numel();
        s.bytes = bytes(x) + bytes(out);
    }

    public static void conv2d(OpSample s, Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        s.start(OpKind.CONV2D, w.dtype());
        shape(s, x);
        long o = w.dim(0);
        long c = w.dim(1);
        long kh = w.dim(2);
        long kw = w.dim(3);
        s.dim(o);
        s.dim(kh);
        s.dim(kw);
        s.dim(stride);
        s.dim(padding);
        if (bias != null) {
            s.flags |= OpSample.BIAS;
        }
        long positions = out.dim(0) * out.dim(1) * out.dim(2);
        s.flops = 2 * positions * o * c * kh * kw + (bias != null ? positions * o : 0);
        s.bytes = bytes(x) + bytes(w) + bytes(bias) + bytes(out);
    }

    public static void depthwiseConv2d(OpSample s, Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        s.start(OpKind.DEPTHWISE_CONV2D, w.dtype());
        shape(s, x);
        long k = w.dim(2);
        s.dim(k);
        s.dim(padding);
        if (bias != null) {
            s.flags |= OpSample.BIAS;
        }
        long outputs = out.numel();
        s.flops = 2 * outputs * k * w.dim(3) + (bias != null ? outputs : 0);
        s.bytes = bytes(x) + bytes(w) + bytes(bias) + bytes(out);
    }

    public static void resizeBilinear(OpSample s, Tensor x, Tensor out) {
        s.start(OpKind.RESIZE_BILINEAR, DType.F32);
        shape(s, x);
        s.dim(out.dim(1));
        s.dim(out.dim(2));
        s.flops = 7 * out.numel();
        s.bytes = bytes(x) + bytes(out);
    }

    public static void topK(OpSample s, Tensor x, int k, Tensor values, Tensor indices) {
        s.start(OpKind.TOP_K, DType.F32);
        s.dim(x.dim(0));
        s.dim(x.dim(1));
        s.dim(k);
        s.bytes = bytes(x) + bytes(values) + bytes(indices);
    }

    public static void argmax(OpSample s, Tensor x, Tensor out) {
        s.start(OpKind.ARGMAX, DType.F32);
        shape(s, x);
        s.bytes = bytes(x) + bytes(out);
    }

    private static void shape(OpSample s, Tensor t) {
        for (int i = 0; i < t.rank(); i++) {
            s.dim(t.dim(i));
        }
    }
}
