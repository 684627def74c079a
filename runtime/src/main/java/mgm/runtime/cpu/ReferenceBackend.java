package mgm.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.Numerics;
import mgm.runtime.OpChecks;
import mgm.runtime.Quant;
import mgm.runtime.QuantActivations;
import mgm.runtime.Tensor;

/**
 * The plain scalar implementation of every op: single-threaded, any strided view, sums in double,
 * written to be obviously correct rather than fast. Every other backend is tested against it; it
 * also covers the rare layouts the fast backend does not specialise.
 */
public final class ReferenceBackend implements Backend {
    private final QuantActivations activations;

    /** Activations enter every matmul as they are. */
    public ReferenceBackend() {
        this(QuantActivations.F32);
    }

    /** Activations enter matmuls with block-quantised weights in the given form (see {@link QuantActivations}). */
    public ReferenceBackend(QuantActivations activations) {
        this.activations = java.util.Objects.requireNonNull(activations, "activations");
    }

    @Override
    public String name() {
        return "cpu-reference";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape);
    }

    @Override
    public Tensor toDevice(Tensor t) {
        OpChecks.onDevice("toDevice", Device.CPU, t);
        return t;
    }

    @Override
    public Tensor toHost(Tensor t) {
        OpChecks.onDevice("toHost", Device.CPU, t);
        return t;
    }

    // ------------------------------------------------------------------ data movement

    @Override
    public void copy(Tensor src, Tensor dst) {
        String op = "copy";
        OpChecks.notNull(op, "src", src);
        OpChecks.notNull(op, "dst", dst);
        OpChecks.onDevice(op, Device.CPU, src, dst);
        OpChecks.sameShape(op, "src", src, "dst", dst);
        OpChecks.dtype(op, "dst", dst, DType.F32, DType.F16, DType.BF16, DType.F64, DType.I32, DType.I64,
                DType.I8, DType.Q8_0, DType.Q4_0);
        if (isInteger(src.dtype()) && isInteger(dst.dtype())) {
            HostArrays.writeInts(dst, src.toIntArray());
        } else {
            HostArrays.write(dst, src.toFloatArray());
        }
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        String op = "embedding";
        OpChecks.onDevice(op, Device.CPU, table, ids, out);
        OpChecks.rank(op, "table", table, 2);
        OpChecks.dtype(op, "ids", ids, DType.I32);
        OpChecks.rank(op, "ids", ids, 1);
        long vocab = table.dim(0);
        long d = table.dim(1);
        OpChecks.shape(op, "out", out, ids.dim(0), d);
        OpChecks.dtype(op, "out", out, DType.F32);
        int[] tokens = ids.toIntArray();
        for (int id : tokens) {
            OpChecks.require(id >= 0 && id < vocab, op, "token id " + id + " outside the vocabulary [0, " + vocab + ")");
        }
        for (int t = 0; t < tokens.length; t++) {
            HostArrays.write(out.select(0, t), table.select(0, tokens[t]).toFloatArray());
        }
    }

    // ------------------------------------------------------------------ linear algebra

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        String op = "matmul";
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "w", w);
        OpChecks.notNull(op, "out", out);
        OpChecks.onDevice(op, Device.CPU, x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        OpChecks.rank(op, "w", w, 2);
        OpChecks.require(w.dtype().isWeightType(), op, "w " + w.describe() + " must be F32, F16, BF16, Q8_0 or Q4_0");
        long m = x.dim(0);
        long k = x.dim(1);
        long n = w.dim(0);
        OpChecks.require(w.dim(1) == k, op, "x " + x.describe() + " and w " + w.describe()
                + " disagree on K (x is [M, K], w is [N, K])");
        OpChecks.shape(op, "out", out, m, n);
        OpChecks.dtype(op, "out", out, DType.F32);
        float[] b = null;
        if (bias != null) {
            OpChecks.shape(op, "bias", bias, n);
            b = bias.toFloatArray();
        }
        float[] xs = x.toFloatArray();
        if (activations.rounds(w.dtype())) {
            xs = roundedToQ8_0(xs);
        }
        float[] ws = w.toFloatArray();
        float[] result = new float[(int) (m * n)];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = b == null ? 0 : b[j];
                for (int p = 0; p < k; p++) {
                    acc += (double) xs[(int) (i * k + p)] * ws[(int) (j * k + p)];
                }
                result[(int) (i * n + j)] = (float) acc;
            }
        }
        HostArrays.write(out, result);
    }

    /**
     * Rows through a Q8_0 round trip: {@link Quant#quantizeQ8_0} then {@link Quant#dequantize}.
     * Quantised weights have rows of whole 32-element blocks, so the flat array's blocks are the rows' blocks.
     */
    private static float[] roundedToQ8_0(float[] rows) {
        float[] out = new float[rows.length];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment blocks = arena.allocate(DType.Q8_0.byteSize(rows.length));
            Quant.quantizeQ8_0(rows, 0, rows.length, blocks, 0);
            Quant.dequantize(DType.Q8_0, blocks, 0, rows.length, out, 0);
        }
        return out;
    }

    // ------------------------------------------------------------------ normalisation

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        String op = "rmsNorm";
        OpChecks.onDevice(op, Device.CPU, x, weight, out);
        long d = lastDim(op, x, out);
        OpChecks.shape(op, "weight", weight, d);
        float[] w = weight.toFloatArray();
        float[] v = x.toFloatArray();
        for (int r = 0; r < v.length / d; r++) {
            int base = (int) (r * d);
            double ss = 0;
            for (int i = 0; i < d; i++) {
                ss += (double) v[base + i] * v[base + i];
            }
            double inv = 1.0 / Math.sqrt(ss / d + eps);
            for (int i = 0; i < d; i++) {
                v[base + i] = (float) (v[base + i] * inv * (weightOffset + w[i]));
            }
        }
        HostArrays.write(out, v);
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        String op = "layerNorm";
        OpChecks.onDevice(op, Device.CPU, x, weight, bias, out);
        long d = lastDim(op, x, out);
        OpChecks.shape(op, "weight", weight, d);
        OpChecks.shape(op, "bias", bias, d);
        float[] w = weight.toFloatArray();
        float[] b = bias.toFloatArray();
        float[] v = x.toFloatArray();
        for (int r = 0; r < v.length / d; r++) {
            int base = (int) (r * d);
            double mean = 0;
            for (int i = 0; i < d; i++) {
                mean += v[base + i];
            }
            mean /= d;
            double var = 0;
            for (int i = 0; i < d; i++) {
                double c = v[base + i] - mean;
                var += c * c;
            }
            double inv = 1.0 / Math.sqrt(var / d + eps);
            for (int i = 0; i < d; i++) {
                v[base + i] = (float) ((v[base + i] - mean) * inv * w[i] + b[i]);
            }
        }
        HostArrays.write(out, v);
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        String op = "softmax";
        OpChecks.onDevice(op, Device.CPU, x, out);
        long d = lastDim(op, x, out);
        float[] v = x.toFloatArray();
        for (int r = 0; r < v.length / d; r++) {
            softmaxInPlace(v, (int) (r * d), (int) d);
        }
        HostArrays.write(out, v);
    }

    private static void softmaxInPlace(float[] v, int base, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[base + i]);
        }
        double sum = 0;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(v[base + i] - max);
            sum += e[i];
        }
        for (int i = 0; i < n; i++) {
            v[base + i] = (float) (e[i] / sum);
        }
    }

    // ------------------------------------------------------------------ attention

    @Override
    public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        String op = "rope";
        OpChecks.onDevice(op, Device.CPU, x, invFreq, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 3);
        OpChecks.sameShape(op, "x", x, "out", out);
        OpChecks.dtype(op, "out", out, DType.F32);
        long tokens = x.dim(0);
        long heads = x.dim(1);
        long dh = x.dim(2);
        OpChecks.require(dh % 2 == 0, op, "head dim " + dh + " of x " + x.describe() + " must be even");
        OpChecks.require(startPos >= 0, op, "startPos " + startPos + " is negative");
        OpChecks.shape(op, "invFreq", invFreq, dh / 2);
        float[] f = invFreq.toFloatArray();
        float[] v = x.toFloatArray();
        int half = (int) (dh / 2);
        for (int t = 0; t < tokens; t++) {
            float pos = startPos + t;
            for (int h = 0; h < heads; h++) {
                int base = (int) ((t * heads + h) * dh);
                for (int i = 0; i < half; i++) {
                    float angle = pos * f[i];
                    float c = (float) Math.cos(angle);
                    float s = (float) Math.sin(angle);
                    float a = v[base + i];
                    float b = v[base + i + half];
                    v[base + i] = a * c - b * s;
                    v[base + i + half] = b * c + a * s;
                }
            }
        }
        HostArrays.write(out, v);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        String op = "attention";
        OpChecks.onDevice(op, Device.CPU, q, k, v, out);
        OpChecks.dtype(op, "q", q, DType.F32);
        OpChecks.dtype(op, "k", k, DType.F32, DType.F16, DType.BF16);
        OpChecks.dtype(op, "v", v, DType.F32, DType.F16, DType.BF16);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "q", q, 3);
        long tq = q.dim(0);
        long hq = q.dim(1);
        long dh = q.dim(2);
        OpChecks.rank(op, "k", k, 3);
        long s = k.dim(0);
        long hkv = k.dim(1);
        OpChecks.shape(op, "k", k, s, hkv, dh);
        OpChecks.shape(op, "v", v, s, hkv, dh);
        OpChecks.shape(op, "out", out, tq, hq, dh);
        OpChecks.require(hkv > 0 && hq % hkv == 0, op, "query heads " + hq + " must be a multiple of kv heads " + hkv);
        OpChecks.require(!causal || queryStart + tq <= s, op, "causal queries at positions " + queryStart + ".."
                + (queryStart + tq - 1) + " need " + (queryStart + tq) + " keys, got " + s);
        float[] qs = q.toFloatArray();
        float[] ks = k.toFloatArray();
        float[] vs = v.toFloatArray();
        float[] result = new float[qs.length];
        long group = hq / hkv;
        for (int t = 0; t < tq; t++) {
            int visible = (int) (causal ? queryStart + t + 1 : s);
            for (int h = 0; h < hq; h++) {
                int kvh = (int) (h / group);
                int qBase = (int) ((t * hq + h) * dh);
                double[] p = new double[visible];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    int kBase = (int) ((j * hkv + kvh) * dh);
                    double dot = 0;
                    for (int i = 0; i < dh; i++) {
                        dot += (double) qs[qBase + i] * ks[kBase + i];
                    }
                    p[j] = dot * scale;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < visible; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                for (int i = 0; i < dh; i++) {
                    double acc = 0;
                    for (int j = 0; j < visible; j++) {
                        acc += p[j] * vs[(int) ((j * hkv + kvh) * dh + i)];
                    }
                    result[qBase + i] = (float) (acc / sum);
                }
            }
        }
        HostArrays.write(out, result);
    }

    @Override
    public void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        OpChecks.windowAttention(Device.CPU, q, map, window, out);
        long d = map.dim(2);
        long cols = map.dim(1) / window;
        float[] qs = q.toFloatArray();
        float[] m = map.toFloatArray();
        float[] result = new float[qs.length];
        int n = window * window;
        long width = map.dim(1);
        for (int t = 0; t < q.dim(0); t++) {
            long y0 = t / cols * window;
            long x0 = t % cols * window;
            int[] pixel = new int[n];
            double[] p = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                pixel[i] = (int) (((y0 + i / window) * width + x0 + i % window) * d);
                double dot = 0;
                for (int c = 0; c < d; c++) {
                    dot += (double) qs[(int) (t * d + c)] * m[pixel[i] + c];
                }
                p[i] = dot * scale;
                max = Math.max(max, p[i]);
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                p[i] = Math.exp(p[i] - max);
                sum += p[i];
            }
            for (int c = 0; c < d; c++) {
                double acc = 0;
                for (int i = 0; i < n; i++) {
                    acc += p[i] * m[pixel[i] + c];
                }
                result[(int) (t * d + c)] = (float) (acc / sum);
            }
        }
        HostArrays.write(out, result);
    }

    // ------------------------------------------------------------------ pointwise

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        String op = "activation";
        OpChecks.onDevice(op, Device.CPU, x, out);
        lastDim(op, x, out);
        float[] v = x.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Numerics.apply(act, v[i]);
        }
        HostArrays.write(out, v);
    }

    @Override
    public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        String op = "gatedActivation";
        OpChecks.onDevice(op, Device.CPU, gate, up, out);
        lastDim(op, gate, out);
        OpChecks.sameShape(op, "gate", gate, "up", up);
        OpChecks.dtype(op, "up", up, DType.F32);
        float[] g = gate.toFloatArray();
        float[] u = up.toFloatArray();
        for (int i = 0; i < g.length; i++) {
            g[i] = Numerics.apply(act, g[i]) * u[i];
        }
        HostArrays.write(out, g);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        float[][] ab = binaryInputs("add", a, b, out);
        for (int i = 0; i < ab[0].length; i++) {
            ab[0][i] += ab[1][i];
        }
        HostArrays.write(out, ab[0]);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        float[][] ab = binaryInputs("mul", a, b, out);
        for (int i = 0; i < ab[0].length; i++) {
            ab[0][i] *= ab[1][i];
        }
        HostArrays.write(out, ab[0]);
    }

    private float[][] binaryInputs(String op, Tensor a, Tensor b, Tensor out) {
        OpChecks.onDevice(op, Device.CPU, a, b, out);
        lastDim(op, a, out);
        OpChecks.dtype(op, "b", b, DType.F32);
        OpChecks.broadcastable(op, a, b);
        return new float[][] {a.toFloatArray(), b.broadcastTo(a.shape()).toFloatArray()};
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        String op = "scale";
        OpChecks.onDevice(op, Device.CPU, x, out);
        lastDim(op, x, out);
        float[] v = x.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= s;
        }
        HostArrays.write(out, v);
    }

    // ------------------------------------------------------------------ convolution and resampling

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        String op = "conv2d";
        OpChecks.onDevice(op, Device.CPU, x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "w", w, 4);
        OpChecks.require(w.dtype().isWeightType(), op, "w " + w.describe() + " must be F32, F16, BF16, Q8_0 or Q4_0");
        OpChecks.require(stride >= 1 && padding >= 0, op, "stride " + stride + " / padding " + padding);
        long n = x.dim(0);
        long h = x.dim(1);
        long wd = x.dim(2);
        long c = x.dim(3);
        long o = w.dim(0);
        long kh = w.dim(2);
        long kw = w.dim(3);
        OpChecks.require(w.dim(1) == c, op, "w " + w.describe() + " expects " + w.dim(1)
                + " input channels but x " + x.describe() + " (channels-last) has " + c);
        long ho = (h + 2L * padding - kh) / stride + 1;
        long wo = (wd + 2L * padding - kw) / stride + 1;
        OpChecks.require(ho > 0 && wo > 0, op, "kernel " + kh + "x" + kw + " larger than padded input " + x.describe());
        OpChecks.shape(op, "out", out, n, ho, wo, o);
        OpChecks.dtype(op, "out", out, DType.F32);
        float[] b = null;
        if (bias != null) {
            OpChecks.shape(op, "bias", bias, o);
            b = bias.toFloatArray();
        }
        float[] xs = x.toFloatArray();
        float[] ws = w.toFloatArray();
        float[] result = new float[(int) (n * ho * wo * o)];
        for (int img = 0; img < n; img++) {
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    for (int oc = 0; oc < o; oc++) {
                        double acc = b == null ? 0 : b[oc];
                        for (int ic = 0; ic < c; ic++) {
                            for (int ky = 0; ky < kh; ky++) {
                                long iy = oy * (long) stride + ky - padding;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kx = 0; kx < kw; kx++) {
                                    long ix = ox * (long) stride + kx - padding;
                                    if (ix < 0 || ix >= wd) {
                                        continue;
                                    }
                                    acc += (double) xs[(int) (((img * h + iy) * wd + ix) * c + ic)]
                                            * ws[(int) (((oc * c + ic) * kh + ky) * kw + kx)];
                                }
                            }
                        }
                        result[(int) (((img * ho + oy) * wo + ox) * o + oc)] = (float) acc;
                    }
                }
            }
        }
        HostArrays.write(out, result);
    }

    @Override
    public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        String op = "depthwiseConv2d";
        OpChecks.onDevice(op, Device.CPU, x, w, bias, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        long n = x.dim(0);
        long h = x.dim(1);
        long wd = x.dim(2);
        long c = x.dim(3);
        OpChecks.rank(op, "w", w, 4);
        long k = w.dim(2);
        OpChecks.shape(op, "w", w, c, 1, k, k);
        OpChecks.require(padding >= 0, op, "padding " + padding);
        long ho = h + 2L * padding - k + 1;
        long wo = wd + 2L * padding - k + 1;
        OpChecks.require(ho > 0 && wo > 0, op, "kernel " + k + "x" + k + " larger than padded input " + x.describe());
        OpChecks.shape(op, "out", out, n, ho, wo, c);
        OpChecks.dtype(op, "out", out, DType.F32);
        float[] b = null;
        if (bias != null) {
            OpChecks.shape(op, "bias", bias, c);
            b = bias.toFloatArray();
        }
        float[] xs = x.toFloatArray();
        float[] ws = w.toFloatArray();
        float[] result = new float[(int) (n * ho * wo * c)];
        for (int img = 0; img < n; img++) {
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        double acc = b == null ? 0 : b[ch];
                        for (int ky = 0; ky < k; ky++) {
                            long iy = oy + ky - padding;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < k; kx++) {
                                long ix = ox + kx - padding;
                                if (ix < 0 || ix >= wd) {
                                    continue;
                                }
                                acc += (double) xs[(int) (((img * h + iy) * wd + ix) * c + ch)]
                                        * ws[(int) ((ch * k + ky) * k + kx)];
                            }
                        }
                        result[(int) (((img * ho + oy) * wo + ox) * c + ch)] = (float) acc;
                    }
                }
            }
        }
        HostArrays.write(out, result);
    }

    @Override
    public void resizeBilinear(Tensor x, Tensor out) {
        String op = "resizeBilinear";
        OpChecks.onDevice(op, Device.CPU, x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.rank(op, "x", x, 4);
        OpChecks.rank(op, "out", out, 4);
        long n = x.dim(0);
        long h = x.dim(1);
        long w = x.dim(2);
        long c = x.dim(3);
        long ho = out.dim(1);
        long wo = out.dim(2);
        OpChecks.shape(op, "out", out, n, -1, -1, c);
        OpChecks.require(h > 0 && w > 0 && ho > 0 && wo > 0, op, "empty spatial size: " + x.describe() + " -> " + out.describe());
        BilinearTaps ys = BilinearTaps.of((int) h, (int) ho);
        BilinearTaps xsTaps = BilinearTaps.of((int) w, (int) wo);
        float[] src = x.toFloatArray();
        float[] result = new float[(int) (n * ho * wo * c)];
        for (int img = 0; img < n; img++) {
            for (int oy = 0; oy < ho; oy++) {
                int y0 = ys.index0[oy];
                int y1 = y0 + ys.step[oy];
                for (int ox = 0; ox < wo; ox++) {
                    int x0 = xsTaps.index0[ox];
                    int x1 = x0 + xsTaps.step[ox];
                    for (int ch = 0; ch < c; ch++) {
                        float v00 = src[(int) (((img * h + y0) * w + x0) * c + ch)];
                        float v01 = src[(int) (((img * h + y0) * w + x1) * c + ch)];
                        float v10 = src[(int) (((img * h + y1) * w + x0) * c + ch)];
                        float v11 = src[(int) (((img * h + y1) * w + x1) * c + ch)];
                        result[(int) (((img * ho + oy) * wo + ox) * c + ch)] =
                                ys.lambda0[oy] * (xsTaps.lambda0[ox] * v00 + xsTaps.lambda1[ox] * v01)
                                        + ys.lambda1[oy] * (xsTaps.lambda0[ox] * v10 + xsTaps.lambda1[ox] * v11);
                    }
                }
            }
        }
        HostArrays.write(out, result);
    }

    // ------------------------------------------------------------------ selection

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        String op = "topK";
        OpChecks.onDevice(op, Device.CPU, x, values, indices);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        long m = x.dim(0);
        long n = x.dim(1);
        OpChecks.require(k >= 1 && k <= n, op, "k = " + k + " must be in [1, " + n + "] for x " + x.describe());
        OpChecks.shape(op, "values", values, m, k);
        OpChecks.dtype(op, "values", values, DType.F32);
        OpChecks.shape(op, "indices", indices, m, k);
        OpChecks.dtype(op, "indices", indices, DType.I32);
        float[] v = x.toFloatArray();
        float[] topValues = new float[(int) (m * k)];
        int[] topIndices = new int[(int) (m * k)];
        for (int r = 0; r < m; r++) {
            boolean[] taken = new boolean[(int) n];
            for (int slot = 0; slot < k; slot++) {
                int best = -1;
                for (int i = 0; i < n; i++) {
                    if (!taken[i] && (best < 0 || v[(int) (r * n + i)] > v[(int) (r * n + best)])) {
                        best = i;
                    }
                }
                taken[best] = true;
                topValues[r * k + slot] = v[(int) (r * n + best)];
                topIndices[r * k + slot] = best;
            }
        }
        HostArrays.write(values, topValues);
        HostArrays.writeInts(indices, topIndices);
    }

    @Override
    public void argmax(Tensor x, Tensor out) {
        String op = "argmax";
        OpChecks.onDevice(op, Device.CPU, x, out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.rank(op, "x", x, 2);
        OpChecks.shape(op, "out", out, x.dim(0));
        OpChecks.dtype(op, "out", out, DType.I32);
        long m = x.dim(0);
        long n = x.dim(1);
        OpChecks.require(n > 0, op, "x " + x.describe() + " has empty rows");
        float[] v = x.toFloatArray();
        int[] result = new int[(int) m];
        for (int r = 0; r < m; r++) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (v[(int) (r * n + i)] > v[(int) (r * n + best)]) {
                    best = i;
                }
            }
            result[r] = best;
        }
        HostArrays.writeInts(out, result);
    }

    // ------------------------------------------------------------------ helpers

    /** Checks an F32 element-wise op's input/output pair and returns the last dim. */
    private static long lastDim(String op, Tensor x, Tensor out) {
        OpChecks.notNull(op, "x", x);
        OpChecks.notNull(op, "out", out);
        OpChecks.dtype(op, "x", x, DType.F32);
        OpChecks.dtype(op, "out", out, DType.F32);
        OpChecks.sameShape(op, "x", x, "out", out);
        OpChecks.require(x.rank() >= 1, op, "x " + x.describe() + " is a scalar");
        return x.dim(-1);
    }

    private static boolean isInteger(DType t) {
        return switch (t) {
            case I8, I16, I32, I64, U8, BOOL -> true;
            default -> false;
        };
    }
}
