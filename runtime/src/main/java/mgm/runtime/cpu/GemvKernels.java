package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.DType;

/**
 * Dot products of a run of weight rows with one activation row, per weight dtype: the inner loop
 * of the decode-shape matmul. The activation row was prepared once per matmul in the layout each
 * kernel wants (see {@link #prepare}); a kernel reads it from {@code xOff} on (the slice of a K tile,
 * see {@link mgm.runtime.TiledWeights}); results go to {@code out[r]}.
 *
 * <p>Weights (and the off-heap activation of the F32 / BF16 / F16 kernels) are read at absolute addresses
 * through {@link AbsoluteMemory#ALL}, bound to a local at the top of each kernel: {@code start} is
 * the address of the first row, checked by the caller ({@link GemvTask}) to lie within the weight.
 * Through a segment parameter the loads were compiled from the JVM-wide profile of the library's
 * segment accessors: once a memory-mapped segment had gone through vector loads (a checkpoint's
 * own tensors) the cache-resident Q8_0 / F16 / BF16 kernels ran 35% / 36% / 41% slower, once a heap
 * segment had, Q4_0 / Q8_0 / F16 / BF16 35% / 50-57% / 47% / 60% ({@code mgm.bench.SegmentProfileReport}).
 *
 * <p>F32, BF16 and F16: one flat loop over all the rows of a run,
 * whose accumulators are reduced and reset when a row ends (a rarely taken branch). A loop per
 * row streamed ~14 GB/s from a machine whose single-stream read is ~30 (F32, K = 2048, one core);
 * the flat loop streams at the probe's rate. (C2 unrolls the per-row loop and emits each unrolled
 * group's loads in descending address order, which we suspect the prefetchers dislike; the flat
 * loop is not unrolled and reads in address order.) Rows need not be packed: the next row starts
 * {@code rowBytes} after the last. Row tails (K not a multiple of a step) are added in a second
 * pass after the loop: a call left inside the loop made C2 box the live vectors at it. These three
 * read the activation off heap, 64-byte aligned (a heap array's data is not, so every 64-byte load
 * from it straddles two lines: 24 vs 30 GB/s).
 *
 * <p>Q8_0 and Q4_0 (conversions make them compute-bound) keep a loop per row (per 32-row group
 * when interleaved) and a heap activation, a form in which C2 hoists every check out of the inner
 * loop. When it was measured, the flat form's offsets were not linear in the loop counter and an
 * off-heap activation's accesses carried a liveness and a type check that C2 did not hoist: both
 * cost these loops 20-70% (Q4_0 decode of the TinyLlama shape 25 -> 8-10 tok/s). F16 kept that
 * form too until its activation was read at an absolute address like the weights; flat, it reads
 * 8-33% more from memory ({@link #rowsF16}).
 *
 * <p>All loops keep several independent accumulators so that FMA latency does not bound them,
 * and allocate nothing. Float formats use the preferred species (any width). Q8_0 uses 512-bit
 * vectors where the machine has them (16 int8 widened per instruction instead of 8: +20% per
 * core), else 256-bit; Q4_0 uses 256-bit vectors (one 32-element block = 4 x 8 lanes). On 512-bit
 * machines Q4_0 weights arrive interleaved by 32 rows ({@link mgm.runtime.InterleavedQuant}) and
 * {@link #groupsQ4} computes 32 rows per vector: 8 -> 13 GB/s per core (on CPUs that multiply
 * subnormals at full speed {@link #groupsQ4Subnormal}, without conversions: 16); Q8_0 likewise
 * ({@link #groupsQ8}).
 */
final class GemvKernels {
    private GemvKernels() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    static final VectorSpecies<Float> F16L = FloatVector.SPECIES_512;
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** 512-bit vectors are native here (AVX-512): the Q8_0 kernel widens 16 quants per instruction. */
    static final boolean WIDE = L >= 16;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final IntVector LOW_NIBBLE = IntVector.broadcast(I8, 0xF);
    private static final IntVector HIGH_HALF = IntVector.broadcast(I, 0xFFFF0000);
    /** The F16 exponent field, in 16-bit lanes as wide as {@link #I}'s vectors. */
    private static final ShortVector F16_EXPONENT = ShortVector.broadcast(I.withLanes(short.class), (short) 0x7C00);
    private static final IntVector F16_TO_F32_MASK = IntVector.broadcast(I, 0x8FFFE000);
    // Q8_0_R32 / Q4_0_R32 (512-bit only)
    static final VectorSpecies<Short> S32 = ShortVector.SPECIES_512;
    static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    static final VectorSpecies<Integer> I16L = IntVector.SPECIES_512;
    private static final FloatVector SIXTEENTH = FloatVector.broadcast(F16L, 0.0625f);
    private static final FloatVector TWO_TO_112 = FloatVector.broadcast(F16L, 0x1p112f);
    private static final FloatVector TWO_TO_96 = FloatVector.broadcast(F16L, 0x1p96f);
    private static final IntVector NIBBLE_AT_0 = IntVector.broadcast(I16L, 0xF);
    private static final IntVector NIBBLE_AT_4 = IntVector.broadcast(I16L, 0xF0);
    private static final IntVector NIBBLE_AT_16 = IntVector.broadcast(I16L, 0xF0000);
    private static final IntVector NIBBLE_AT_20 = IntVector.broadcast(I16L, 0xF00000);
    /** Bytes of one block of a 32-row group (see {@link mgm.runtime.InterleavedQuant}). */
    private static final int Q8_GROUP_BLOCK = mgm.runtime.InterleavedQuant.blockBytes(DType.Q8_0);
    private static final int Q4_GROUP_BLOCK = mgm.runtime.InterleavedQuant.blockBytes(DType.Q4_0);
    private static final IntVector R32_HALF_TO_FLOAT = IntVector.broadcast(I16L, 0x8FFFE000);
    private static final IntVector NIBBLE32 = IntVector.broadcast(I16L, 0xF);

    // ------------------------------------------------------------------ activation layouts

    /** True for the dtypes whose kernels read the prepared activation off heap (the flat-loop ones). */
    static boolean readsOffHeap(DType w) {
        return w == DType.F32 || w == DType.BF16 || w == DType.F16;
    }

    /**
     * Writes activation row {@code x[0..k)} into {@code dst} in the layout the kernel for {@code w}
     * reads: F32 / Q8_0 / Q4_0 natural order; BF16 split per 2L-chunk into even then odd
     * elements (tail in natural order); F16 takes {@link #prepareF16} instead. For Q4_0 (both layouts) also fills {@code blockSums[b] = -(sum of block b)}.
     * The F32 / BF16 / F16 kernels read it from an off-heap copy ({@link #readsOffHeap}).
     */
    static void prepare(DType w, float[] x, int k, float[] dst, float[] blockSums) {
        switch (w) {
            case BF16 -> VecMath.evenOdd(x, dst, 0, k, 1f);
            case Q4_0, Q4_0_R32 -> {
                System.arraycopy(x, 0, dst, 0, k);
                negatedBlockSums(x, k, 1f, blockSums);
            }
            default -> System.arraycopy(x, 0, dst, 0, k);
        }
    }

    // ------------------------------------------------------------------ F32

    /** Rows of F32 weights (from absolute address start) against the activation at absolute address xAt: 4 vectors per step. */
    static void rowsF32(long start, long rowBytes, int rows, long xAt, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        MemorySegment x = AbsoluteMemory.ALL;
        int steps = k / (4 * L);
        if (steps == 0) {
            for (int r = 0; r < rows; r++) {
                out[r] = tailF32(w, start + r * rowBytes, x, xAt, 0, k);
            }
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int total = steps * rows;
        long rowBase = start;
        int xi = 0;
        int r = 0;
        for (int c = 0; c < total; c++) {
            long o = xAt + 16L * L * xi;
            long wo = rowBase + 16L * L * xi;
            a0 = FloatVector.fromMemorySegment(F, w, wo, LE).fma(FloatVector.fromMemorySegment(F, x, o, LE), a0);
            a1 = FloatVector.fromMemorySegment(F, w, wo + 4L * L, LE).fma(FloatVector.fromMemorySegment(F, x, o + 4L * L, LE), a1);
            a2 = FloatVector.fromMemorySegment(F, w, wo + 8L * L, LE).fma(FloatVector.fromMemorySegment(F, x, o + 8L * L, LE), a2);
            a3 = FloatVector.fromMemorySegment(F, w, wo + 12L * L, LE).fma(FloatVector.fromMemorySegment(F, x, o + 12L * L, LE), a3);
            if (++xi == steps) {
                out[r++] = a0.lanewise(VectorOperators.ADD, a1).lanewise(VectorOperators.ADD, a2.lanewise(VectorOperators.ADD, a3)).reduceLanes(VectorOperators.ADD);
                a0 = FloatVector.zero(F);
                a1 = FloatVector.zero(F);
                a2 = FloatVector.zero(F);
                a3 = FloatVector.zero(F);
                xi = 0;
                rowBase += rowBytes;
            }
        }
        if (steps * 4 * L < k) {
            for (int j = 0; j < rows; j++) {
                out[j] += tailF32(w, start + j * rowBytes, x, xAt, steps * 4 * L, k);
            }
        }
    }

    /**
     * Elements [from, k) of one F32 row: fewer than 4 whole vectors (the flat loop's step) and a
     * scalar rest. Each vector is reduced on its own: a vector accumulated in a loop here was boxed
     * by C2 (a decode step of a model with such short rows allocated ~4.6 KB).
     */
    private static float tailF32(MemorySegment w, long row, MemorySegment x, long xOff, int from, int k) {
        int i = from;
        float s = 0;
        for (; i + L <= k; i += L) {
            s += FloatVector.fromMemorySegment(F, w, row + 4L * i, LE).mul(FloatVector.fromMemorySegment(F, x, xOff + 4L * i, LE))
                    .reduceLanes(VectorOperators.ADD);
        }
        for (; i < k; i++) {
            s += w.get(FL, row + 4L * i) * x.get(FL, xOff + 4L * i);
        }
        return s;
    }

    // ------------------------------------------------------------------ BF16

    /**
     * Rows of BF16 weights against the even / odd-split activation at absolute address xAt. BF16 is
     * the top half of an F32: an int lane holding elements (2l, 2l+1) gives both with one shift / mask.
     */
    static void rowsBf16(long start, long rowBytes, int rows, long xAt, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        MemorySegment xeo = AbsoluteMemory.ALL;
        int steps = k / (4 * L);
        if (steps == 0) {
            for (int r = 0; r < rows; r++) {
                out[r] = tailBf16(w, start + r * rowBytes, xeo, xAt, 0, k);
            }
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int total = steps * rows;
        long rowBase = start;
        int xi = 0;
        int r = 0;
        for (int c = 0; c < total; c++) {
            long o = xAt + 16L * L * xi;
            long wo = rowBase + 8L * L * xi;
            IntVector v0 = IntVector.fromMemorySegment(I, w, wo, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, w, wo + 4L * L, LE);
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromMemorySegment(F, xeo, o, LE), a0);
            a1 = v0.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromMemorySegment(F, xeo, o + 4L * L, LE), a1);
            a2 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromMemorySegment(F, xeo, o + 8L * L, LE), a2);
            a3 = v1.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromMemorySegment(F, xeo, o + 12L * L, LE), a3);
            if (++xi == steps) {
                out[r++] = a0.lanewise(VectorOperators.ADD, a1).lanewise(VectorOperators.ADD, a2.lanewise(VectorOperators.ADD, a3)).reduceLanes(VectorOperators.ADD);
                a0 = FloatVector.zero(F);
                a1 = FloatVector.zero(F);
                a2 = FloatVector.zero(F);
                a3 = FloatVector.zero(F);
                xi = 0;
                rowBase += rowBytes;
            }
        }
        if (steps * 4 * L < k) {
            for (int j = 0; j < rows; j++) {
                out[j] += tailBf16(w, start + j * rowBytes, xeo, xAt, steps * 4 * L, k);
            }
        }
    }

    private static float tailBf16(MemorySegment w, long row, MemorySegment xeo, long xOff, int from, int k) {
        int i = from;
        float s = 0;
        if (i + 2 * L <= k) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            for (; i + 2 * L <= k; i += 2 * L) {
                IntVector v0 = IntVector.fromMemorySegment(I, w, row + 2L * i, LE);
                a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromMemorySegment(F, xeo, xOff + 4L * i, LE), a0);
                a1 = v0.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromMemorySegment(F, xeo, xOff + 4L * (i + L), LE), a1);
            }
            s = a0.lanewise(VectorOperators.ADD, a1).reduceLanes(VectorOperators.ADD);
        }
        for (; i < k; i++) {
            s += Float.intBitsToFloat((w.get(SH, row + 2L * i) & 0xFFFF) << 16) * xeo.get(FL, xOff + 4L * i);
        }
        return s;
    }

    // ------------------------------------------------------------------ F16

    /**
     * Rows of F16 weights against the activation at absolute address xAt, prepared by
     * {@link #prepareF16}: even / odd-split like BF16's and scaled by {@code 2^(112 - s)}. A half
     * moved to the top of an int and shifted right by 3 (arithmetically) has sign, exponent and
     * mantissa where an F32's go, so it reads as the half times 2^-112 (exactly, subnormals
     * included) once a mask clears the sign's copies; its product with the prepared element is the
     * half times x times 2^-s, exact before the FMA rounds it, so with s = 0 (activations below
     * 2^15) every sum is the one of multiplying the converted half and x, and {@code back = 2^s}
     * restores the larger rows' scale. The 2^112 sits in the activation, not in the loop: one
     * multiply per vector fewer (11-17% more GB/s from memory than with it). Inf / NaN halves
     * (exponent 31) would come out finite, so each step tests for them and a run that has any is
     * recomputed row by row with the exact scalar path. One flat loop over the run's rows, as
     * {@link #rowsBf16}: 8-33% more GB/s from memory than the loop per row it replaced.
     */
    static void rowsF16(long start, long rowBytes, int rows, long xAt, int k, float back, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start and xAt are absolute addresses (see AbsoluteMemory)
        MemorySegment xeo = AbsoluteMemory.ALL;
        int steps = k / (4 * L);
        boolean special = false;
        if (steps == 0) {
            java.util.Arrays.fill(out, 0, rows, 0f);
        } else {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            int total = steps * rows;
            long rowBase = start;
            int xi = 0;
            int r = 0;
            for (int c = 0; c < total; c++) {
                long o = xAt + 16L * L * xi;
                long wo = rowBase + 8L * L * xi;
                IntVector v0 = IntVector.fromMemorySegment(I, w, wo, LE);
                IntVector v1 = IntVector.fromMemorySegment(I, w, wo + 4L * L, LE);
                // Inf / NaN halves (exponent field all ones) compared as 16-bit lanes: a test and a rarely taken
                // branch, no vector carried across iterations (a running max of the exponents made C2 box it).
                // Two masks and two compares per step: 16-27% more GB/s from memory than the carry test on
                // 32-bit lanes it replaced (six operations), level with no test at all.
                if (v0.reinterpretAsShorts().and(F16_EXPONENT).compare(VectorOperators.EQ, F16_EXPONENT)
                        .or(v1.reinterpretAsShorts().and(F16_EXPONENT).compare(VectorOperators.EQ, F16_EXPONENT)).anyTrue()) {
                    special = true;
                }
                // half h at the top of an int: (h << 16) >> 3 (arithmetic) puts exponent and mantissa where an
                // F32's go, minus a 112 bias, with copies of the sign in bits 28-30 that the mask clears
                FloatVector e0 = v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
                FloatVector o0 = v0.lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
                FloatVector e1 = v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
                FloatVector o1 = v1.lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats();
                a0 = e0.fma(FloatVector.fromMemorySegment(F, xeo, o, LE), a0);
                a1 = o0.fma(FloatVector.fromMemorySegment(F, xeo, o + 4L * L, LE), a1);
                a2 = e1.fma(FloatVector.fromMemorySegment(F, xeo, o + 8L * L, LE), a2);
                a3 = o1.fma(FloatVector.fromMemorySegment(F, xeo, o + 12L * L, LE), a3);
                if (++xi == steps) {
                    out[r++] = a0.lanewise(VectorOperators.ADD, a1).lanewise(VectorOperators.ADD, a2.lanewise(VectorOperators.ADD, a3)).reduceLanes(VectorOperators.ADD);
                    a0 = FloatVector.zero(F);
                    a1 = FloatVector.zero(F);
                    a2 = FloatVector.zero(F);
                    a3 = FloatVector.zero(F);
                    xi = 0;
                    rowBase += rowBytes;
                }
            }
        }
        int from = special ? 0 : steps * 4 * L;
        for (int j = 0; j < rows; j++) {
            float rest = from < k ? exactF16(w, start + j * rowBytes, xeo, xAt, from, k) : 0f;
            out[j] = (special ? rest : out[j] + rest) * back;
        }
    }

    /**
     * Elements {@code from .. k} of an F16 row against the prepared activation ({@link #prepareF16})
     * with the exact scalar conversion, times 2^-112 as the vector loop's halves (exact: at least
     * 2^-136); the even/odd layout per 2L-chunk, then natural order.
     */
    private static float exactF16(MemorySegment w, long row, MemorySegment xeo, long xAt, int from, int k) {
        float s = 0;
        int i = from;
        for (; i + 2 * L <= k; i += 2 * L) {
            for (int l = 0; l < L; l++) {
                s += Float.float16ToFloat(w.get(SH, row + 2L * (i + 2 * l))) * 0x1p-112f * xeo.get(FL, xAt + 4L * (i + l))
                        + Float.float16ToFloat(w.get(SH, row + 2L * (i + 2 * l + 1))) * 0x1p-112f * xeo.get(FL, xAt + 4L * (i + L + l));
            }
        }
        for (; i < k; i++) {
            s += Float.float16ToFloat(w.get(SH, row + 2L * i)) * 0x1p-112f * xeo.get(FL, xAt + 4L * i);
        }
        return s;
    }

    /**
     * Prepares activation row {@code x[0..k)} for {@link #rowsF16}: BF16's even / odd split
     * ({@link #prepare}) times {@code 2^(112 - s)}, with s = 0 while the largest finite magnitude is
     * below 2^15 and otherwise just large enough that the scaled row stays below 2^127 (finite:
     * Inf / NaN elements stay what they are, as the reference's products with them); returns
     * {@code 2^s}, which takes the kernel's sums back (exact: a power of two).
     */
    static float prepareF16(float[] x, int k, float[] dst) {
        int s = Math.max(0, Math.getExponent(VecMath.maxAbsFinite(x, k)) - 14);
        VecMath.evenOdd(x, dst, 0, k, Math.scalb(1f, 112 - s));
        return Math.scalb(1f, s);
    }

    // ------------------------------------------------------------------ Q8_0

    /** Q8_0 rows, two blocks per step: int8 widened to float, FMAs into a block sum, scaled by the block's d. */
    static void rowsQ8(long start, long rowBytes, int rows, float[] x, int xOff, int k, float[] out) {
        if (WIDE) {
            rowsQ8Wide(start, rowBytes, rows, x, xOff, k, out);
        } else {
            rowsQ8Narrow(start, rowBytes, rows, x, xOff, k, out);
        }
    }

    /** 512-bit form: each half block (16 int8) widened to 16 floats with one conversion. */
    private static void rowsQ8Wide(long start, long rowBytes, int rows, float[] x, int xOff, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        int steps = nb / 2;
        for (int r = 0; r < rows; r++) {
            long row = start + r * rowBytes;
            FloatVector a0 = FloatVector.zero(F16L), a1 = FloatVector.zero(F16L);
            for (int p = 0; p < steps; p++) {
                long o = row + 68L * p;
                int xo = xOff + 64 * p;
                FloatVector t = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE).convertShape(VectorOperators.B2F, F16L, 0))
                        .mul(FloatVector.fromArray(F16L, x, xo));
                FloatVector u = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 36, LE).convertShape(VectorOperators.B2F, F16L, 0))
                        .mul(FloatVector.fromArray(F16L, x, xo + 32));
                t = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 18, LE).convertShape(VectorOperators.B2F, F16L, 0))
                        .fma(FloatVector.fromArray(F16L, x, xo + 16), t);
                u = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 52, LE).convertShape(VectorOperators.B2F, F16L, 0))
                        .fma(FloatVector.fromArray(F16L, x, xo + 48), u);
                a0 = t.fma(FloatVector.broadcast(F16L, Float.float16ToFloat(w.get(SH, o))), a0);
                a1 = u.fma(FloatVector.broadcast(F16L, Float.float16ToFloat(w.get(SH, o + 34))), a1);
            }
            out[r] = a0.lanewise(VectorOperators.ADD, a1).reduceLanes(VectorOperators.ADD);
        }
        if ((nb & 1) != 0) {
            for (int j = 0; j < rows; j++) {
                out[j] += lastBlockQ8(w, start + j * rowBytes, x, xOff, nb - 1);
            }
        }
    }

    /** 256-bit form: 4 x (8 int8 -> 8 floats) per block. */
    private static void rowsQ8Narrow(long start, long rowBytes, int rows, float[] x, int xOff, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        int steps = nb / 2;
        for (int r = 0; r < rows; r++) {
            long row = start + r * rowBytes;
            FloatVector a0 = FloatVector.zero(F8), a1 = FloatVector.zero(F8), a2 = FloatVector.zero(F8), a3 = FloatVector.zero(F8);
            for (int p = 0; p < steps; p++) {
                long o = row + 68L * p;
                int xo = xOff + 64 * p;
                FloatVector d0 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, o)));
                FloatVector d1 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, o + 34)));
                FloatVector t = q8Part(w, o + 2).mul(FloatVector.fromArray(F8, x, xo));
                FloatVector u = q8Part(w, o + 10).mul(FloatVector.fromArray(F8, x, xo + 8));
                FloatVector t2 = q8Part(w, o + 36).mul(FloatVector.fromArray(F8, x, xo + 32));
                FloatVector u2 = q8Part(w, o + 44).mul(FloatVector.fromArray(F8, x, xo + 40));
                t = q8Part(w, o + 18).fma(FloatVector.fromArray(F8, x, xo + 16), t);
                u = q8Part(w, o + 26).fma(FloatVector.fromArray(F8, x, xo + 24), u);
                t2 = q8Part(w, o + 52).fma(FloatVector.fromArray(F8, x, xo + 48), t2);
                u2 = q8Part(w, o + 60).fma(FloatVector.fromArray(F8, x, xo + 56), u2);
                a0 = t.fma(d0, a0);
                a1 = u.fma(d0, a1);
                a2 = t2.fma(d1, a2);
                a3 = u2.fma(d1, a3);
            }
            out[r] = a0.lanewise(VectorOperators.ADD, a1).lanewise(VectorOperators.ADD, a2.lanewise(VectorOperators.ADD, a3)).reduceLanes(VectorOperators.ADD);
        }
        if ((nb & 1) != 0) {
            for (int j = 0; j < rows; j++) {
                out[j] += lastBlockQ8(w, start + j * rowBytes, x, xOff, nb - 1);
            }
        }
    }

    /** 8 int8 quants at byte {@code at} as 8 floats. */
    private static FloatVector q8Part(MemorySegment w, long at) {
        return (FloatVector) ByteVector.fromMemorySegment(B8, w, at, LE).convertShape(VectorOperators.B2F, F8, 0);
    }

    /** Block {@code b} of the Q8_0 row at {@code row} (the odd last block of a row). */
    private static float lastBlockQ8(MemorySegment w, long row, float[] x, int xOff, int b) {
        long o = row + b * 34L;
        int xo = xOff + b * 32;
        FloatVector t = q8Part(w, o + 2).mul(FloatVector.fromArray(F8, x, xo));
        FloatVector u = q8Part(w, o + 10).mul(FloatVector.fromArray(F8, x, xo + 8));
        t = q8Part(w, o + 18).fma(FloatVector.fromArray(F8, x, xo + 16), t);
        u = q8Part(w, o + 26).fma(FloatVector.fromArray(F8, x, xo + 24), u);
        return t.add(u).reduceLanes(VectorOperators.ADD) * Float.float16ToFloat(w.get(SH, o));
    }

    // ------------------------------------------------------------------ Q4_0

    /**
     * Q4_0 rows, two blocks per step. Byte j of a block holds element j (low nibble) and j + 16
     * (high nibble), so bytes 0-7 zero-extended to 8 ints give elements 0-7 ({@code & 0xF}) and
     * 16-23 ({@code >>> 4}). {@code sum x (q - 8) = sum x q - 8 sum x}: {@code negSums[b] = -(sum of
     * block b of x)} is precomputed and broadcast as the addend of the block's first FMA; every one
     * of the 8 lanes carries it, so the final lane reduction adds {@code -8 d sum}. The loop thus has
     * no scalar work and no subtraction (scalar accumulators here cost registers and made C2 spill).
     */
    static void rowsQ4(long start, long rowBytes, int rows, float[] x, float[] negSums, int xOff, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        int steps = nb / 2;
        for (int r = 0; r < rows; r++) {
            long row = start + r * rowBytes;
            FloatVector a0 = FloatVector.zero(F8), a1 = FloatVector.zero(F8), a2 = FloatVector.zero(F8), a3 = FloatVector.zero(F8);
            for (int p = 0; p < steps; p++) {
                long o = row + 36L * p;
                int xo = xOff + 64 * p;
                int b = xOff / 32 + 2 * p;
                IntVector v = q4Bytes(w, o + 2);
                IntVector u = q4Bytes(w, o + 10);
                FloatVector t = ((FloatVector) v.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F8, x, xo), FloatVector.broadcast(F8, negSums[b]));
                FloatVector s = ((FloatVector) u.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F8, x, xo + 8));
                t = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xo + 16), t);
                s = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xo + 24), s);
                FloatVector d0 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, o)));
                a0 = t.fma(d0, a0);
                a1 = s.fma(d0, a1);
                IntVector v2 = q4Bytes(w, o + 20);
                IntVector u2 = q4Bytes(w, o + 28);
                FloatVector t2 = ((FloatVector) v2.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F8, x, xo + 32), FloatVector.broadcast(F8, negSums[b + 1]));
                FloatVector s2 = ((FloatVector) u2.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F8, x, xo + 40));
                t2 = ((FloatVector) v2.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xo + 48), t2);
                s2 = ((FloatVector) u2.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xo + 56), s2);
                FloatVector d1 = FloatVector.broadcast(F8, Float.float16ToFloat(w.get(SH, o + 18)));
                a2 = t2.fma(d1, a2);
                a3 = s2.fma(d1, a3);
            }
            out[r] = a0.lanewise(VectorOperators.ADD, a1).lanewise(VectorOperators.ADD, a2.lanewise(VectorOperators.ADD, a3)).reduceLanes(VectorOperators.ADD);
        }
        if ((nb & 1) != 0) {
            for (int j = 0; j < rows; j++) {
                out[j] += lastBlockQ4(w, start + j * rowBytes, x, negSums, xOff, nb - 1);
            }
        }
    }

    /**
     * Q4_0 rows computing {@code d * sum x (q - 8)} per block, as the reference does, so that
     * non-finite activations give its Inf / NaN: the rare rows {@link #rowsQ4} does not take (see
     * {@link #q4RowIsOrdinary}). Scalar: correctness, not speed.
     */
    static void rowsQ4Exact(long start, long rowBytes, int rows, float[] x, int xOff, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        for (int r = 0; r < rows; r++) {
            long row = start + r * rowBytes;
            float sum = 0f;
            for (int b = 0; b < k / 32; b++) {
                long o = row + 18L * b;
                int xo = xOff + 32 * b;
                float s = 0f;
                for (int j = 0; j < 16; j++) {
                    int q = w.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                    s += ((q & 0xF) - 8) * x[xo + j] + ((q >>> 4) - 8) * x[xo + j + 16];
                }
                sum += s * Float.float16ToFloat(w.get(SH, o));
            }
            out[r] = sum;
        }
    }

    /** 8 bytes of nibbles at {@code at}, zero-extended to 8 ints. */
    private static IntVector q4Bytes(MemorySegment w, long at) {
        return (IntVector) ByteVector.fromMemorySegment(B8, w, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
    }

    /** Block {@code b} of the Q4_0 row at {@code row} (the odd last block of a row). */
    private static float lastBlockQ4(MemorySegment w, long row, float[] x, float[] negSums, int xOff, int b) {
        long o = row + b * 18L;
        int xo = xOff + b * 32;
        IntVector v = q4Bytes(w, o + 2);
        IntVector u = q4Bytes(w, o + 10);
        FloatVector t = ((FloatVector) v.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(F8, x, xo), FloatVector.broadcast(F8, negSums[xOff / 32 + b]));
        FloatVector s = ((FloatVector) u.and(LOW_NIBBLE).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F8, x, xo + 8));
        t = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xo + 16), t);
        s = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F8, x, xo + 24), s);
        return t.add(s).reduceLanes(VectorOperators.ADD) * Float.float16ToFloat(w.get(SH, o));
    }

    // ------------------------------------------------------------------ Q8_0_R32

    /**
     * Q8_0_R32 groups of 32 rows ({@link mgm.runtime.InterleavedQuant}) against a float activation
     * row: {@code out[32 g + i]} for groups g in [0, groups). Per block, element j of rows 0-15 and
     * of rows 16-31 are two 16-byte loads, each widened to 16 floats by one conversion and FMA'd
     * with the broadcast {@code x[j]}; the block sums are scaled by the 32 rows' scales at its end
     * ({@code d * sum x q}, as {@link #rowsQ8}).
     *
     * <p>The offsets are written {@code 32L * j} with {@code j = 2p} an int, not as a long linear in
     * the loop variable: then C2 splits this 16-pass loop into pre-, main- and post-loops to take
     * the segment's range check out of it, entered through a dozen or more conditional moves per
     * block, which cost more than the checks (one core, cache-resident, five alternating pairs:
     * 21.3 -> 23.4 GB/s on average; C2's parse stays at ~13K nodes). The Q4_0 kernels' 16-pass
     * loops gained nothing from the same.
     */
    static void groupsQ8(long start, int groups, float[] x, int xOff, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        long groupBytes = (long) nb * Q8_GROUP_BLOCK;
        for (int g = 0; g < groups; g++) {
            long base = start + g * groupBytes;
            // the group's sums live in out, not in registers across the block loop: in some programs C2
            // boxed such loop-carried vectors once per block (seen as 160 bytes allocated per block)
            java.util.Arrays.fill(out, 32 * g, 32 * g + 32, 0f);
            for (int b = 0; b < nb; b++) {
                long o = base + (long) b * Q8_GROUP_BLOCK;
                int xo = xOff + 32 * b;
                FloatVector s0 = FloatVector.zero(F16L), s1 = s0, p0 = s0, p1 = s0;
                for (int p = 0; p < 16; p++) {
                    int j = 2 * p;  // an int, widened in the offsets below (see the note above)
                    FloatVector xa = FloatVector.broadcast(F16L, x[xo + j]), xb = FloatVector.broadcast(F16L, x[xo + j + 1]);
                    s0 = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 64 + 32L * j, LE).convertShape(VectorOperators.B2F, F16L, 0)).fma(xa, s0);
                    s1 = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 80 + 32L * j, LE).convertShape(VectorOperators.B2F, F16L, 0)).fma(xa, s1);
                    p0 = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 96 + 32L * j, LE).convertShape(VectorOperators.B2F, F16L, 0)).fma(xb, p0);
                    p1 = ((FloatVector) ByteVector.fromMemorySegment(B16, w, o + 112 + 32L * j, LE).convertShape(VectorOperators.B2F, F16L, 0)).fma(xb, p1);
                }
                // the 32 rows' scales (see lowScales / highScales; written out here: a helper left out of line boxes its vectors)
                IntVector h = IntVector.fromMemorySegment(I16L, w, o, LE);
                FloatVector d0 = h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(TWO_TO_112);
                FloatVector d1 = h.lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(TWO_TO_112);
                s0.lanewise(VectorOperators.ADD, p0).fma(d0, FloatVector.fromArray(F16L, out, 32 * g)).intoArray(out, 32 * g);
                s1.lanewise(VectorOperators.ADD, p1).fma(d1, FloatVector.fromArray(F16L, out, 32 * g + 16)).intoArray(out, 32 * g + 16);
            }
        }
    }

    /** 16 int8 quants (16 rows' element) at {@code at} as 16 floats. */
    static FloatVector q8Lanes(MemorySegment w, long at) {
        return (FloatVector) ByteVector.fromMemorySegment(B16, w, at, LE).convertShape(VectorOperators.B2F, F16L, 0);
    }

    // ------------------------------------------------------------------ Q4_0_R32

    /**
     * Q4_0_R32 groups of 32 rows ({@link mgm.runtime.InterleavedQuant}) against a float activation
     * row: {@code out[32 g + i]} for groups g in [0, groups). F32 arithmetic throughout (the
     * default form). Per block, as in {@link #rowsQ4}, {@code sum x (q - 8) = sum x q - 8 sum x}:
     * the accumulators start at {@code 8 negSums[b]}. A quant vector read as 32-bit lanes holds row
     * i's byte in bits 0-7 and row i + 16's in bits 16-23; each of the four nibbles is masked in
     * place (worth {@code 2^s q} for its bit offset s) and converted, and each sum is scaled by
     * {@code 2^-s} once per block, which is exact. So each weight costs a mask, a conversion and an
     * FMA against a broadcast activation. Activation rows with a non-finite element or an element
     * beyond 2^100 (where {@code 2^20 q x} summed over a block could overflow) take
     * {@link #groupsQ4Float} instead (see {@link #q4RowIsOrdinary}).
     *
     * <p>The loop is bound by the number of 512-bit operations it issues, even streaming from
     * memory on two threads (Zen 4 retires about 1.5 per cycle whatever their kind: dropping the
     * masks, the conversions or the activation broadcasts each saves time in proportion), so it
     * does no shift and keeps its masks in registers ({@code static final} vectors;
     * {@code v.and(0xF)} re-broadcast its constant from memory at every use): 2.77 -> 2.55 ns per
     * 64 weights on one core, cache-resident; 6-8% more GB/s on two threads from memory. (Two
     * groups per pass sharing the broadcasts gain another 5% in cache but nothing from memory,
     * where the second stream costs what the saved broadcasts gain.)
     */
    static void groupsQ4(long start, int groups, float[] x, float[] negSums, int xOff, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        int b0 = xOff / 32;
        long groupBytes = (long) nb * Q4_GROUP_BLOCK;
        for (int g = 0; g < groups; g++) {
            long base = start + g * groupBytes;
            java.util.Arrays.fill(out, 32 * g, 32 * g + 32, 0f);  // the group's sums live in out (see groupsQ8)
            for (int b = 0; b < nb; b++) {
                long o = base + (long) b * Q4_GROUP_BLOCK;
                int xo = xOff + 32 * b;
                FloatVector s0 = FloatVector.broadcast(F16L, 8f * negSums[b0 + b]);
                FloatVector s1 = FloatVector.broadcast(F16L, 0x1p19f * negSums[b0 + b]);  // 8 sum x, times 2^16
                FloatVector t0 = FloatVector.zero(F16L), t1 = t0;
                for (int j = 0; j < 16; j++) {
                    IntVector v = ((ShortVector) ByteVector.fromMemorySegment(B32, w, o + 64 + 32L * j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0)).reinterpretAsInts();
                    FloatVector xa = FloatVector.broadcast(F16L, x[xo + j]), xc = FloatVector.broadcast(F16L, x[xo + j + 16]);
                    s0 = ((FloatVector) v.and(NIBBLE_AT_0).convert(VectorOperators.I2F, 0)).fma(xa, s0);
                    t0 = ((FloatVector) v.and(NIBBLE_AT_4).convert(VectorOperators.I2F, 0)).fma(xc, t0);
                    s1 = ((FloatVector) v.and(NIBBLE_AT_16).convert(VectorOperators.I2F, 0)).fma(xa, s1);
                    t1 = ((FloatVector) v.and(NIBBLE_AT_20).convert(VectorOperators.I2F, 0)).fma(xc, t1);
                }
                // the 32 rows' scales (see lowScales / highScales; written out here: a helper left out of line boxes its
                // vectors); rows 16-31's times 2^-16, the offset of their sums
                IntVector h = IntVector.fromMemorySegment(I16L, w, o, LE);
                FloatVector d0 = h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(TWO_TO_112);
                FloatVector d1 = h.lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(TWO_TO_96);
                t0.lanewise(VectorOperators.FMA, SIXTEENTH, s0).fma(d0, FloatVector.fromArray(F16L, out, 32 * g)).intoArray(out, 32 * g);
                t1.lanewise(VectorOperators.FMA, SIXTEENTH, s1).fma(d1, FloatVector.fromArray(F16L, out, 32 * g + 16)).intoArray(out, 32 * g + 16);
            }
        }
    }

    /**
     * {@link #groupsQ4} without its conversions, for CPUs that multiply subnormal floats at full
     * speed ({@link SubnormalOperands}). A masked nibble {@code 2^s q} (s = 0, 4, 16, 20: below bit
     * 24, the lowest exponent bit) read as a float is the subnormal {@code 2^s q 2^-149}, exactly;
     * so each weight costs a mask and an FMA (two 512-bit operations, against three with the
     * conversion). The activation row was prepared by {@link #prepareQ4Subnormal}: {@code x} scaled
     * by {@code 2^P} (its largest element in [2^126, 2^127)), {@code negSums} by {@code 2^(P-149)},
     * so each product and partial sum is the one of {@link #groupsQ4} times {@code 2^(P-149)},
     * a normal float for all but sums below 2^-103 of the row's largest element; {@code rowScale
     * = 2^(149-P)} takes the block sums back (exact: a power of two). The results are therefore
     * bit-identical to {@link #groupsQ4}'s wherever its own stay normal.
     */
    static void groupsQ4Subnormal(long start, int groups, float[] x, float[] negSums, float rowScale, int xOff, int k,
                                  float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        int b0 = xOff / 32;
        long groupBytes = (long) nb * Q4_GROUP_BLOCK;
        FloatVector back = FloatVector.broadcast(F16L, rowScale);
        for (int g = 0; g < groups; g++) {
            long base = start + g * groupBytes;
            java.util.Arrays.fill(out, 32 * g, 32 * g + 32, 0f);  // the group's sums live in out (see groupsQ8)
            for (int b = 0; b < nb; b++) {
                long o = base + (long) b * Q4_GROUP_BLOCK;
                int xo = xOff + 32 * b;
                FloatVector s0 = FloatVector.broadcast(F16L, 8f * negSums[b0 + b]);
                FloatVector s1 = FloatVector.broadcast(F16L, 0x1p19f * negSums[b0 + b]);
                FloatVector t0 = FloatVector.zero(F16L), t1 = t0;
                for (int j = 0; j < 16; j++) {
                    IntVector v = ((ShortVector) ByteVector.fromMemorySegment(B32, w, o + 64 + 32L * j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0)).reinterpretAsInts();
                    FloatVector xa = FloatVector.broadcast(F16L, x[xo + j]), xc = FloatVector.broadcast(F16L, x[xo + j + 16]);
                    s0 = v.and(NIBBLE_AT_0).reinterpretAsFloats().fma(xa, s0);
                    t0 = v.and(NIBBLE_AT_4).reinterpretAsFloats().fma(xc, t0);
                    s1 = v.and(NIBBLE_AT_16).reinterpretAsFloats().fma(xa, s1);
                    t1 = v.and(NIBBLE_AT_20).reinterpretAsFloats().fma(xc, t1);
                }
                IntVector h = IntVector.fromMemorySegment(I16L, w, o, LE);
                FloatVector d0 = h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(TWO_TO_112);
                FloatVector d1 = h.lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(TWO_TO_96);
                t0.lanewise(VectorOperators.FMA, SIXTEENTH, s0).mul(back).fma(d0, FloatVector.fromArray(F16L, out, 32 * g)).intoArray(out, 32 * g);
                t1.lanewise(VectorOperators.FMA, SIXTEENTH, s1).mul(back).fma(d1, FloatVector.fromArray(F16L, out, 32 * g + 16)).intoArray(out, 32 * g + 16);
            }
        }
    }

    /**
     * Prepares ordinary activation row {@code x[0..k)} ({@link #q4RowIsOrdinary}), whose largest
     * magnitude is {@code largest} ({@link VecMath#maxAbs}), for {@link #groupsQ4Subnormal}:
     * {@code dst = x 2^P} with P = 126 - (exponent of largest), {@code negSums[b] = -(sum of block
     * b) 2^(P-149)} (the summation of {@link #prepare}, so that the kernels agree bit for bit;
     * but only when both prepares ran in the same compilation state: {@code FloatVector.reduceLanes}
     * adds the lanes in another order in C2's code than in the library's Java fallback, which the
     * interpreter and C1 run, and the sums can differ in their last bits); returns
     * {@code 2^(149-P)}, which takes the kernel's sums back. P runs from -1 to 253 (a row of zeros
     * or subnormals), so the row is scaled by {@code 2^min(P, 127)}, then by the rest: both
     * products exact (below 2^127 all along), except for P = -1, whose one rounding is the
     * correctly rounded {@code x / 2}.
     */
    static float prepareQ4Subnormal(float[] x, int k, float largest, float[] dst, float[] negSums) {
        int e = Math.getExponent(largest);  // -127 for zero and subnormals
        int p = 126 - e;
        float first = Math.scalb(1f, Math.min(p, 127)), rest = Math.scalb(1f, p - Math.min(p, 127));
        int i = 0;
        for (; i + L <= k; i += L) {
            FloatVector.fromArray(F, x, i).mul(first).mul(rest).intoArray(dst, i);
        }
        for (; i < k; i++) {
            dst[i] = x[i] * first * rest;
        }
        negatedBlockSums(x, k, Math.scalb(1f, -23 - e), negSums);  // 2^(P-149): from 2^-123 to 2^104
        return Math.scalb(1f, 23 + e);
    }

    /**
     * {@code out[b] = -(sum of block b of x) * scale} for the k / 32 whole blocks: the one summation
     * both Q4_0 prepares use (a block's 32 / L vectors added, then their lanes; in order where a
     * vector is longer than a block).
     */
    private static void negatedBlockSums(float[] x, int k, float scale, float[] out) {
        for (int b = 0; b < k / 32; b++) {
            float sum;
            if (L <= 32) {
                FloatVector s = FloatVector.fromArray(F, x, 32 * b);
                for (int j = L; j < 32; j += L) {
                    s = FloatVector.fromArray(F, x, 32 * b + j).add(s);
                }
                sum = s.reduceLanes(VectorOperators.ADD);
            } else {
                sum = 0;
                for (int j = 0; j < 32; j++) {
                    sum += x[32 * b + j];
                }
            }
            out[b] = -sum * scale;
        }
    }

    /**
     * Q4_0_R32 groups against an activation row rounded to Q8_0 ({@link ActivationQ8}: {@code xq}
     * its quants, each in both 16-bit halves of an int, each block's upper sixteen folded by
     * {@link ActivationQ8#foldUpperHalves}; {@code dx} its fp16 scales; {@code sx8} 8 x each block's
     * quant sum), as GGML's Q4_0 x Q8_0 dot product: per block the integer
     * {@code sum (q4 - 8) xq = sum q4 xq - 8 sum xq}, times {@code d4 * dx}. A quant vector
     * zero-extended to 32 shorts holds row i's byte in lane 2i and row i + 16's in lane 2i + 1, so
     * one multiply takes 32 rows against an activation quant broadcast by a plain 32-bit load (the
     * paired int, read as shorts). The byte {@code c = lo + 16 hi} of elements j (low nibble) and
     * j + 16 (high) needs no mask: {@code c a + hi (b - 16 a) = lo a + hi b} for their quants a and
     * b, and the folded quant is that {@code b - 16 a}. The products add up in one 16-bit
     * accumulator that may wrap on the way: the block's total,
     * {@code |sum (q4 - 8) xq| <= 32 * 8 * 127 < 2^15}, comes out exact from 16-bit wrapping
     * arithmetic whatever the order. Its two halves (rows 0-15, 16-31) are sign-extended in 32-bit
     * lanes, converted and scaled. Six 512-bit operations per 64 weights (widen, shift, two
     * multiplies, two adds; the broadcasts are loads) against fifteen in {@link #groupsQ4} (seven
     * with the mask: one core, cache-resident, 17.2 -> 19.3 GB/s); the quant vectors are read in
     * address order (two interleaved streams read 10-20% slower from memory).
     *
     * <p>Written for C2: the accumulator, carried by the loop, appears as an argument only. While C2
     * parses the loop it knows its class only as {@code ShortVector}, and a call with such a
     * receiver is bound through the library's shared call-site profile, which other vector shapes
     * in the same program make polymorphic: the call then stays virtual, on boxed vectors (seen on
     * an earlier form of this kernel: 3-15 instead of 45 tok/s). Every receiver here is a constant,
     * a load with a constant species or the result of such a call; the block's sum leaves the
     * loop through {@code blockSum} (32 shorts of the calling thread's scratch).
     */
    static void groupsQ4Int(long start, int groups, int[] xq, float[] dx, int[] sx8, int xOff, int k, float[] out,
                            short[] blockSum) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        int b0 = xOff / 32;
        long groupBytes = (long) nb * Q4_GROUP_BLOCK;
        for (int g = 0; g < groups; g++) {
            long base = start + g * groupBytes;
            java.util.Arrays.fill(out, 32 * g, 32 * g + 32, 0f);  // the group's sums live in out (see groupsQ8)
            for (int b = 0; b < nb; b++) {
                long o = base + (long) b * Q4_GROUP_BLOCK;
                int xo = xOff + 32 * b;
                // zero(S32), not a static final zero: a loop phi merging a heap constant with vectors boxes them
                ShortVector acc = ShortVector.zero(S32);
                for (int j = 0; j < 16; j++) {  // the quant vectors in address order
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B32, w, o + 64 + 32L * j, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                    acc = v.lanewise(VectorOperators.LSHR, 4).mul(IntVector.broadcast(I16L, xq[xo + j + 16]).reinterpretAsShorts())
                            .add(v.mul(IntVector.broadcast(I16L, xq[xo + j]).reinterpretAsShorts()).add(acc));
                }
                // through memory: past the loop C2 knows acc only as a ShortVector (a phi), and in programs
                // that ran other vector shapes the conversions below, bound through the library's shared
                // profiles, stayed virtual calls on boxed vectors; reloaded, the sum has its exact class again
                ShortVector.broadcast(S32, (short) -sx8[b0 + b]).add(acc).intoArray(blockSum, 0);
                IntVector total = ShortVector.fromArray(S32, blockSum, 0).reinterpretAsInts();
                // the rows' scales times dx (see lowScales / highScales, here times dx 2^112: exact and finite for an fp16 dx)
                float d = dx[b0 + b] * 0x1p112f;
                IntVector h = IntVector.fromMemorySegment(I16L, w, o, LE);
                FloatVector d0 = h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(d);
                FloatVector d1 = h.lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(d);
                ((FloatVector) total.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(d0, FloatVector.fromArray(F16L, out, 32 * g)).intoArray(out, 32 * g);
                ((FloatVector) total.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(d1, FloatVector.fromArray(F16L, out, 32 * g + 16)).intoArray(out, 32 * g + 16);
            }
        }
    }

    /**
     * Whether {@link #rowsQ4} / {@link #groupsQ4} may take activation row {@code x[0..k)}: every
     * element finite and within +-2^100. Their {@code sum x q - 8 sum x} turns an infinite x into
     * NaN where the reference has +-Inf; such rows take {@link #rowsQ4Exact} / {@link #groupsQ4Float}.
     */
    static boolean q4RowIsOrdinary(float[] x, int k) {
        return q4RowIsOrdinary(VecMath.maxAbs(x, k));
    }

    /** The same, from the row's largest magnitude ({@link VecMath#maxAbs}). */
    static boolean q4RowIsOrdinary(float largest) {
        return largest <= 0x1p100f;  // false for NaN
    }


    /**
     * Q4_0_R32 groups against a float activation row, computing {@code d * sum x (q - 8)} per
     * block (like the reference), so that non-finite activations give the reference's Inf / NaN:
     * the rare rows that {@link #groupsQ4} does not take.
     */
    static void groupsQ4Float(long start, int groups, float[] x, int xOff, int k, float[] out) {
        MemorySegment w = AbsoluteMemory.ALL;  // start is an absolute address (see AbsoluteMemory)
        int nb = k / 32;
        long groupBytes = (long) nb * Q4_GROUP_BLOCK;
        for (int g = 0; g < groups; g++) {
            long base = start + g * groupBytes;
            java.util.Arrays.fill(out, 32 * g, 32 * g + 32, 0f);  // the group's sums live in out (see groupsQ8)
            for (int b = 0; b < nb; b++) {
                long o = base + (long) b * Q4_GROUP_BLOCK;
                int xo = xOff + 32 * b;
                FloatVector s0 = FloatVector.zero(F16L), s1 = FloatVector.zero(F16L);
                for (int j = 0; j < 16; j++) {
                    IntVector v = quantBytes(w, o + 64 + 32L * j).reinterpretAsInts();
                    FloatVector xa = FloatVector.broadcast(F16L, x[xo + j]), xc = FloatVector.broadcast(F16L, x[xo + j + 16]);
                    s0 = nibbleAsFloat(v, 0).fma(xa, s0);
                    s0 = nibbleAsFloat(v, 4).fma(xc, s0);
                    s1 = nibbleAsFloat(v, 16).fma(xa, s1);
                    s1 = nibbleAsFloat(v, 20).fma(xc, s1);
                }
                IntVector h = IntVector.fromMemorySegment(I16L, w, o, LE);
                s0.lanewise(VectorOperators.FMA, lowScales(h), FloatVector.fromArray(F16L, out, 32 * g)).intoArray(out, 32 * g);
                s1.lanewise(VectorOperators.FMA, highScales(h), FloatVector.fromArray(F16L, out, 32 * g + 16)).intoArray(out, 32 * g + 16);
            }
        }
    }

    /** One quant vector of a group (32 bytes, one per row) zero-extended to 32 16-bit lanes. */
    static ShortVector quantBytes(MemorySegment w, long at) {
        return (ShortVector) ByteVector.fromMemorySegment(B32, w, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
    }

    /** The nibble at bit {@code shift} of each 32-bit lane, minus 8, as a float. */
    static FloatVector nibbleAsFloat(IntVector v, int shift) {
        return (FloatVector) v.lanewise(VectorOperators.LSHR, shift).and(NIBBLE32).sub(8).convert(VectorOperators.I2F, 0);
    }

    /**
     * The fp16 scales in the low halves of 32-bit lanes (rows 0-15) as floats: the half's sign and
     * magnitude bits moved into an F32's place ({@code << 16}, arithmetic {@code >> 3}, mask) and
     * scaled by 2^112, exact for normal and subnormal halves (interleaved weights have no Inf / NaN
     * scale). Few operations on purpose: the kernels around it sit near C2's inlining node budget.
     */
    static FloatVector lowScales(IntVector h) {
        return h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(0x1p112f);
    }

    /** The fp16 scales in the high halves of 32-bit lanes (rows 16-31), as {@link #lowScales}. */
    static FloatVector highScales(IntVector h) {
        return h.lanewise(VectorOperators.ASHR, 3).and(R32_HALF_TO_FLOAT).reinterpretAsFloats().mul(0x1p112f);
    }
}
