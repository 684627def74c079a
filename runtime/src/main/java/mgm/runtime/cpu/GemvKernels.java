package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of one weight row with one activation row, per weight dtype: the inner loop of the
 * decode-shape matmul. The weight row (at byte {@code row} of {@code w}) is streamed once and dequantised in registers;
 * the activation row was prepared once per matmul in the layout each kernel wants (see
 * {@link #prepare}). All loops are unrolled over independent accumulators so that FMA latency does
 * not bound the loop; nothing is allocated (no per-row slices). Loops count whole steps with a plain
 * int induction variable and derive the byte offsets from it: in that form C2 removes the
 * per-access bounds checks (the loop body shrank by a third for Q4_0).
 *
 * <p>Float formats use the preferred species (any width). The block-quantised kernels use 256-bit
 * vectors (one 32-element block = 4 x 8 lanes), which every AVX2 / AVX-512 machine runs natively.
 */
final class GemvKernels {
    private GemvKernels() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final IntVector LOW_NIBBLE = IntVector.broadcast(I8, 0xF);
    private static final IntVector HIGH_HALF = IntVector.broadcast(I, 0xFFFF0000);
    private static final IntVector F16_EXP_LO = IntVector.broadcast(I, 0x7C00);
    private static final IntVector F16_TO_F32_MASK = IntVector.broadcast(I, 0x8FFFE000);
    private static final FloatVector F16_SCALE = FloatVector.broadcast(F, 0x1p112f);

    // ------------------------------------------------------------------ activation layouts


    /**
     * Writes activation row {@code x[0..k)} into {@code dst} in the layout the kernel for {@code w}
     * reads: F32 / Q8_0 / Q4_0 natural order; BF16 / F16 split per 2L-chunk into even then odd
     * elements (tail in natural order). For Q4_0 also fills {@code blockSums[b] = -(sum of block b)}.
     */
    static void prepare(mgm.runtime.DType w, float[] x, int k, float[] dst, float[] blockSums) {
        switch (w) {
            case BF16, F16 -> {
                int c = 0;
                for (; c + 2 * L <= k; c += 2 * L) {
                    for (int l = 0; l < L; l++) {
                        dst[c + l] = x[c + 2 * l];
                        dst[c + L + l] = x[c + 2 * l + 1];
                    }
                }
                System.arraycopy(x, c, dst, c, k - c);
            }
            case Q4_0 -> {
                System.arraycopy(x, 0, dst, 0, k);
                for (int b = 0; b < k / 32; b++) {
                    float s = 0;
                    for (int j = 0; j < 32; j++) {
                        s += x[b * 32 + j];
                    }
                    blockSums[b] = -s;
                }
            }
            default -> System.arraycopy(x, 0, dst, 0, k);
        }
    }

    // ------------------------------------------------------------------ F32

    static float dotF32(MemorySegment w, long row, float[] x, int k) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int steps = k / (4 * L);
        for (int c = 0; c < steps; c++) {
            int i = c * 4 * L;
            long o = 16L * L * c;
            a0 = FloatVector.fromMemorySegment(F, w, row + o, LE).fma(FloatVector.fromArray(F, x, i), a0);
            a1 = FloatVector.fromMemorySegment(F, w, row + o + 4L * L, LE).fma(FloatVector.fromArray(F, x, i + L), a1);
            a2 = FloatVector.fromMemorySegment(F, w, row + o + 8L * L, LE).fma(FloatVector.fromArray(F, x, i + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, w, row + o + 12L * L, LE).fma(FloatVector.fromArray(F, x, i + 3 * L), a3);
        }
        int i = steps * 4 * L;
        for (; i + L <= k; i += L) {
            a0 = FloatVector.fromMemorySegment(F, w, row + 4L * i, LE).fma(FloatVector.fromArray(F, x, i), a0);
        }
        float s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            s += w.get(FL, row + 4L * i) * x[i];
        }
        return s;
    }

    // ------------------------------------------------------------------ BF16

    /** BF16 is the top half of an F32: an int lane holding elements (2l, 2l+1) gives both with one shift / mask. */
    static float dotBf16(MemorySegment w, long row, float[] xeo, int k) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int steps = k / (4 * L);
        for (int c = 0; c < steps; c++) {
            int i = c * 4 * L;
            long o = 8L * L * c;
            IntVector v0 = IntVector.fromMemorySegment(I, w, row + o, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, w, row + o + 4L * L, LE);
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xeo, i), a0);
            a1 = v0.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromArray(F, xeo, i + L), a1);
            a2 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xeo, i + 2 * L), a2);
            a3 = v1.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromArray(F, xeo, i + 3 * L), a3);
        }
        int i = steps * 4 * L;
        for (; i + 2 * L <= k; i += 2 * L) {
            IntVector v0 = IntVector.fromMemorySegment(I, w, row + 2L * i, LE);
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xeo, i), a0);
            a1 = v0.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromArray(F, xeo, i + L), a1);
        }
        float s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            s += Float.intBitsToFloat((w.get(SH, row + 2L * i) & 0xFFFF) << 16) * xeo[i];
        }
        return s;
    }

    // ------------------------------------------------------------------ F16

    /**
     * F16 to F32 in registers: sign, exponent and mantissa shifted into place with one arithmetic
     * shift and a mask, then scaled by 2^112 (exact for normals and subnormals). Inf/NaN halves
     * (exponent 31) would come out finite, so the largest exponent field is tracked and such a row
     * is recomputed with the exact scalar path.
     */
    static float dotF16(MemorySegment w, long row, float[] xeo, int k) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        IntVector expMax = IntVector.zero(I);
        int steps = k / (4 * L);
        for (int c = 0; c < steps; c++) {
            int i = c * 4 * L;
            long o = 8L * L * c;
            IntVector v0 = IntVector.fromMemorySegment(I, w, row + o, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, w, row + o + 4L * L, LE);
            // exponent fields of both halves of both vectors: all-ones (31) only for Inf / NaN
            expMax = expMax.max(v0.and(F16_EXP_LO)).max(v1.and(F16_EXP_LO)).max(v0.lanewise(VectorOperators.LSHR, 16).and(F16_EXP_LO))
                    .max(v1.lanewise(VectorOperators.LSHR, 16).and(F16_EXP_LO));
            // half h at the top of an int: (h << 16) >> 3 (arithmetic) puts exponent and mantissa where an
            // F32's go, minus a 112 bias, with copies of the sign in bits 28-30 that the mask clears
            FloatVector e0 = v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
            FloatVector o0 = v0.lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
            FloatVector e1 = v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
            FloatVector o1 = v1.lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
            a0 = e0.mul(F16_SCALE).fma(FloatVector.fromArray(F, xeo, i), a0);
            a1 = o0.mul(F16_SCALE).fma(FloatVector.fromArray(F, xeo, i + L), a1);
            a2 = e1.mul(F16_SCALE).fma(FloatVector.fromArray(F, xeo, i + 2 * L), a2);
            a3 = o1.mul(F16_SCALE).fma(FloatVector.fromArray(F, xeo, i + 3 * L), a3);
        }
        int vecEnd = steps * 4 * L;
        if (expMax.reduceLanes(VectorOperators.MAX) == 0x7C00) {
            return dotF16Exact(w, row, xeo, k);
        }
        float s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        return s + dotF16Tail(w, row, xeo, vecEnd, k);
    }

    private static float dotF16Tail(MemorySegment w, long row, float[] xeo, int from, int k) {
        float s = 0;
        int i = from;
        for (; i + 2 * L <= k; i += 2 * L) {
            for (int l = 0; l < L; l++) {
                s += Float.float16ToFloat(w.get(SH, row + 2L * (i + 2 * l))) * xeo[i + l]
                        + Float.float16ToFloat(w.get(SH, row + 2L * (i + 2 * l + 1))) * xeo[i + L + l];
            }
        }
        for (; i < k; i++) {
            s += Float.float16ToFloat(w.get(SH, row + 2L * i)) * xeo[i];
        }
        return s;
    }

    private static float dotF16Exact(MemorySegment w, long row, float[] xeo, int k) {
        return dotF16Tail(w, row, xeo, 0, k);
    }

    // ------------------------------------------------------------------ Q8_0

    /** Q8_0 row: per block, 4 x (8 int8 -> int -> float) FMAs into a block sum, then scaled by d. */
    static float dotQ8(MemorySegment w, long row, float[] x, int k) {
        int nb = k / 32;
        FloatVector a0 = FloatVector.zero(F8), a1 = FloatVector.zero(F8), a2 = FloatVector.zero(F8), a3 = FloatVector.zero(F8);
        int pairs = nb / 2;
        for (int p = 0; p < pairs; p++) {
            long o = p * 68L;
            int xb = p * 64;
            FloatVector d0 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, row + o)));
            FloatVector d1 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, row + o + 34)));
            FloatVector t = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 2, LE).convertShape(VectorOperators.B2F, F8, 0)).mul(FloatVector.fromArray(F8, x, xb));
            FloatVector u = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 10, LE).convertShape(VectorOperators.B2F, F8, 0)).mul(FloatVector.fromArray(F8, x, xb + 8));
            FloatVector t2 = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 36, LE).convertShape(VectorOperators.B2F, F8, 0)).mul(FloatVector.fromArray(F8, x, xb + 32));
            FloatVector u2 = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 44, LE).convertShape(VectorOperators.B2F, F8, 0)).mul(FloatVector.fromArray(F8, x, xb + 40));
            t = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 18, LE).convertShape(VectorOperators.B2F, F8, 0)).fma(FloatVector.fromArray(F8, x, xb + 16), t);
            u = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 26, LE).convertShape(VectorOperators.B2F, F8, 0)).fma(FloatVector.fromArray(F8, x, xb + 24), u);
            t2 = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 52, LE).convertShape(VectorOperators.B2F, F8, 0)).fma(FloatVector.fromArray(F8, x, xb + 48), t2);
            u2 = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 60, LE).convertShape(VectorOperators.B2F, F8, 0)).fma(FloatVector.fromArray(F8, x, xb + 56), u2);
            a0 = t.fma(d0, a0);
            a1 = u.fma(d0, a1);
            a2 = t2.fma(d1, a2);
            a3 = u2.fma(d1, a3);
        }
        float tail = (nb & 1) != 0 ? lastBlockQ8(w, row, x, nb - 1) : 0f;
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + tail;
    }

    private static float lastBlockQ8(MemorySegment w, long row, float[] x, int b) {
        FloatVector a0 = FloatVector.zero(F8), a1 = FloatVector.zero(F8);
            long o = b * 34L;
            int xb = b * 32;
            FloatVector d0 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, row + o)));
            FloatVector t = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 2, LE).convertShape(VectorOperators.B2F, F8, 0)).mul(FloatVector.fromArray(F8, x, xb));
            FloatVector u = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 10, LE).convertShape(VectorOperators.B2F, F8, 0)).mul(FloatVector.fromArray(F8, x, xb + 8));
            t = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 18, LE).convertShape(VectorOperators.B2F, F8, 0)).fma(FloatVector.fromArray(F8, x, xb + 16), t);
            u = ((FloatVector) ByteVector.fromMemorySegment(B8, w, row + o + 26, LE).convertShape(VectorOperators.B2F, F8, 0)).fma(FloatVector.fromArray(F8, x, xb + 24), u);
            a0 = t.fma(d0, a0);
            a1 = u.fma(d0, a1);
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }


    // ------------------------------------------------------------------ Q4_0

    /**
     * Q4_0 row. Byte j of a block holds element j (low nibble) and j + 16 (high nibble), so bytes
     * 0-7 zero-extended to 8 ints give elements 0-7 ({@code & 0xF}) and 16-23 ({@code >>> 4}).
     * {@code sum x (q - 8) = sum x q - 8 sum x}: {@code negSums[b] = -(sum of block b of x)} is
     * precomputed and broadcast as the addend of the block's first FMA; every one of the 8 lanes
     * carries it, so the final lane reduction adds {@code -8 d sum}. The loop thus has no scalar
     * work and no subtraction (scalar accumulators here cost registers and made C2 spill).
     */
    static float dotQ4(MemorySegment w, long row, float[] x, float[] negSums, int k) {
        int nb = k / 32;
        FloatVector a0 = FloatVector.zero(F8), a1 = FloatVector.zero(F8), a2 = FloatVector.zero(F8), a3 = FloatVector.zero(F8);
        int pairs = nb / 2;
        for (int p = 0; p < pairs; p++) {
            long o = p * 36L;
            int xb = p * 64;
            int b = 2 * p;
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B8, w, row + o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            IntVector u = (IntVector) ByteVector.fromMemorySegment(B8, w, row + o + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            FloatVector t = ((FloatVector) v.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb), FloatVector.broadcast(F8, negSums[b]));
            FloatVector s = ((FloatVector) u.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F8, x, xb + 8));
            t = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb + 16), t);
            s = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb + 24), s);
            FloatVector d0 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, row + o)));
            a0 = t.fma(d0, a0);
            a1 = s.fma(d0, a1);
            IntVector v2 = (IntVector) ByteVector.fromMemorySegment(B8, w, row + o + 20, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            IntVector u2 = (IntVector) ByteVector.fromMemorySegment(B8, w, row + o + 28, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            FloatVector t2 = ((FloatVector) v2.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb + 32), FloatVector.broadcast(F8, negSums[b + 1]));
            FloatVector s2 = ((FloatVector) u2.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F8, x, xb + 40));
            t2 = ((FloatVector) v2.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb + 48), t2);
            s2 = ((FloatVector) u2.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb + 56), s2);
            FloatVector d1 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, row + o + 18)));
            a2 = t2.fma(d1, a2);
            a3 = s2.fma(d1, a3);
        }
        float tail = (nb & 1) != 0 ? lastBlockQ4(w, row, x, negSums, nb - 1) : 0f;
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + tail;
    }

    /** The odd last block of a Q4_0 row (kept out of the main loop's method so that it stays small enough to inline fully). */
    private static float lastBlockQ4(MemorySegment w, long row, float[] x, float[] negSums, int b) {
        long o = b * 18L;
        int xb = b * 32;
        IntVector v = (IntVector) ByteVector.fromMemorySegment(B8, w, row + o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
        IntVector u = (IntVector) ByteVector.fromMemorySegment(B8, w, row + o + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
        FloatVector t = ((FloatVector) v.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb), FloatVector.broadcast(F8, negSums[b]));
        FloatVector s = ((FloatVector) u.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F8, x, xb + 8));
        t = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb + 16), t);
        s = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xb + 24), s);
        return t.add(s).reduceLanes(VectorOperators.ADD) * Float.float16ToFloat(w.get(SH, row + o));
    }



}
