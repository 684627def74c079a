package mgm.runtime.cpu;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode attention's two loops (scores, value sums) with every cache row read once for up to four
 * query heads of a GQA group, instead of once per head. Used by {@link DecodeAttentionTask}. F32
 * rows ({@link #dotsF32}, {@link #weightedSumsF32}) are read as they are; BF16 / F16 rows
 * ({@link #dotsKeyPair}, {@link #weightedSums}) are widened in registers (instead of into a buffer that is
 * read back once per head). MHA over F16 rows, where no row is shared, takes two heads per call
 * instead ({@link #dotsKeyPairHeadPair}, {@link #weightedSumsHeadPair}). The two storage forms keep separate loops on purpose: one loop that
 * branched on the storage type per row measured 5-10% slower on F32 rows, and the per-row work
 * cannot move into a helper without its eight accumulators leaving registers.
 *
 * <p>A row is read 2L halves at a time as L 32-bit lanes, lane m holding elements 2m (low half) and
 * 2m + 1 (high half); the even and odd elements are widened in place (as the BF16 GEMV does), so the
 * other operand comes in the same even / odd order: {@link VecMath#evenOdd} for the query, even / odd
 * accumulators for the value sums. F16 halves are widened <em>without</em> their 2^112 scale:
 * {@code ((h << 16) >> 3) & 0x8FFFE000} is the F32 whose value is the half's times 2^-112, exactly
 * (subnormal halves become F32 subnormals), and the other factor arrives pre-scaled by 2^112, so
 * every product equals the reference's. Halves with exponent 31 (Inf / NaN) have no such form: the
 * kernels OR {@code (h & 0x7C00) + 0x0400} of every half into {@code seen} (bit 15 of a 16-bit field
 * is then set exactly by exponent 31) and the caller redoes the work exactly when
 * {@link #sawSpecial} says so. BF16 widens exactly ({@code h << 16}) and needs neither. The last dh
 * mod 2L elements of a row are widened one by one, exactly.
 *
 * <p>Rows are read at absolute addresses through {@link AbsoluteMemory#ALL} (the caller checked the
 * cache's extent once per call), so that the loads do not depend on the JVM-wide profile of the
 * library's segment accessors (see {@link GemvKernels}).
 *
 * <p>Every vector method in the loops is called on a fresh load, a broadcast or a constant: a method
 * called on a loop-carried or reinterpreted vector is bound through a JVM-wide call profile, and
 * where other vector sizes had polluted it C2 boxed the vectors (see VecMath.expSum). Past the loops
 * the accumulators are reduced with {@code reduceLanes} and stored through {@code lanewise(MUL, one)}:
 * both abstract in FloatVector, so bound at this call site, where {@code intoArray} (final) dispatches
 * on its receiver inside the library (see the README, "Reading C2's machine code").
 */
final class GroupRowKernels {
    private GroupRowKernels() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Elements widened per load (two per 32-bit lane). */
    static final int BLOCK = 2 * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final IntVector HIGH_HALF = IntVector.broadcast(I, 0xFFFF0000);
    /** A half's sign, exponent and mantissa after {@code << 16, >> 3}, in an F32's places. */
    private static final IntVector F16_BITS = IntVector.broadcast(I, 0x8FFFE000);
    private static final IntVector F16_EXPONENTS = IntVector.broadcast(I, 0x7C007C00);
    private static final IntVector F16_EXPONENT_ONES = IntVector.broadcast(I, 0x04000400);
    /** 2^112: the factor the F16 kernels' other operand carries. */
    static final float F16_SCALE = 0x1p112f;

    /** Whether {@code seen} (L lanes, as left by the kernels) records an F16 Inf / NaN. */
    static boolean sawSpecial(int[] seen) {
        for (int i = 0; i < L; i++) {
            if ((seen[i] & 0x80008000) != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code dots[t] = q_t · row} and {@code dots[4 + t] = q_t · row'} for the nh (1..4) query rows t
     * at {@code qo + t dh}, the rows being dh BF16 / F16 halves at absolute addresses o and
     * {@code o + next} ({@link AbsoluteMemory}; consecutive keys of one kv head, or next = 0 for a
     * lone key): whole blocks against {@code qa} (the query {@linkplain VecMath#evenOdd arranged},
     * times 2^112 for F16), the rest against {@code q}. Two rows per call, eight independent FMA
     * chains and one read of the query per two keys: with one row per call, each call's four chains
     * of 2 dh / BLOCK dependent FMAs and its four reductions ran one after another (C2 leaves a
     * method this size out of line, so no two calls overlap). Scores of 640 F16 keys for 16 / 4
     * heads of 128, one thread, cache-resident, medians of 2000 calls: 70-87 -> 50 us (four keys
     * per call: 47-51, no better).
     */
    static void dotsKeyPair(long o, long next, boolean bf16, float[] q, float[] qa, int qo, int dh, int nh, float[] dots,
                            int[] seen) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        IntVector special = IntVector.zero(I);
        int i = 0;
        for (; i + BLOCK <= dh; i += BLOCK) {
            IntVector v = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, o + 2L * i, LE);
            IntVector u = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, o + next + 2L * i, LE);
            FloatVector vEven, vOdd, uEven, uOdd;
            if (bf16) {
                vEven = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                vOdd = v.and(HIGH_HALF).reinterpretAsFloats();
                uEven = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                uOdd = u.and(HIGH_HALF).reinterpretAsFloats();
            } else {
                special = v.and(F16_EXPONENTS).add(F16_EXPONENT_ONES).or(special);
                special = u.and(F16_EXPONENTS).add(F16_EXPONENT_ONES).or(special);
                vEven = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                vOdd = v.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                uEven = u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                uOdd = u.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            }
            int at = qo + i;
            FloatVector qEven = FloatVector.fromArray(F, qa, at), qOdd = FloatVector.fromArray(F, qa, at + L);
            a0 = qOdd.fma(vOdd, qEven.fma(vEven, a0));
            b0 = qOdd.fma(uOdd, qEven.fma(uEven, b0));
            if (nh > 1) {
                at += dh;
                qEven = FloatVector.fromArray(F, qa, at);
                qOdd = FloatVector.fromArray(F, qa, at + L);
                a1 = qOdd.fma(vOdd, qEven.fma(vEven, a1));
                b1 = qOdd.fma(uOdd, qEven.fma(uEven, b1));
                if (nh > 2) {
                    at += dh;
                    qEven = FloatVector.fromArray(F, qa, at);
                    qOdd = FloatVector.fromArray(F, qa, at + L);
                    a2 = qOdd.fma(vOdd, qEven.fma(vEven, a2));
                    b2 = qOdd.fma(uOdd, qEven.fma(uEven, b2));
                    if (nh > 3) {
                        at += dh;
                        qEven = FloatVector.fromArray(F, qa, at);
                        qOdd = FloatVector.fromArray(F, qa, at + L);
                        a3 = qOdd.fma(vOdd, qEven.fma(vEven, a3));
                        b3 = qOdd.fma(uOdd, qEven.fma(uEven, b3));
                    }
                }
            }
        }
        if (!bf16) {
            IntVector.fromArray(I, seen, 0).or(special).intoArray(seen, 0);
        }
        dots[0] = a0.reduceLanes(VectorOperators.ADD);
        dots[4] = b0.reduceLanes(VectorOperators.ADD);
        if (nh > 1) {
            dots[1] = a1.reduceLanes(VectorOperators.ADD);
            dots[5] = b1.reduceLanes(VectorOperators.ADD);
            if (nh > 2) {
                dots[2] = a2.reduceLanes(VectorOperators.ADD);
                dots[6] = b2.reduceLanes(VectorOperators.ADD);
                if (nh > 3) {
                    dots[3] = a3.reduceLanes(VectorOperators.ADD);
                    dots[7] = b3.reduceLanes(VectorOperators.ADD);
                }
            }
        }
        for (; i < dh; i++) {
            float x = HalfRows.scalar(AbsoluteMemory.ALL, o + 2L * i, bf16);
            float y = HalfRows.scalar(AbsoluteMemory.ALL, o + next + 2L * i, bf16);
            for (int t = 0; t < nh; t++) {
                dots[t] += q[qo + t * dh + i] * x;
                dots[4 + t] += q[qo + t * dh + i] * y;
            }
        }
    }

    /**
     * {@link #dotsKeyPair} for MHA over an F16 cache, where no two query heads share a cache row:
     * heads h and h + 1 (at absolute addresses o and {@code o + headBytes}) of two consecutive keys
     * (the second at {@code o + next}; next = 0 for a lone key) against query heads h and h + 1 (at
     * qo and {@code qo + qNext}, qNext = dh): {@code dots[t]} for the first key, {@code dots[4 + t]}
     * for the second, t < nh. A lone last head (nh = 1) is passed as both heads (headBytes = qNext =
     * 0). Four independent FMA chains and one read of each query block per two keys; the form with
     * one key per call (two chains) ran its calls one after another as the one-row GQA kernel did.
     * With {@link #weightedSumsHeadPair} (32 / 32 heads of 128, medians of 300-1500 calls in 8
     * rounds alternating in one JVM, caches from memory, Zen 5 host): two threads, 200 / 640 / 2048
     * keys 0.80 / 0.80 / 0.83 of the time, one thread at 640 keys 0.82; 40 / 40 heads (Vicuna-13B's)
     * at 640 keys 0.81; 8 of 8 rounds each. (Four heads per call: 0.97-1.09 of the two-head form.)
     * F16 only, without a branch on nh in the loop: a first form that also widened BF16 rows and branched on nh per
     * block was, in some runs of the runtime test suite, compiled so that it allocated at every
     * call (CpuBackendAllocationTest); a BF16 MHA cache takes {@link #dotsKeyPair} head by head.
     */
    static void dotsKeyPairHeadPair(long o, long next, long headBytes, float[] q, float[] qa, int qo, int qNext, int dh,
                                    int nh, float[] dots, int[] seen) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        IntVector special = IntVector.zero(I);
        int i = 0;
        for (; i + BLOCK <= dh; i += BLOCK) {
            // every row written out (helpers returning the widened vectors boxed them in some programs: the
            // runtime test suite's); no branch on nh or on the storage type in the loop (see the method notes)
            IntVector v = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, o + 2L * i, LE);
            IntVector u = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, o + next + 2L * i, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, o + headBytes + 2L * i, LE);
            IntVector u1 = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, o + headBytes + next + 2L * i, LE);
            special = v.and(F16_EXPONENTS).add(F16_EXPONENT_ONES).or(u.and(F16_EXPONENTS).add(F16_EXPONENT_ONES))
                    .or(v1.and(F16_EXPONENTS).add(F16_EXPONENT_ONES)).or(u1.and(F16_EXPONENTS).add(F16_EXPONENT_ONES)).or(special);
            FloatVector vEven = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            FloatVector vOdd = v.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            FloatVector uEven = u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            FloatVector uOdd = u.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            FloatVector v1Even = v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            FloatVector v1Odd = v1.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            FloatVector u1Even = u1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            FloatVector u1Odd = u1.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
            int at = qo + i;
            FloatVector qEven = FloatVector.fromArray(F, qa, at), qOdd = FloatVector.fromArray(F, qa, at + L);
            FloatVector q1Even = FloatVector.fromArray(F, qa, at + qNext), q1Odd = FloatVector.fromArray(F, qa, at + qNext + L);
            a0 = qOdd.fma(vOdd, qEven.fma(vEven, a0));
            b0 = qOdd.fma(uOdd, qEven.fma(uEven, b0));
            a1 = q1Odd.fma(v1Odd, q1Even.fma(v1Even, a1));
            b1 = q1Odd.fma(u1Odd, q1Even.fma(u1Even, b1));
        }
        IntVector.fromArray(I, seen, 0).or(special).intoArray(seen, 0);
        dots[0] = a0.reduceLanes(VectorOperators.ADD);
        dots[4] = b0.reduceLanes(VectorOperators.ADD);
        dots[1] = a1.reduceLanes(VectorOperators.ADD);
        dots[5] = b1.reduceLanes(VectorOperators.ADD);
        for (; i < dh; i++) {
            for (int t = 0; t < nh; t++) {
                dots[t] += q[qo + t * dh + i] * HalfRows.scalar(AbsoluteMemory.ALL, o + t * headBytes + 2L * i, false);
                dots[4 + t] += q[qo + t * dh + i] * HalfRows.scalar(AbsoluteMemory.ALL, o + t * headBytes + next + 2L * i, false);
            }
        }
    }

    /**
     * {@code out[at + t dh + i] = sum_j p[h0 + t][j] * row_j[i]} for the nh (1..4) heads h0 + t and the
     * n rows of dh halves at absolute address {@code o + j stride}. For F16 the weights p must carry the
     * 2^112 factor (divided out again for the elements past the whole blocks). {@code block} is
     * scratch of 2L floats.
     */
    static void weightedSums(float[][] p, int h0, int nh, int n, long o, long stride, boolean bf16, int dh,
                             float[] out, int at, int[] seen, float[] block) {
        FloatVector one = FloatVector.broadcast(F, 1f);  // the sums leave times one (see the class notes)
        IntVector special = IntVector.zero(I);
        int i = 0;
        for (; i + BLOCK <= dh; i += BLOCK) {
            FloatVector e0 = FloatVector.zero(F), d0 = e0, e1 = e0, d1 = e0, e2 = e0, d2 = e0, e3 = e0, d3 = e0;
            long r = o + 2L * i;
            for (int j = 0; j < n; j++, r += stride) {
                IntVector v = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, r, LE);
                FloatVector even, odd;
                if (bf16) {
                    even = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    odd = v.and(HIGH_HALF).reinterpretAsFloats();
                } else {
                    special = v.and(F16_EXPONENTS).add(F16_EXPONENT_ONES).or(special);
                    even = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                    odd = v.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                }
                FloatVector w = FloatVector.broadcast(F, p[h0][j]);
                e0 = w.fma(even, e0);
                d0 = w.fma(odd, d0);
                if (nh > 1) {
                    w = FloatVector.broadcast(F, p[h0 + 1][j]);
                    e1 = w.fma(even, e1);
                    d1 = w.fma(odd, d1);
                    if (nh > 2) {
                        w = FloatVector.broadcast(F, p[h0 + 2][j]);
                        e2 = w.fma(even, e2);
                        d2 = w.fma(odd, d2);
                        if (nh > 3) {
                            w = FloatVector.broadcast(F, p[h0 + 3][j]);
                            e3 = w.fma(even, e3);
                            d3 = w.fma(odd, d3);
                        }
                    }
                }
            }
            // the sums leave through block and a scalar helper: a helper taking the vectors (64 bytes of
            // bytecode, past C2's size for inlining a call that is not hot) was left out of line at the
            // sites of heads 2-4 in a program that had warmed up on MHA (one head per call) and boxed there
            e0.lanewise(VectorOperators.MUL, one).intoArray(block, 0);
            d0.lanewise(VectorOperators.MUL, one).intoArray(block, L);
            interleave(block, out, at + i);
            if (nh > 1) {
                e1.lanewise(VectorOperators.MUL, one).intoArray(block, 0);
                d1.lanewise(VectorOperators.MUL, one).intoArray(block, L);
                interleave(block, out, at + dh + i);
                if (nh > 2) {
                    e2.lanewise(VectorOperators.MUL, one).intoArray(block, 0);
                    d2.lanewise(VectorOperators.MUL, one).intoArray(block, L);
                    interleave(block, out, at + 2 * dh + i);
                    if (nh > 3) {
                        e3.lanewise(VectorOperators.MUL, one).intoArray(block, 0);
                        d3.lanewise(VectorOperators.MUL, one).intoArray(block, L);
                        interleave(block, out, at + 3 * dh + i);
                    }
                }
            }
        }
        if (!bf16) {
            IntVector.fromArray(I, seen, 0).or(special).intoArray(seen, 0);
        }
        scalarSums(p, h0, nh, n, o, 0, stride, bf16, dh, i, out, at);
    }

    /**
     * {@link #weightedSums} for MHA over an F16 cache (a BF16 one takes weightedSums head by head, as
     * {@link #dotsKeyPairHeadPair} explains): query heads h0 and h0 + 1, each with its own value rows (the
     * second head's at {@code o + headBytes} in every cache row; a lone last head, nh = 1, is read as
     * both, with headBytes = 0, and only its sums are written), so that each pass over the
     * item's rows runs four independent FMA chains instead of two (one head per call: each block's
     * two n-deep chains bound the pass). 32 / 32 heads of 128, with the scores' two-head form already
     * in (first forms of both, with a BF16 branch): two threads, caches from memory, 200 / 640 / 2048
     * keys 0.92 / 0.96 / 0.93 of the time (8 of 8, 6 of 8, 8 of 8 alternating rounds).
     */
    static void weightedSumsHeadPair(float[][] p, int h0, int nh, int n, long o, long headBytes, long stride, int dh,
                                     float[] out, int at, int[] seen, float[] block) {
        float[] p0 = p[h0], p1 = p[h0 + nh - 1];
        FloatVector one = FloatVector.broadcast(F, 1f);  // the sums leave times one (see the class notes)
        IntVector special = IntVector.zero(I);
        int i = 0;
        for (; i + BLOCK <= dh; i += BLOCK) {
            FloatVector e0 = FloatVector.zero(F), d0 = e0, e1 = e0, d1 = e0;
            long r = o + 2L * i;
            for (int j = 0; j < n; j++, r += stride) {
                IntVector v = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, r, LE);
                IntVector u = IntVector.fromMemorySegment(I, AbsoluteMemory.ALL, r + headBytes, LE);
                special = v.and(F16_EXPONENTS).add(F16_EXPONENT_ONES).or(u.and(F16_EXPONENTS).add(F16_EXPONENT_ONES)).or(special);
                FloatVector even = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                FloatVector odd = v.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                FloatVector uEven = u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                FloatVector uOdd = u.lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats();
                FloatVector w = FloatVector.broadcast(F, p0[j]);
                e0 = w.fma(even, e0);
                d0 = w.fma(odd, d0);
                FloatVector w1 = FloatVector.broadcast(F, p1[j]);
                e1 = w1.fma(uEven, e1);
                d1 = w1.fma(uOdd, d1);
            }
            // out through block, as in weightedSums
            e0.lanewise(VectorOperators.MUL, one).intoArray(block, 0);
            d0.lanewise(VectorOperators.MUL, one).intoArray(block, L);
            interleave(block, out, at + i);
            if (nh > 1) {
                e1.lanewise(VectorOperators.MUL, one).intoArray(block, 0);
                d1.lanewise(VectorOperators.MUL, one).intoArray(block, L);
                interleave(block, out, at + dh + i);
            }
        }
        IntVector.fromArray(I, seen, 0).or(special).intoArray(seen, 0);
        scalarSums(p, h0, nh, n, o, headBytes, stride, false, dh, i, out, at);
    }

    /**
     * Elements {@code from .. dh-1} of the value sums of {@link #weightedSums} / {@link #weightedSumsHeadPair}
     * (those past the last whole block), one at a time and exactly; head t's rows at {@code o + t headBytes}.
     */
    private static void scalarSums(float[][] p, int h0, int nh, int n, long o, long headBytes, long stride, boolean bf16, int dh,
                                   int from, float[] out, int at) {
        float unscale = bf16 ? 1f : 1f / F16_SCALE;
        for (int i = from; i < dh; i++) {
            for (int t = 0; t < nh; t++) {
                float a = 0f;
                long r = o + t * headBytes + 2L * i;
                for (int j = 0; j < n; j++, r += stride) {
                    a = Math.fma(p[h0 + t][j] * unscale, HalfRows.scalar(AbsoluteMemory.ALL, r, bf16), a);
                }
                out[at + t * dh + i] = a;
            }
        }
    }

    /** {@link #dotsKeyPair} for one F32 row at absolute address o (query q in its plain order). */
    static void dotsF32(long o, float[] q, int qo, int dh, int nh, float[] dots) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= dh; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(F, AbsoluteMemory.ALL, o + 4L * i, LE);
            a0 = FloatVector.fromArray(F, q, qo + i).fma(x, a0);
            if (nh > 1) {
                a1 = FloatVector.fromArray(F, q, qo + dh + i).fma(x, a1);
                if (nh > 2) {
                    a2 = FloatVector.fromArray(F, q, qo + 2 * dh + i).fma(x, a2);
                    if (nh > 3) {
                        a3 = FloatVector.fromArray(F, q, qo + 3 * dh + i).fma(x, a3);
                    }
                }
            }
        }
        dots[0] = a0.reduceLanes(VectorOperators.ADD);
        if (nh > 1) {
            dots[1] = a1.reduceLanes(VectorOperators.ADD);
            if (nh > 2) {
                dots[2] = a2.reduceLanes(VectorOperators.ADD);
                if (nh > 3) {
                    dots[3] = a3.reduceLanes(VectorOperators.ADD);
                }
            }
        }
        for (; i < dh; i++) {
            float x = AbsoluteMemory.ALL.get(FL, o + 4L * i);
            for (int t = 0; t < nh; t++) {
                dots[t] += q[qo + t * dh + i] * x;
            }
        }
    }

    /** {@link #weightedSums} for n F32 rows at absolute address {@code o + j stride} (weights p as they are). */
    static void weightedSumsF32(float[][] p, int h0, int nh, int n, long o, long stride, int dh, float[] out, int at) {
        FloatVector one = FloatVector.broadcast(F, 1f);  // the sums leave times one (see the class notes)
        int i = 0;
        for (; i + 2 * L <= dh; i += 2 * L) {
            FloatVector e0 = FloatVector.zero(F), d0 = e0, e1 = e0, d1 = e0, e2 = e0, d2 = e0, e3 = e0, d3 = e0;
            long r = o + 4L * i;
            for (int j = 0; j < n; j++, r += stride) {
                FloatVector x = FloatVector.fromMemorySegment(F, AbsoluteMemory.ALL, r, LE);
                FloatVector y = FloatVector.fromMemorySegment(F, AbsoluteMemory.ALL, r + 4L * L, LE);
                FloatVector w = FloatVector.broadcast(F, p[h0][j]);
                e0 = w.fma(x, e0);
                d0 = w.fma(y, d0);
                if (nh > 1) {
                    w = FloatVector.broadcast(F, p[h0 + 1][j]);
                    e1 = w.fma(x, e1);
                    d1 = w.fma(y, d1);
                    if (nh > 2) {
                        w = FloatVector.broadcast(F, p[h0 + 2][j]);
                        e2 = w.fma(x, e2);
                        d2 = w.fma(y, d2);
                        if (nh > 3) {
                            w = FloatVector.broadcast(F, p[h0 + 3][j]);
                            e3 = w.fma(x, e3);
                            d3 = w.fma(y, d3);
                        }
                    }
                }
            }
            e0.lanewise(VectorOperators.MUL, one).intoArray(out, at + i);
            d0.lanewise(VectorOperators.MUL, one).intoArray(out, at + i + L);
            if (nh > 1) {
                e1.lanewise(VectorOperators.MUL, one).intoArray(out, at + dh + i);
                d1.lanewise(VectorOperators.MUL, one).intoArray(out, at + dh + i + L);
                if (nh > 2) {
                    e2.lanewise(VectorOperators.MUL, one).intoArray(out, at + 2 * dh + i);
                    d2.lanewise(VectorOperators.MUL, one).intoArray(out, at + 2 * dh + i + L);
                    if (nh > 3) {
                        e3.lanewise(VectorOperators.MUL, one).intoArray(out, at + 3 * dh + i);
                        d3.lanewise(VectorOperators.MUL, one).intoArray(out, at + 3 * dh + i + L);
                    }
                }
            }
        }
        for (; i < dh; i++) {
            for (int t = 0; t < nh; t++) {
                float a = 0f;
                long r = o + 4L * i;
                for (int j = 0; j < n; j++, r += stride) {
                    a = Math.fma(p[h0 + t][j], AbsoluteMemory.ALL.get(FL, r), a);
                }
                out[at + t * dh + i] = a;
            }
        }
    }

    /** out[at + 2m] = block[m] (the even elements), out[at + 2m + 1] = block[L + m] (the odd ones). */
    private static void interleave(float[] block, float[] out, int at) {
        for (int m = 0; m < L; m++) {
            out[at + 2 * m] = block[m];
            out[at + 2 * m + 1] = block[L + m];
        }
    }
}
