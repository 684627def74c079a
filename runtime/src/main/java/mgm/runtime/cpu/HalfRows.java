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

/** BF16 / F16 runs (KV cache rows) widened to F32 with vectors, exactly. */
final class HalfRows {
    private HalfRows() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S_HALF = ShortVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(F.length() * 16));
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final IntVector F16_TO_F32_MASK = IntVector.broadcast(I, 0x8FFFE000);
    private static final FloatVector F16_SCALE = FloatVector.broadcast(F, 0x1p112f);
    private static final IntVector F16_EXPONENT = IntVector.broadcast(I, 0x7C00);

    /** n BF16 / F16 values at byte src of seg as F32 at byte dst of buf. */
    static void widen(MemorySegment seg, DType type, long src, int n, MemorySegment buf, long dst) {
        int i = 0;
        boolean special = false;
        for (; i + L <= n; i += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S_HALF, seg, src + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector f;
            if (type == DType.BF16) {
                f = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            } else {
                // the half's bits moved into an F32's place and scaled by 2^112: exact for normals and
                // subnormals; Inf / NaN halves (exponent 31) are redone one by one below
                special |= h.and(F16_EXPONENT).compare(VectorOperators.EQ, F16_EXPONENT).anyTrue();
                f = F16_SCALE.mul(h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats());
            }
            f.intoMemorySegment(buf, dst + 4L * i, LE);
        }
        for (i = special ? 0 : i; i < n; i++) {
            buf.set(FL, dst + 4L * i, scalar(seg, src + 2L * i, type == DType.BF16));
        }
    }

    /** The BF16 / F16 value at byte src of seg, exactly. */
    static float scalar(MemorySegment seg, long src, boolean bf16) {
        short bits = seg.get(SH, src);
        return bf16 ? Float.intBitsToFloat((bits & 0xFFFF) << 16) : Float.float16ToFloat(bits);
    }
}
