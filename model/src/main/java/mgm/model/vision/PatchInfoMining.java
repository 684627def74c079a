package mgm.model.vision;

import mgm.model.WeightLoader;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * MGM's patch info mining ({@code unified_resampler}): each low-res token t attends over its
 * window of high-res pixels h_i, {@code out[t] = F[t] + Σ_i softmax_i(q·k_i / sqrt(d)) v_i} with
 * {@code q = Wq LN_q(F[t]) + bq}, {@code k_i = Wk LN_k(h_i) + bk}, {@code v_i = Wv LN_v(h_i) + bv}.
 *
 * <p>Two exact forms. {@link #mineDirect} projects every pixel of every window, as the reference
 * does. {@link #mine} folds the projections out of the window loop: with ĥ_i = (h_i - μ_i) / σ_i,
 * {@code q·k_i = (γ_k ⊙ Wkᵀ q)·ĥ_i + const} (constants cancel in the softmax) and, because the
 * weights sum to one, {@code Σ a_i v_i = Wv (γ_v ⊙ Σ a_i ĥ_i + β_v) + bv}. That needs one
 * pixel-wise normalisation of the map and two matmuls per token instead of projecting all pixels
 * through two d×C matrices (~0.4 TFLOP at 768 px).
 */
public final class PatchInfoMining {
    /** nn.LayerNorm's default, used by all three projectors. */
    private static final float EPS = 1e-5f;

    private final Backend backend;
    private final int dim;
    private final int auxDim;
    private final Tensor qNormW;
    private final Tensor qNormB;
    private final Tensor wq;
    private final Tensor bq;
    private final Tensor kNormW;
    private final Tensor kNormB;
    private final Tensor wk;
    private final Tensor bk;
    private final Tensor wkTransposed;
    private final Tensor vNormW;
    private final Tensor vNormB;
    private final Tensor wv;
    private final Tensor bv;
    private final Tensor ones;
    private final Tensor zeros;

    /** @param dim CLIP width (mm_hidden_size), @param auxDim ConvNeXt concat width (mm_hidden_size_aux) */
    public PatchInfoMining(WeightLoader w, String prefix, int dim, int auxDim) {
        this.backend = w.backend();
        this.dim = dim;
        this.auxDim = auxDim;
        String q = prefix + "vlm_uni_query_projector.";
        String k = prefix + "vlm_uni_aux_projector.";
        String v = prefix + "vlm_uni_val_projector.";
        qNormW = w.vector(q + "0.weight", dim);
        qNormB = w.vector(q + "0.bias", dim);
        wq = w.stored(q + "1.weight", dim, dim);
        bq = w.vector(q + "1.bias", dim);
        kNormW = w.vector(k + "0.weight", auxDim);
        kNormB = w.vector(k + "0.bias", auxDim);
        wk = w.stored(k + "1.weight", dim, auxDim);
        bk = w.vector(k + "1.bias", dim);
        vNormW = w.vector(v + "0.weight", auxDim);
        vNormB = w.vector(v + "0.bias", auxDim);
        wv = w.stored(v + "1.weight", dim, auxDim);
        bv = w.vector(v + "1.bias", dim);
        wkTransposed = w.owned(backend.allocate(DType.F32, auxDim, dim));
        backend.copy(wk.transpose(0, 1), wkTransposed);
        ones = w.owned(backend.allocate(DType.F32, auxDim));
        zeros = w.owned(backend.allocate(DType.F32, auxDim));
        try (Tensor hostOnes = Tensor.of(filled(auxDim, 1f), auxDim)) {
            backend.copy(hostOnes, ones);
        }
    }

    /** Normalises every pixel of a high-res map {@code [H, W, auxDim]} over channels, in place (no affine). */
    public void normalizeMap(Tensor map) {
        checkMap(map);
        backend.layerNorm(map, ones, zeros, EPS, map);
    }

    /**
     * The folded form: low-res features {@code [T, dim]}, a map normalised by {@link #normalizeMap}
     * (any row/column strides). Returns {@code F + mined} {@code [T, dim]}, owned by the caller.
     */
    public Tensor mine(Tensor features, Tensor normalizedMap) {
        int window = windowOf(features, normalizedMap);
        long t = features.dim(0);
        Tensor out = backend.allocate(DType.F32, t, dim);
        try (Tensor normed = backend.allocate(DType.F32, t, dim);
             Tensor query = backend.allocate(DType.F32, t, dim);
             Tensor folded = backend.allocate(DType.F32, t, auxDim);
             Tensor pooled = backend.allocate(DType.F32, t, auxDim)) {
            project(features, query, normed);
            backend.matmul(query, wkTransposed, null, folded);
            backend.mul(folded, kNormW, folded);
            backend.windowAttention(folded, normalizedMap, window, scale(), pooled);
            backend.mul(pooled, vNormW, pooled);
            backend.add(pooled, vNormB, pooled);
            backend.matmul(pooled, wv, bv, out);
            backend.add(out, features, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * The reference form on the raw (unnormalised) map: every window pixel is projected to keys and
     * values. Slow at real sizes; it exists to check {@link #mine}.
     */
    public Tensor mineDirect(Tensor features, Tensor rawMap) {
        int window = windowOf(features, rawMap);
        long t = features.dim(0);
        int pixels = window * window;
        long cols = rawMap.dim(1) / window;
        Tensor out = backend.allocate(DType.F32, t, dim);
        try (Tensor normed = backend.allocate(DType.F32, t, dim);
             Tensor query = backend.allocate(DType.F32, t, dim);
             Tensor windows = backend.allocate(DType.F32, t * pixels, auxDim);
             Tensor windowNorm = backend.allocate(DType.F32, t * pixels, auxDim);
             Tensor keys = backend.allocate(DType.F32, t * pixels, dim);
             Tensor values = backend.allocate(DType.F32, t * pixels, dim)) {
            project(features, query, normed);
            for (long i = 0; i < t; i++) {
                long y = i / cols * window;
                long x = i % cols * window;
                Tensor src = rawMap.slice(0, y, y + window).slice(1, x, x + window);
                backend.copy(src, windows.slice(0, i * pixels, (i + 1) * pixels).reshape(window, window, auxDim));
            }
            backend.layerNorm(windows, kNormW, kNormB, EPS, windowNorm);
            backend.matmul(windowNorm, wk, bk, keys);
            backend.layerNorm(windows, vNormW, vNormB, EPS, windowNorm);
            backend.matmul(windowNorm, wv, bv, values);
            for (long i = 0; i < t; i++) {
                Tensor qi = query.slice(0, i, i + 1).reshape(1, 1, dim);
                Tensor ki = keys.slice(0, i * pixels, (i + 1) * pixels).reshape(pixels, 1, dim);
                Tensor vi = values.slice(0, i * pixels, (i + 1) * pixels).reshape(pixels, 1, dim);
                backend.attention(qi, ki, vi, scale(), false, 0, out.slice(0, i, i + 1).reshape(1, 1, dim));
            }
            backend.add(out, features, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** q = Wq LN_q(F) + bq. */
    private void project(Tensor features, Tensor query, Tensor normed) {
        backend.layerNorm(features, qNormW, qNormB, EPS, normed);
        backend.matmul(normed, wq, bq, query);
    }

    /** 1 / sqrt(key width), as the reference divides by sqrt(k.shape[-1]). */
    private float scale() {
        return (float) (1.0 / Math.sqrt(dim));
    }

    /** The reference's window size: map side / sqrt(tokens). */
    private int windowOf(Tensor features, Tensor map) {
        checkMap(map);
        if (features.rank() != 2 || features.dim(1) != dim) {
            throw new IllegalArgumentException("low-res features " + features.describe() + " must be [T, " + dim
                    + "] (mm_hidden_size)");
        }
        long t = features.dim(0);
        long side = Math.round(Math.sqrt(t));
        if (side * side != t) {
            throw new IllegalArgumentException(t + " low-res tokens do not form a square grid");
        }
        if (map.dim(0) != map.dim(1) || map.dim(0) % side != 0) {
            throw new IllegalArgumentException("high-res map " + map.dim(0) + "x" + map.dim(1)
                    + " is not divisible into a " + side + "x" + side + " grid of square windows");
        }
        return (int) (map.dim(0) / side);
    }

    private void checkMap(Tensor map) {
        if (map.rank() != 3 || map.dim(2) != auxDim) {
            throw new IllegalArgumentException("high-res map " + map.describe() + " must be [H, W, " + auxDim
                    + "] (mm_hidden_size_aux)");
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
