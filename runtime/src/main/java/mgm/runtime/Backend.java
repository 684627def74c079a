package mgm.runtime;

/**
 * The op set every backend implements (CPU reference, CPU SIMD, CUDA, CUDA-under-emulator).
 *
 * <p>Contract, for every op:
 * <ul>
 *   <li>Outputs are passed in and written; an op never allocates behind the caller's back. Every
 *       tensor must live on this backend's {@link #device()}.</li>
 *   <li>Activations are F32 unless an op says otherwise. Weights may be F32, F16, BF16, Q8_0 or Q4_0
 *       where an op says "weight dtype".</li>
 *   <li>Inputs may be strided views unless the op asks for contiguity; outputs may alias an input
 *       only where the op says "in place allowed".</li>
 *   <li>Bad shapes, dtypes, devices or closed tensors raise {@link IllegalArgumentException} /
 *       {@link IllegalStateException} naming the op and the tensors ({@link OpChecks} builds
 *       those messages), before anything is written.</li>
 * </ul>
 *
 * <p>Layouts: sequences are {@code [T, D]} (tokens × features), attention tensors are
 * {@code [T, heads, headDim]}, images and feature maps are channels-last {@code [N, H, W, C]}
 * (NCHW data is viewed with {@link Tensor#permute} and copied). Linear weights keep the PyTorch
 * layout {@code [out, in]}.
 */
public interface Backend extends AutoCloseable {

    /** A short name for messages and reports, e.g. {@code cpu-simd}. */
    String name();

    /** Where this backend's tensors live. */
    Device device();

    /** A zero-filled contiguous tensor on this backend, owned by the caller. */
    Tensor allocate(DType dtype, long... shape);

    /**
     * This backend's copy of a host tensor (uploads on a device; returns {@code t} itself on a
     * host backend, which is how memory-mapped weights stay zero copy).
     */
    Tensor toDevice(Tensor t);

    /** A host copy of {@code t} (returns {@code t} itself on a host backend). */
    Tensor toHost(Tensor t);

    /** Waits until all queued work is done (no-op on synchronous backends). */
    default void synchronize() {}

    // ------------------------------------------------------------------ profiling marks

    /**
     * Marks a model phase (image encode, prefill, decode) for profilers: ops until the returned
     * scope is closed belong to it. Use with try-with-resources around the phase. Plain backends
     * return {@link Scope#NONE} (nothing allocated, nothing recorded); the profiling decorator
     * ({@code mgm.runtime.profile.ProfilingBackend}) records it. {@code name} should be a constant.
     */
    default Scope phase(String name) {
        return Scope.NONE;
    }

    /**
     * Marks one layer of a stack (e.g. {@code layer("decoder", 3)}) for profilers, like
     * {@link #phase}. Pass a constant name and the index rather than building a string, so that
     * an unprofiled run allocates nothing.
     */
    default Scope layer(String name, int index) {
        return Scope.NONE;
    }

    /** The end of a {@link #phase} or {@link #layer} mark; closing it twice is harmless. */
    interface Scope extends AutoCloseable {
        /** The scope plain backends return: closing it does nothing. */
        Scope NONE = () -> { };

        @Override
        void close();
    }

    // ------------------------------------------------------------------ repeated steps

    /**
     * A runner for a step that is issued again and again with the same ops and shapes, only
     * scalars (a position, a cache length) and contents changing: one decode step. Plain backends
     * run the ops as they are issued; a device backend records them as a graph the first time and
     * afterwards updates that graph in place and launches it with one call, which removes the
     * per-kernel launch gaps. Inside a step: no host copies, no synchronisation, no host reads of
     * device data. The profiling decorator runs steps op by op (it times every op). Close the
     * runner with the tensors the step uses.
     */
    default RepeatedStep repeatedStep() {
        return RepeatedStep.DIRECT;
    }

    /** See {@link #repeatedStep()}. */
    interface RepeatedStep extends AutoCloseable {
        /** Runs the ops as they are issued. */
        RepeatedStep DIRECT = Runnable::run;

        /** Issues {@code ops} (host code that calls this backend's ops) as one step. */
        void run(Runnable ops);

        @Override
        default void close() {}
    }

    // ------------------------------------------------------------------ data movement

    /**
     * {@code dst = src} element-wise, converting dtype: any dtype to F32/F16/BF16/I32, F32 to
     * Q8_0/Q4_0 (GGML-exact quantisation), Q8_0/Q4_0 to F32. Shapes must be equal; {@code src} may
     * be any strided view (this is also permute/concat/transpose-copy), {@code dst} any view. On a
     * device backend one side may be a host tensor (an upload or download into an existing tensor).
     */
    void copy(Tensor src, Tensor dst);

    /**
     * {@code dst[row .. row + src.dim(0)) = src} along dim 0, converting dtype as {@link #copy} does:
     * appending to a KV cache, splicing image features into an embedding sequence. Backends override
     * it to avoid creating the view; the default is the plain form.
     */
    default void copyRows(Tensor src, Tensor dst, long row) {
        OpChecks.notNull("copyRows", "src", src);
        OpChecks.notNull("copyRows", "dst", dst);
        if (!(src.rank() == dst.rank() && src.rank() >= 1)) {
            throw new IllegalArgumentException("copyRows: src " + src.describe() + " and dst " + dst.describe() + " need the same rank");
        }
        if (!(row >= 0 && row + src.dim(0) <= dst.dim(0))) {
            throw new IllegalArgumentException("copyRows: rows [" + row + ", " + (row + src.dim(0)) + ") of src " + src.describe()
                    + " do not fit in dst " + dst.describe());
        }
        copy(src, dst.slice(0, row, row + src.dim(0)));
    }

    /** {@code out[t, :] = table[ids[t], :]}: table {@code [V, D]} in a weight dtype, ids I32 {@code [T]}, out F32 {@code [T, D]}. */
    void embedding(Tensor table, Tensor ids, Tensor out);

    // ------------------------------------------------------------------ linear algebra

    /**
     * {@code out = x · wᵀ + bias}, PyTorch {@code nn.Linear}: x F32 {@code [M, K]}, w {@code [N, K]} in a
     * weight dtype (contiguous), bias F32 {@code [N]} or null, out F32 {@code [M, N]}. Accumulates in F32.
     * M = 1 is the decode (GEMV) shape, larger M the prefill (GEMM) shape. A backend whose
     * {@link #prepareLinear} returns K-tiled weights ({@link TiledWeights}: {@code [T, N, K / T]})
     * or row-interleaved ones ({@link InterleavedQuant}) accepts those as w too.
     */
    void matmul(Tensor x, Tensor w, Tensor bias, Tensor out);

    /**
     * {@code outs[i] = x · ws[i]ᵀ + biases[i]} for every i: several {@link #matmul}s of one input, such
     * as a layer's q / k / v or gate / up projections. {@code biases} is null when no weight has one
     * (otherwise one entry per weight, null for none). The outputs must not overlap one another or
     * any input (all this is checked before anything is written). Each output is what
     * {@link #matmul} gives for its weight (within matmul's tolerances: float sums may be ordered
     * differently); a backend may run them as one job (the CPU backend streams a decode step's
     * weights as one range of rows: one dispatch and one activation preparation instead of one per
     * weight).
     */
    default void matmuls(Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        OpChecks.matmuls("matmuls", device(), x, ws, biases, outs);
        for (int i = 0; i < ws.length; i++) {
            matmul(x, ws[i], biases == null ? null : biases[i], outs[i]);
        }
    }

    /**
     * This backend's form of a linear weight {@code [out, in]} for {@link #matmul}: the same values,
     * possibly laid out differently (the CPU backend splits long rows into K tiles, see
     * {@link TiledWeights}, and interleaves Q8_0 / Q4_0 rows by 32, see {@link InterleavedQuant}).
     * Returns {@code w} itself when it keeps the weight as it is, otherwise a new tensor owned by the
     * caller ({@code w} is unchanged and may then be closed). The result is meant for matmul;
     * {@link TiledWeights#plainCopy} gives the plain form back.
     */
    default Tensor prepareLinear(Tensor w) {
        return w;
    }

    // ------------------------------------------------------------------ normalisation

    /**
     * RMSNorm over the last dim: {@code out = x / sqrt(mean(x²) + eps) * (weightOffset + w)}; w F32
     * {@code [D]} (or a weight float dtype), x/out {@code [..., D]}. weightOffset is 0 for LLaMA and 1 for
     * Gemma's {@code (1 + w)}. In place allowed.
     */
    void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out);

    /** LayerNorm over the last dim with affine weight and bias {@code [D]}: {@code (x - mean) / sqrt(var + eps) * w + b}. In place allowed. */
    void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out);

    /** Softmax over the last dim, in F32. In place allowed. */
    void softmax(Tensor x, Tensor out);

    // ------------------------------------------------------------------ attention

    /**
     * Rotary position embedding, HF {@code rotate_half} layout, on x {@code [T, H, Dh]}: for token t at
     * position {@code startPos + t} and i &lt; Dh/2, angle = (float) position * invFreq[i] computed in F32,
     * {@code out[i] = x[i] cos - x[i + Dh/2] sin}, {@code out[i + Dh/2] = x[i + Dh/2] cos + x[i] sin}.
     * invFreq F32 {@code [Dh/2]} on this backend (rope scaling is folded into it by the caller). In place allowed.
     */
    void rope(Tensor x, int startPos, Tensor invFreq, Tensor out);

    /**
     * Scaled dot-product attention. q {@code [T, Hq, Dh]} F32; k, v {@code [S, Hkv, Dh]} in F32, F16 or
     * BF16 (a KV cache view); out {@code [T, Hq, Dh]} F32. Query head h uses kv head {@code h / (Hq / Hkv)}
     * (GQA/MQA). Scores {@code q·k * scale}, softmax in F32. With {@code causal}, query t (at absolute
     * position {@code queryStart + t}) sees keys {@code 0 .. queryStart + t}; key j is at position j.
     * Prefill: T tokens with queryStart = cached length; decode: T = 1 against the cache. Causal
     * attention reads only keys {@code 0 .. queryStart + T - 1}, so the whole preallocated cache
     * {@code [maxLen, Hkv, Dh]} can be passed without making a view per step.
     */
    void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out);

    /**
     * Local attention of a grid of queries over non-overlapping windows of a channels-last map (MGM's
     * patch info mining, folded form): q {@code [T, D]} F32 with T = (Hm / window) × (Wm / window) in
     * row-major grid order; map {@code [Hm, Wm, D]} F32 (any row/column strides, channels contiguous);
     * {@code out[t] = Σ_i softmax_i(q[t]·m_i · scale) m_i} over the window×window pixels m_i of
     * token t's window; out F32 {@code [T, D]}; q and out contiguous. The default gathers each window and calls
     * {@link #attention}; backends override it with a fused kernel.
     */
    default void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        OpChecks.windowAttention(device(), q, map, window, out);
        long d = map.dim(2);
        long rows = map.dim(0) / window;
        long cols = map.dim(1) / window;
        try (Tensor win = allocate(DType.F32, (long) window * window, 1, d)) {
            Tensor win4 = win.reshape(window, window, d);
            for (long t = 0; t < rows * cols; t++) {
                long y = t / cols * window;
                long x = t % cols * window;
                copy(map.slice(0, y, y + window).slice(1, x, x + window), win4);
                Tensor qt = q.slice(0, t, t + 1).reshape(1, 1, d);
                attention(qt, win, win, scale, false, 0, out.slice(0, t, t + 1).reshape(1, 1, d));
            }
        }
    }

    // ------------------------------------------------------------------ pointwise

    /** {@code out = act(x)}. In place allowed. */
    void activation(Activation act, Tensor x, Tensor out);

    /** {@code out = act(gate) * up} (SwiGLU / GeGLU). In place allowed (out may be gate or up). */
    void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out);

    /** {@code out = a + b}; b is broadcast to a's shape NumPy-style (e.g. a bias {@code [D]}). In place allowed. */
    void add(Tensor a, Tensor b, Tensor out);

    /** {@code out = a * b} element-wise with b broadcast to a's shape. In place allowed. */
    void mul(Tensor a, Tensor b, Tensor out);

    /** {@code out = x * s}. In place allowed. */
    void scale(Tensor x, float s, Tensor out);

    // ------------------------------------------------------------------ convolution and resampling

    /**
     * 2-D convolution, channels-last: x {@code [N, H, W, C]} F32, w {@code [O, C, kh, kw]} (PyTorch layout,
     * weight dtype), bias F32 {@code [O]} or null, out {@code [N, Ho, Wo, O]} with
     * {@code Ho = (H + 2 pad - kh) / stride + 1}. Zero padding. Used for patch embeddings, the ConvNeXt stem
     * and downsampling.
     */
    void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out);

    /**
     * Depthwise 2-D convolution, stride 1, channels-last: x {@code [N, H, W, C]}, w {@code [C, 1, k, k]},
     * bias {@code [C]} or null, zero padding {@code pad}, out {@code [N, H + 2 pad - k + 1, ..., C]}.
     */
    void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out);

    /**
     * Bilinear resize, PyTorch {@code F.interpolate(mode='bilinear', align_corners=False)} semantics with
     * the scale {@code in/out} computed in F32 and no antialiasing: x {@code [N, H, W, C]}, out
     * {@code [N, Ho, Wo, C]}. (NCHW images are viewed as {@code [N*C, H, W, 1]}.)
     */
    void resizeBilinear(Tensor x, Tensor out);

    // ------------------------------------------------------------------ selection

    /**
     * The k largest values of each row of x {@code [M, N]} F32, in descending order (ties: lower index
     * first): values F32 {@code [M, k]}, indices I32 {@code [M, k]}.
     */
    void topK(Tensor x, int k, Tensor values, Tensor indices);

    /** Index of the largest value of each row of x {@code [M, N]} F32 (first on ties): out I32 {@code [M]}. */
    void argmax(Tensor x, Tensor out);

    /** Releases backend resources (thread pools, device contexts). Tensors it allocated stay the caller's. */
    @Override
    default void close() {}
}
