package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.DType;

/**
 * Scaled dot-product attention, one work item per (query token, query head): scores against every
 * visible key, two-pass softmax in F32 (max, then exp and sum), then the weighted sum of value rows.
 * GQA/MQA: query head h reads kv head {@code h / (Hq / Hkv)}. K/V rows in F32, BF16 (widened in
 * registers) or F16 (converted into a per-thread row buffer).
 */
final class AttentionTask extends RangeTask {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> S_HALF = ShortVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(F.length() * 16));
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private final float[][] scores;
    private final float[][] qRow;
    private final float[][] kvRow;
    private final float[][] acc;

    private MemorySegment q, k, v, out;
    private long qT, qH, kS, kH, vS, vH, oT, oH;
    private DType kType, vType;
    private int hq, group, dh, s, queryStart;
    private float scale;
    private boolean causal;
    private long qb, kb, vb, ob;

    AttentionTask(int threads) {
        scores = new float[threads][0];
        qRow = new float[threads][0];
        kvRow = new float[threads][0];
        acc = new float[threads][0];
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
        this.hq = hq;
        this.group = hq / hkv;
        this.dh = dh;
        this.s = s;
        this.scale = scale;
        this.causal = causal;
        this.queryStart = queryStart;
        for (int w = 0; w < scores.length; w++) {
            if (scores[w].length < VecMath.padded(s)) {
                scores[w] = new float[VecMath.padded(s)];
            }
            if (qRow[w].length < dh) {
                qRow[w] = new float[dh];
                kvRow[w] = new float[dh];
                acc[w] = new float[dh];
            }
        }
        long items = (long) t * hq;
        return split(items, grainFor(items, threads, 1));
    }

    void release() {
        q = k = v = out = null;
    }

    @Override
    void range(long from, long to, int worker) {
        float[] sc = scores[worker];
        float[] qr = qRow[worker];
        float[] kr = kvRow[worker];
        float[] ac = acc[worker];
        for (long item = from; item < to; item++) {
            int t = (int) (item / hq);
            int h = (int) (item % hq);
            int hk = h / group;
            int n = causal ? Math.min(s, queryStart + t + 1) : s;
            MemorySegment.copy(q, FL, qb + 4L * (t * qT + h * qH), qr, 0, dh);
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                float d = scale * dot(qr, k, kType, kb, j * kS + hk * kH, kr);
                sc[j] = d;
                max = Math.max(max, d);
            }
            float sum = VecMath.expSum(sc, n, max);
            java.util.Arrays.fill(ac, 0, dh, 0f);
            for (int j = 0; j < n; j++) {
                axpy(sc[j], v, vType, vb, j * vS + hk * vH, ac, kr);
            }
            float inv = 1f / sum;
            long oo = ob + 4L * (t * oT + h * oH);
            int i = 0;
            for (; i + L <= dh; i += L) {
                FloatVector.fromArray(F, ac, i).mul(inv).intoMemorySegment(out, oo + 4L * i, LE);
            }
            for (; i < dh; i++) {
                out.set(FL, oo + 4L * i, ac[i] * inv);
            }
        }
    }

    /** q · row, row at element offset {@code elem} of seg in dtype {@code type}. */
    private float dot(float[] qr, MemorySegment seg, DType type, long base, long elem, float[] tmp) {
        int i = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        switch (type) {
            case F32 -> {
                long o = base + 4L * elem;
                for (; i + 2 * L <= dh; i += 2 * L) {
                    a0 = FloatVector.fromMemorySegment(F, seg, o + 4L * i, LE).fma(FloatVector.fromArray(F, qr, i), a0);
                    a1 = FloatVector.fromMemorySegment(F, seg, o + 4L * (i + L), LE).fma(FloatVector.fromArray(F, qr, i + L), a1);
                }
                float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
                for (; i < dh; i++) {
                    sum += seg.get(FL, o + 4L * i) * qr[i];
                }
                return sum;
            }
            case BF16 -> {
                long o = base + 2L * elem;
                for (; i + L <= dh; i += L) {
                    a0 = ((IntVector) ShortVector.fromMemorySegment(S_HALF, seg, o + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, qr, i), a0);
                }
                float sum = a0.reduceLanes(VectorOperators.ADD);
                for (; i < dh; i++) {
                    sum += Float.intBitsToFloat((seg.get(SH, o + 2L * i) & 0xFFFF) << 16) * qr[i];
                }
                return sum;
            }
            default -> { // F16
                long o = base + 2L * elem;
                for (int e = 0; e < dh; e++) {
                    tmp[e] = Float.float16ToFloat(seg.get(SH, o + 2L * e));
                }
                for (; i + L <= dh; i += L) {
                    a0 = FloatVector.fromArray(F, tmp, i).fma(FloatVector.fromArray(F, qr, i), a0);
                }
                float sum = a0.reduceLanes(VectorOperators.ADD);
                for (; i < dh; i++) {
                    sum += tmp[i] * qr[i];
                }
                return sum;
            }
        }
    }

    /** acc += p * row. */
    private void axpy(float p, MemorySegment seg, DType type, long base, long elem, float[] ac, float[] tmp) {
        int i = 0;
        switch (type) {
            case F32 -> {
                long o = base + 4L * elem;
                for (; i + L <= dh; i += L) {
                    FloatVector.fromMemorySegment(F, seg, o + 4L * i, LE).fma(FloatVector.broadcast(F, p), FloatVector.fromArray(F, ac, i)).intoArray(ac, i);
                }
                for (; i < dh; i++) {
                    ac[i] += p * seg.get(FL, o + 4L * i);
                }
            }
            case BF16 -> {
                long o = base + 2L * elem;
                for (; i + L <= dh; i += L) {
                    ((IntVector) ShortVector.fromMemorySegment(S_HALF, seg, o + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                            .fma(FloatVector.broadcast(F, p), FloatVector.fromArray(F, ac, i)).intoArray(ac, i);
                }
                for (; i < dh; i++) {
                    ac[i] += p * Float.intBitsToFloat((seg.get(SH, o + 2L * i) & 0xFFFF) << 16);
                }
            }
            default -> {
                long o = base + 2L * elem;
                for (int e = 0; e < dh; e++) {
                    tmp[e] = Float.float16ToFloat(seg.get(SH, o + 2L * e));
                }
                for (; i + L <= dh; i += L) {
                    FloatVector.fromArray(F, tmp, i).fma(FloatVector.broadcast(F, p), FloatVector.fromArray(F, ac, i)).intoArray(ac, i);
                }
                for (; i < dh; i++) {
                    ac[i] += p * tmp[i];
                }
            }
        }
    }

}
