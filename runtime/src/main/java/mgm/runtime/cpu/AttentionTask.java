package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.DType;

/**
 * Scaled dot-product attention. A work item is a block of query tokens against one kv head, for
 * every query head of that head's group (GQA / MQA: the group's heads read the same key / value
 * rows while they are cache-hot); blocks are as long as still gives each thread
 * {@link #ITEMS_PER_THREAD} items, and at least {@link #MIN_TOKEN_BLOCK} tokens. Per query row:
 * scores against every visible key, two-pass softmax in F32 (max, then exp and sum), then the
 * weighted sum of value rows accumulated in registers, {@link #PV_VECTORS} vectors of the head
 * dimension at a time over all keys (no accumulator round trip through memory per key).
 *
 * <p>K/V rows in F32 are read in place (values packed together when an item has several query
 * rows); BF16 / F16 rows are converted once per item ({@link HalfRows}, vectorised) into a
 * per-thread off-heap buffer and shared by the item's tokens and heads. One token against 128+
 * keys goes to {@link DecodeAttentionTask} instead.
 *
 * <p>When an item has several query rows per key (prefill, or a GQA group), its keys are first
 * transposed to {@code [dh][keys]}: a query's scores are then a broadcast of each query element
 * times a vector of keys, {@link #SCORE_VECTORS} vectors of scores in registers, with no horizontal
 * sum per key (which made the per-key dot product run CLIP's 577-token attention at 5 GFLOP/s).
 */
final class AttentionTask extends RangeTask {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /**
     * Query tokens per work item at least. An item's set-up (keys transposed, values packed or
     * converted, for every visible key) is shared by its tokens: fixed blocks of 16 spent ~40% of
     * CLIP-L's 577-token attention on it (blocks of 64 / 128 / 256 against 16 / 64 / 128, in-JVM
     * alternation, two threads: +60% / +8% / +6%; a causal 700-token 32-head prefill +12% / +7%).
     */
    static final int MIN_TOKEN_BLOCK = 16;
    /**
     * Work items per thread the blocks aim at: enough for the dynamic schedule to even out causal
     * blocks (later tokens see more keys); LLaMA's causal 512-token 16 / 4-head prefill measured
     * the same with blocks of 128 and 256 (16 or 8 items on two threads).
     */
    static final int ITEMS_PER_THREAD = 8;
    /** Accumulator vectors of the value sum kept in registers per pass over the keys. */
    static final int PV_VECTORS = 4;
    /** Value vectors per pass when two query rows share the loads (x 2 rows = 8 accumulators). */
    static final int PAIR_PV_VECTORS = 4;
    /**
     * Score vectors (keys) kept in registers per pass over the head dimension: eight independent
     * FMA chains, enough to cover the FMA latency at two FMAs per cycle.
     */
    static final int SCORE_VECTORS = 8;
    /**
     * Query rows per item (tokens x group heads) from which transposing the keys pays: the scalar
     * transposition costs about as much as four rows' dot products, so decode (one token, a GQA
     * group of 4-8 heads) keeps the per-key dot product and prefill blocks transpose.
     */
    static final int TRANSPOSE_FROM_ROWS = 16;

    private final float[][] scores;
    /** The second query row's scores when rows are done in pairs. */
    private final float[][] scores2;
    private final float[][] qRow;
    /**
     * Per-thread off-heap buffers for converted or packed key / value rows. Off heap, like every
     * tensor: a vector load site that sees both heap and native segments is compiled for both and
     * ran several times slower (measured on the value sum).
     */
    private final MemorySegment[] kBuf;
    private final MemorySegment[] vBuf;
    private final float[][] kT;

    private MemorySegment q, k, v, out;
    private long qT, qH, kS, kH, vS, vH, oT, oH;
    private DType kType, vType;
    private int t, hkv, group, dh, s, queryStart, tokenBlock, tokenBlocks;
    private float scale;
    private boolean causal;
    private long qb, kb, vb, ob;

    AttentionTask(int threads) {
        scores = new float[threads][0];
        scores2 = new float[threads][0];
        qRow = new float[threads][0];
        kBuf = new MemorySegment[threads];
        vBuf = new MemorySegment[threads];
        kT = new float[threads][0];
    }

    /** Segments are whole storages; qb / kb / vb / ob are the byte offsets of the first element. */
    int set(MemorySegment q, long qb, long qT, long qH, MemorySegment k, long kb, long kS, long kH, DType kType,
            MemorySegment v, long vb, long vS, long vH, DType vType, MemorySegment out, long ob, long oT, long oH,
            int t, int hq, int hkv, int dh, int s, float scale, boolean causal, int queryStart, int threads) {
        this.qb = qb;
        this.kb = kb;
        this.vb = vb;
        this.ob = ob;
        this.q = q;
        this.qT = qT;
        this.qH = qH;
        this.k = k;
        this.kS = kS;
        this.kH = kH;
        this.kType = kType;
        this.v = v;
        this.vS = vS;
        this.vH = vH;
        this.vType = vType;
        this.out = out;
        this.oT = oT;
        this.oH = oH;
        this.t = t;
        this.hkv = hkv;
        this.group = hq / hkv;
        this.dh = dh;
        this.s = s;
        this.scale = scale;
        this.causal = causal;
        this.queryStart = queryStart;
        int visible = causal ? Math.min(s, queryStart + t) : s;
        for (int w = 0; w < scores.length; w++) {
            if (scores[w].length < VecMath.padded(s)) {
                scores[w] = ThreadScratch.floats(VecMath.padded(s));
                scores2[w] = ThreadScratch.floats(VecMath.padded(s));
            }
            if (qRow[w].length < 2 * dh) {
                qRow[w] = ThreadScratch.floats(2 * dh);
            }
            // key / value buffers with room for the decode steps this task takes (below
            // DecodeAttentionTask.MIN_KEYS keys) from the first, so that they are not made anew at each
            // step as the visible keys grow; a prefill sizes them for its own keys (the transposed keys
            // serve prefill only), not for the whole cache, which may hold 100K+ positions
            long rows = Math.max(visible, DecodeAttentionTask.MIN_KEYS);
            if (kType != DType.F32 && (kBuf[w] == null || kBuf[w].byteSize() < 4L * visible * dh)) {
                kBuf[w] = java.lang.foreign.Arena.ofAuto().allocate(4L * rows * dh, 64);
            }
            if (t * group >= TRANSPOSE_FROM_ROWS && kT[w].length < (long) VecMath.padded(visible) * dh) {
                kT[w] = ThreadScratch.floats(VecMath.padded(visible) * dh);
            }
            if ((vType != DType.F32 || t * group >= TRANSPOSE_FROM_ROWS)
                    && (vBuf[w] == null || vBuf[w].byteSize() < 4L * visible * dh)) {
                vBuf[w] = java.lang.foreign.Arena.ofAuto().allocate(4L * rows * dh, 64);
            }
        }
        int blocksPerHead = Math.max(1, (ITEMS_PER_THREAD * threads + hkv - 1) / hkv);
        this.tokenBlock = Math.max(MIN_TOKEN_BLOCK, (t + blocksPerHead - 1) / blocksPerHead);
        this.tokenBlocks = (t + tokenBlock - 1) / tokenBlock;
        long items = (long) tokenBlocks * hkv;
        return split(items, 1);
    }

    void release() {
        q = k = v = out = null;
    }

    @Override
    void range(long from, long to, int worker) {
        for (long item = from; item < to; item++) {
            int hk = (int) (item % hkv);
            int t0 = (int) (item / hkv) * tokenBlock;
            int t1 = Math.min(t, t0 + tokenBlock);
            int visible = causal ? Math.min(s, queryStart + t1) : s;
            // where this item reads key / value row j: base + j * stride (bytes), F32
            MemorySegment ks;
            long kBase;
            long kStride;
            if (kType == DType.F32) {
                ks = k;
                kBase = kb + 4L * hk * kH;
                kStride = 4L * kS;
            } else {
                convertRows(k, kType, kb, kS, hk * kH, visible, kBuf[worker]);
                ks = kBuf[worker];
                kBase = 0;
                kStride = 4L * dh;
            }
            MemorySegment vs;
            long vBase;
            long vStride;
            boolean manyRows = (t1 - t0) * group >= TRANSPOSE_FROM_ROWS;
            if (vType == DType.F32 && manyRows) {
                // A head's value rows sit one [H * dh] row apart (4 KB for 16 x 64): the same L1
                // sets for every key. Packed together once, the item's query rows read them in order.
                MemorySegment dst = vBuf[worker];
                long o = vb + 4L * hk * vH;
                for (int j = 0; j < visible; j++, o += 4L * vS) {
                    MemorySegment.copy(v, o, dst, 4L * j * dh, 4L * dh);
                }
                vs = dst;
                vBase = 0;
                vStride = 4L * dh;
            } else if (vType == DType.F32) {
                vs = v;
                vBase = vb + 4L * hk * vH;
                vStride = 4L * vS;
            } else {
                convertRows(v, vType, vb, vS, hk * vH, visible, vBuf[worker]);
                vs = vBuf[worker];
                vBase = 0;
                vStride = 4L * dh;
            }
            int ldk = 0;
            if (manyRows) {
                ldk = VecMath.padded(visible);
                transposeKeys(ks, kBase, kStride, visible, ldk, kT[worker]);
            }

            // query rows in (token, head of the group) order; with transposed keys two at a time, so
            // that each key / value vector loaded serves two rows' FMAs (one row alone is bound by those loads)
            boolean pairs = manyRows && dh % (PAIR_PV_VECTORS * L) == 0;
            int rows = (t1 - t0) * group;
            for (int r = 0; r < rows; r++) {
                int tt = t0 + r / group;
                int h = hk * group + r % group;
                if (pairs && r + 1 < rows) {
                    int tt1 = t0 + (r + 1) / group;
                    attendPair(tt, h, visibleKeys(tt), tt1, hk * group + (r + 1) % group, visibleKeys(tt1), ldk, vs, vBase,
                            vStride, worker);
                    r++;
                } else {
                    attendRow(tt, h, visibleKeys(tt), ks, kBase, kStride, ldk, vs, vBase, vStride, worker);
                }
            }
        }
    }

    /** Keys query token tt sees. */
    private int visibleKeys(int tt) {
        return causal ? Math.min(s, queryStart + tt + 1) : s;
    }

    /**
     * Two query rows (token tt0 / head h0 over n0 keys, token tt1 / head h1 over n1 >= n0 keys),
     * keys transposed in kT: the same sums in the same order as two {@link #attendRow} calls.
     */
    private void attendPair(int tt0, int h0, int n0, int tt1, int h1, int n1, int ldk, MemorySegment vs, long vBase,
                            long vStride, int worker) {
        float[] qr = qRow[worker];
        float[] sc0 = scores[worker];
        float[] sc1 = scores2[worker];
        MemorySegment.copy(q, FL, qb + 4L * (tt0 * qT + h0 * qH), qr, 0, dh);
        MemorySegment.copy(q, FL, qb + 4L * (tt1 * qT + h1 * qH), qr, dh, dh);
        scoresTransposedPair(qr, kT[worker], ldk, n1, sc0, sc1);
        float max0 = VecMath.max(sc0, n0);
        float max1 = VecMath.max(sc1, n1);
        float inv0 = 1f / VecMath.expSum(sc0, n0, max0);
        float inv1 = 1f / VecMath.expSum(sc1, n1, max1);
        long oo0 = ob + 4L * (tt0 * oT + h0 * oH);
        long oo1 = ob + 4L * (tt1 * oT + h1 * oH);
        for (int i = 0; i < dh; i += PAIR_PV_VECTORS * L) {
            weightedSumPair(sc0, n0, sc1, n1, vs, vBase + 4L * i, vStride, inv0, oo0 + 4L * i, inv1, oo1 + 4L * i);
        }
    }

    /** Keys 0 .. rows-1 (F32, byte base + j * stride) into dst[d * ldk + j]; the padding columns zero. */
    private void transposeKeys(MemorySegment ks, long base, long stride, int rows, int ldk, float[] dst) {
        for (int j = 0; j < rows; j++) {
            long o = base + j * stride;
            for (int d = 0; d < dh; d++) {
                dst[d * ldk + j] = ks.get(FL, o + 4L * d);
            }
        }
        for (int d = 0; d < dh; d++) {
            java.util.Arrays.fill(dst, d * ldk + rows, d * ldk + ldk, 0f);
        }
    }

    /** One query row (token tt, head h) over keys 0 .. n-1; ldk > 0: the keys are transposed in kT. */
    private void attendRow(int tt, int h, int n, MemorySegment ks, long kBase, long kStride, int ldk, MemorySegment vs,
                           long vBase, long vStride, int worker) {
        float[] qr = qRow[worker];
        float[] sc = scores[worker];
        MemorySegment.copy(q, FL, qb + 4L * (tt * qT + h * qH), qr, 0, dh);
        float max = Float.NEGATIVE_INFINITY;
        if (ldk > 0) {
            scoresTransposed(qr, kT[worker], ldk, n, sc);
            max = VecMath.max(sc, n);
        } else {
            for (int j = 0; j < n; j++) {
                float d = scale * dot(qr, ks, kBase + j * kStride);
                sc[j] = d;
                max = Math.max(max, d);
            }
        }
        float inv = 1f / VecMath.expSum(sc, n, max);
        long oo = ob + 4L * (tt * oT + h * oH);
        int i = 0;
        for (; i + 2 * PV_VECTORS * L <= dh; i += 2 * PV_VECTORS * L) {
            weightedSum8(sc, n, vs, vBase + 4L * i, vStride, inv, oo + 4L * i);
        }
        for (; i + PV_VECTORS * L <= dh; i += PV_VECTORS * L) {
            weightedSum4(sc, n, vs, vBase + 4L * i, vStride, inv, oo + 4L * i);
        }
        for (; i + L <= dh; i += L) {
            FloatVector a = FloatVector.zero(F);
            long o = vBase + 4L * i;
            for (int j = 0; j < n; j++, o += vStride) {
                a = FloatVector.fromMemorySegment(F, vs, o, LE).fma(FloatVector.broadcast(F, sc[j]), a);
            }
            a.lanewise(VectorOperators.MUL, FloatVector.broadcast(F, inv)).intoMemorySegment(out, oo + 4L * i, LE);
        }
        for (; i < dh; i++) {
            float a = 0f;
            long o = vBase + 4L * i;
            for (int j = 0; j < n; j++, o += vStride) {
                a = Math.fma(sc[j], vs.get(FL, o), a);
            }
            out.set(FL, oo + 4L * i, a * inv);
        }
    }

    /** sc[j] = scale * q · k_j for j < n (and up to the next vector), keys transposed: kt[d * ldk + j]. */
    private void scoresTransposed(float[] qr, float[] kt, int ldk, int n, float[] sc) {
        int nv = VecMath.padded(n);
        int j = 0;
        for (; j + SCORE_VECTORS * L <= nv; j += SCORE_VECTORS * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
            for (int d = 0, o = j; d < dh; d++, o += ldk) {
                FloatVector qd = FloatVector.broadcast(F, qr[d]);
                a0 = FloatVector.fromArray(F, kt, o).fma(qd, a0);
                a1 = FloatVector.fromArray(F, kt, o + L).fma(qd, a1);
                a2 = FloatVector.fromArray(F, kt, o + 2 * L).fma(qd, a2);
                a3 = FloatVector.fromArray(F, kt, o + 3 * L).fma(qd, a3);
                a4 = FloatVector.fromArray(F, kt, o + 4 * L).fma(qd, a4);
                a5 = FloatVector.fromArray(F, kt, o + 5 * L).fma(qd, a5);
                a6 = FloatVector.fromArray(F, kt, o + 6 * L).fma(qd, a6);
                a7 = FloatVector.fromArray(F, kt, o + 7 * L).fma(qd, a7);
            }
            FloatVector scaleV = FloatVector.broadcast(F, scale);
            a0.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j);
            a1.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j + L);
            a2.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j + 2 * L);
            a3.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j + 3 * L);
            a4.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j + 4 * L);
            a5.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j + 5 * L);
            a6.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j + 6 * L);
            a7.lanewise(VectorOperators.MUL, scaleV).intoArray(sc, j + 7 * L);
        }
        for (; j < nv; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int d = 0, o = j; d < dh; d++, o += ldk) {
                a = FloatVector.fromArray(F, kt, o).fma(FloatVector.broadcast(F, qr[d]), a);
            }
            a.lanewise(VectorOperators.MUL, FloatVector.broadcast(F, scale)).intoArray(sc, j);
        }
    }

    /**
     * Two query rows' scores (q rows at qr[0..dh) and qr[dh..2dh)) against keys j &lt; n (and up to the
     * next vector), keys transposed: four key vectors x two rows in registers, so each key vector
     * loaded feeds two FMAs. Per score the same FMA sequence over d as {@link #scoresTransposed}.
     */
    private void scoresTransposedPair(float[] qr, float[] kt, int ldk, int n, float[] sc0, float[] sc1) {
        int nv = VecMath.padded(n);
        int j = 0;
        for (; j + 4 * L <= nv; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
            for (int d = 0, o = j; d < dh; d++, o += ldk) {
                FloatVector k0 = FloatVector.fromArray(F, kt, o);
                FloatVector k1 = FloatVector.fromArray(F, kt, o + L);
                FloatVector k2 = FloatVector.fromArray(F, kt, o + 2 * L);
                FloatVector k3 = FloatVector.fromArray(F, kt, o + 3 * L);
                FloatVector q0 = FloatVector.broadcast(F, qr[d]);
                FloatVector q1 = FloatVector.broadcast(F, qr[dh + d]);
                a0 = k0.fma(q0, a0);
                a1 = k1.fma(q0, a1);
                a2 = k2.fma(q0, a2);
                a3 = k3.fma(q0, a3);
                b0 = k0.fma(q1, b0);
                b1 = k1.fma(q1, b1);
                b2 = k2.fma(q1, b2);
                b3 = k3.fma(q1, b3);
            }
            FloatVector scaleV = FloatVector.broadcast(F, scale);
            a0.lanewise(VectorOperators.MUL, scaleV).intoArray(sc0, j);
            a1.lanewise(VectorOperators.MUL, scaleV).intoArray(sc0, j + L);
            a2.lanewise(VectorOperators.MUL, scaleV).intoArray(sc0, j + 2 * L);
            a3.lanewise(VectorOperators.MUL, scaleV).intoArray(sc0, j + 3 * L);
            b0.lanewise(VectorOperators.MUL, scaleV).intoArray(sc1, j);
            b1.lanewise(VectorOperators.MUL, scaleV).intoArray(sc1, j + L);
            b2.lanewise(VectorOperators.MUL, scaleV).intoArray(sc1, j + 2 * L);
            b3.lanewise(VectorOperators.MUL, scaleV).intoArray(sc1, j + 3 * L);
        }
        for (; j < nv; j += L) {
            FloatVector a = FloatVector.zero(F);
            FloatVector b = FloatVector.zero(F);
            for (int d = 0, o = j; d < dh; d++, o += ldk) {
                FloatVector kd = FloatVector.fromArray(F, kt, o);
                a = kd.fma(FloatVector.broadcast(F, qr[d]), a);
                b = kd.fma(FloatVector.broadcast(F, qr[dh + d]), b);
            }
            FloatVector scaleV = FloatVector.broadcast(F, scale);
            a.lanewise(VectorOperators.MUL, scaleV).intoArray(sc0, j);
            b.lanewise(VectorOperators.MUL, scaleV).intoArray(sc1, j);
        }
    }

    /**
     * Two rows' value sums over {@link #PAIR_PV_VECTORS} vectors of dimensions: keys j &lt; n0 feed
     * both rows from one load of each value vector, keys n0 &lt;= j &lt; n1 only the second row.
     */
    private void weightedSumPair(float[] p0, int n0, float[] p1, int n1, MemorySegment vs, long o, long vStride, float inv0,
                                 long oo0, float inv1, long oo1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int j = 0;
        for (; j < n0; j++, o += vStride) {
            FloatVector v0 = FloatVector.fromMemorySegment(F, vs, o, LE);
            FloatVector v1 = FloatVector.fromMemorySegment(F, vs, o + 4L * L, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(F, vs, o + 8L * L, LE);
            FloatVector v3 = FloatVector.fromMemorySegment(F, vs, o + 12L * L, LE);
            FloatVector pa = FloatVector.broadcast(F, p0[j]);
            FloatVector pb = FloatVector.broadcast(F, p1[j]);
            a0 = v0.fma(pa, a0);
            a1 = v1.fma(pa, a1);
            a2 = v2.fma(pa, a2);
            a3 = v3.fma(pa, a3);
            b0 = v0.fma(pb, b0);
            b1 = v1.fma(pb, b1);
            b2 = v2.fma(pb, b2);
            b3 = v3.fma(pb, b3);
        }
        for (; j < n1; j++, o += vStride) {
            FloatVector pb = FloatVector.broadcast(F, p1[j]);
            b0 = FloatVector.fromMemorySegment(F, vs, o, LE).fma(pb, b0);
            b1 = FloatVector.fromMemorySegment(F, vs, o + 4L * L, LE).fma(pb, b1);
            b2 = FloatVector.fromMemorySegment(F, vs, o + 8L * L, LE).fma(pb, b2);
            b3 = FloatVector.fromMemorySegment(F, vs, o + 12L * L, LE).fma(pb, b3);
        }
        MemorySegment dst = out;
        FloatVector inv0V = FloatVector.broadcast(F, inv0), inv1V = FloatVector.broadcast(F, inv1);
        a0.lanewise(VectorOperators.MUL, inv0V).intoMemorySegment(dst, oo0, LE);
        a1.lanewise(VectorOperators.MUL, inv0V).intoMemorySegment(dst, oo0 + 4L * L, LE);
        a2.lanewise(VectorOperators.MUL, inv0V).intoMemorySegment(dst, oo0 + 8L * L, LE);
        a3.lanewise(VectorOperators.MUL, inv0V).intoMemorySegment(dst, oo0 + 12L * L, LE);
        b0.lanewise(VectorOperators.MUL, inv1V).intoMemorySegment(dst, oo1, LE);
        b1.lanewise(VectorOperators.MUL, inv1V).intoMemorySegment(dst, oo1 + 4L * L, LE);
        b2.lanewise(VectorOperators.MUL, inv1V).intoMemorySegment(dst, oo1 + 8L * L, LE);
        b3.lanewise(VectorOperators.MUL, inv1V).intoMemorySegment(dst, oo1 + 12L * L, LE);
    }

    /** As {@link #weightedSum4} over 8L dimensions: eight FMA chains (one pass for head dim 64 on AVX2). */
    private void weightedSum8(float[] p, int n, MemorySegment vs, long o, long vStride, float inv, long oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        for (int j = 0; j < n; j++, o += vStride) {
            FloatVector pj = FloatVector.broadcast(F, p[j]);
            a0 = FloatVector.fromMemorySegment(F, vs, o, LE).fma(pj, a0);
            a1 = FloatVector.fromMemorySegment(F, vs, o + 4L * L, LE).fma(pj, a1);
            a2 = FloatVector.fromMemorySegment(F, vs, o + 8L * L, LE).fma(pj, a2);
            a3 = FloatVector.fromMemorySegment(F, vs, o + 12L * L, LE).fma(pj, a3);
            a4 = FloatVector.fromMemorySegment(F, vs, o + 16L * L, LE).fma(pj, a4);
            a5 = FloatVector.fromMemorySegment(F, vs, o + 20L * L, LE).fma(pj, a5);
            a6 = FloatVector.fromMemorySegment(F, vs, o + 24L * L, LE).fma(pj, a6);
            a7 = FloatVector.fromMemorySegment(F, vs, o + 28L * L, LE).fma(pj, a7);
        }
        MemorySegment dst = out;
        FloatVector invV = FloatVector.broadcast(F, inv);
        a0.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo, LE);
        a1.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 4L * L, LE);
        a2.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 8L * L, LE);
        a3.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 12L * L, LE);
        a4.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 16L * L, LE);
        a5.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 20L * L, LE);
        a6.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 24L * L, LE);
        a7.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 28L * L, LE);
    }

    /** {@code out[0 .. 4L) = inv * Σ_j p[j] v_j[0 .. 4L)} with the four accumulators in registers. */
    private void weightedSum4(float[] p, int n, MemorySegment vs, long o, long vStride, float inv, long oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int j = 0; j < n; j++, o += vStride) {
            FloatVector pj = FloatVector.broadcast(F, p[j]);
            a0 = FloatVector.fromMemorySegment(F, vs, o, LE).fma(pj, a0);
            a1 = FloatVector.fromMemorySegment(F, vs, o + 4L * L, LE).fma(pj, a1);
            a2 = FloatVector.fromMemorySegment(F, vs, o + 8L * L, LE).fma(pj, a2);
            a3 = FloatVector.fromMemorySegment(F, vs, o + 12L * L, LE).fma(pj, a3);
        }
        MemorySegment dst = out;
        FloatVector invV = FloatVector.broadcast(F, inv);
        a0.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo, LE);
        a1.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 4L * L, LE);
        a2.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 8L * L, LE);
        a3.lanewise(VectorOperators.MUL, invV).intoMemorySegment(dst, oo + 12L * L, LE);
    }

    /** q · (the F32 row at byte o of seg), four independent accumulators. */
    private float dot(float[] qr, MemorySegment seg, long o) {
        int n = dh;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            a0 = FloatVector.fromMemorySegment(F, seg, o + 4L * i, LE).fma(FloatVector.fromArray(F, qr, i), a0);
            a1 = FloatVector.fromMemorySegment(F, seg, o + 4L * (i + L), LE).fma(FloatVector.fromArray(F, qr, i + L), a1);
            a2 = FloatVector.fromMemorySegment(F, seg, o + 4L * (i + 2 * L), LE).fma(FloatVector.fromArray(F, qr, i + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, seg, o + 4L * (i + 3 * L), LE).fma(FloatVector.fromArray(F, qr, i + 3 * L), a3);
        }
        for (; i + L <= n; i += L) {
            a0 = FloatVector.fromMemorySegment(F, seg, o + 4L * i, LE).fma(FloatVector.fromArray(F, qr, i), a0);
        }
        float sum = a0.lanewise(VectorOperators.ADD, a1).lanewise(VectorOperators.ADD, a2.lanewise(VectorOperators.ADD, a3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += seg.get(FL, o + 4L * i) * qr[i];
        }
        return sum;
    }

    /** Rows 0 .. rows-1 (head at element offset headElem) of a BF16 / F16 cache into dst as F32, dh per row. */
    private void convertRows(MemorySegment seg, DType type, long base, long rowStride, long headElem, int rows, MemorySegment dst) {
        for (int j = 0; j < rows; j++) {
            HalfRows.widen(seg, type, base + 2L * (j * rowStride + headElem), dh, dst, 4L * j * dh);
        }
    }
}
