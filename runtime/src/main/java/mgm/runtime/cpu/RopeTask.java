package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary embedding, HF rotate_half layout, one work item per token: the token's cos / sin table is
 * computed once ((float) position * invFreq[i] in F32, then cos / sin in double rounded to float)
 * and applied to every head with vector FMAs. In place works because both halves are loaded
 * before either is stored.
 */
final class RopeTask extends RangeTask {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private final float[][] cos;
    private final float[][] sin;
    private MemorySegment x, out, invFreq;
    private long xT, xH, oT, oH;
    private int heads, half, startPos;
    private long xb, ob, fb;

    RopeTask(int threads) {
        cos = new float[threads][0];
        sin = new float[threads][0];
    }

    /** Segments are whole storages; xb / ob / fb are the byte offsets of the first element. */
    int set(MemorySegment x, long xb, long xT, long xH, MemorySegment out, long ob, long oT, long oH, MemorySegment invFreq,
            long fb, int tokens, int heads, int dh, int startPos) {
        this.xb = xb;
        this.ob = ob;
        this.fb = fb;
        this.x = x;
        this.xT = xT;
        this.xH = xH;
        this.out = out;
        this.oT = oT;
        this.oH = oH;
        this.invFreq = invFreq;
        this.heads = heads;
        this.half = dh / 2;
        this.startPos = startPos;
        for (int w = 0; w < cos.length; w++) {
            if (cos[w].length < half) {
                cos[w] = new float[half];
                sin[w] = new float[half];
            }
        }
        return split(tokens, 1);
    }

    void release() {
        x = out = invFreq = null;
    }

    @Override
    void range(long from, long to, int worker) {
        float[] c = cos[worker];
        float[] s = sin[worker];
        for (long t = from; t < to; t++) {
            float pos = (float) (startPos + t);
            for (int i = 0; i < half; i++) {
                float angle = pos * invFreq.get(FL, fb + 4L * i);
                c[i] = (float) Math.cos(angle);
                s[i] = (float) Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                long xo = xb + 4L * (t * xT + h * xH);
                long oo = ob + 4L * (t * oT + h * oH);
                long hb = 4L * half;
                int i = 0;
                for (; i + L <= half; i += L) {
                    FloatVector a = FloatVector.fromMemorySegment(F, x, xo + 4L * i, LE);
                    FloatVector b = FloatVector.fromMemorySegment(F, x, xo + hb + 4L * i, LE);
                    FloatVector cv = FloatVector.fromArray(F, c, i);
                    FloatVector sv = FloatVector.fromArray(F, s, i);
                    a.mul(cv).sub(b.mul(sv)).intoMemorySegment(out, oo + 4L * i, LE);
                    b.mul(cv).add(a.mul(sv)).intoMemorySegment(out, oo + hb + 4L * i, LE);
                }
                for (; i < half; i++) {
                    float a = x.get(FL, xo + 4L * i);
                    float b = x.get(FL, xo + hb + 4L * i);
                    out.set(FL, oo + 4L * i, a * c[i] - b * s[i]);
                    out.set(FL, oo + hb + 4L * i, b * c[i] + a * s[i]);
                }
            }
        }
    }
}
