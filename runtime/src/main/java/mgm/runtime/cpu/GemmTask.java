package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.DType;

/**
 * {@code C[M, N] = A[M, K] · B[N, K]ᵀ (+ bias)}: the prefill-shape matmul. Classic cache blocking
 * (Goto / BLIS): A is packed once per call into MR-tall row panels for every KC-deep slab (a
 * first parallel phase, into one shared buffer); then for each slab a KC x NC block of B is
 * converted to F32 and packed into NR-wide column panels (L2-resident), and a register-blocked
 * MR x NR micro-kernel (6 rows x 2 vectors = 12 accumulators with AVX-512, 4 x 2 with AVX2) streams both panels. Weights in F16 /
 * BF16 / Q8_0 / Q4_0 are dequantised while packing, so the micro-kernel is F32 only.
 *
 * <p>Parallel work items are (NC column block, M row group) pairs; each worker packs B into its own
 * preallocated buffer and writes a disjoint tile of C, so no locking is needed. Very tall A is done
 * in row blocks, so that the shared A buffer stays bounded ({@link #PACKED_A_FLOATS}).
 */
final class GemmTask implements WorkerPool.Task {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> S_HALF = ShortVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(FloatVector.SPECIES_PREFERRED.length() * 16));
    static final int L = F.length();
    /** 256-bit species for the block-quantised formats (a 32-element block is 4 x 8 lanes on any AVX2 / AVX-512 machine). */
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** Rows of the register tile: 6 where there are 32 vector registers (AVX-512), 4 with AVX2's 16 (see the micro-kernels). */
    static final int MR = L >= 16 ? 6 : 4;
    static final int NR = 2 * L;
    /** Slab depth: C is re-read and re-written once per slab (from L3 for large C), so deeper slabs halve that traffic; 512 x NC_MAX F32 of B (512 KB) still sits in L2. */
    static final int KC = 512;
    /** Where packB's scratch holds each of L converted rows: r * KC. */
    private static final int[] ROW_STARTS = java.util.stream.IntStream.range(0, L).map(r -> r * KC).toArray();
    static final int MC = 16 * MR;
    static final int NC_MAX = 256 / NR * NR;
    /** Bound of the shared packed-A buffer (floats): taller A runs in row blocks of at most this many elements. */
    static final int PACKED_A_FLOATS = 6 << 20;
    /**
     * Chunks per thread a call aims for (dynamic balance on a shared machine): fewer, larger ones
     * once A has {@link #TALL_ROWS} rows (measured: 577 x 1024 x 4096 lost 13% with 8 per thread,
     * while 32-128 rows gained 14-17% from 8 over 4).
     */
    static final int CHUNKS_PER_THREAD = 8;
    static final int CHUNKS_PER_THREAD_TALL = 4;
    static final int TALL_ROWS = 256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final IntVector F16_EXP = IntVector.broadcast(I, 0x7C00);
    private static final IntVector F16_TO_F32_MASK = IntVector.broadcast(I, 0x8FFFE000);
    private static final FloatVector F16_SCALE = FloatVector.broadcast(F, 0x1p112f);

    private float[] packedA = new float[0];
    private final float[][] packB;
    private final float[][] tile;
    private final float[][] dequant;
    /** One whole row of A per worker, copied out of its segment while packing. */
    private final float[][] rowBuffer;

    // the current call
    private MemorySegment a;
    /** Byte offsets of the current row block's first row in a and c. */
    private long aOff;
    private long cOff;
    private long lda;
    private MemorySegment b;
    private DType bType;
    private long ldbBytes;
    private MemorySegment bias;
    private MemorySegment c;
    private long ldc;
    private int m;
    private int n;
    private int k;
    private int nc;
    private int colBlocks;
    private int rowGroups;
    private int groupRows;
    /** Row panels of A (the current row block) per chunk of the packing phase. */
    private int panelsPerPackChunk;
    private int mPad;
    /** Add to C instead of overwriting it (the second and later K tiles of a tiled weight). */
    private boolean accumulate;

    GemmTask(int threads) {
        packB = ThreadScratch.floats(threads, KC * NC_MAX);
        tile = ThreadScratch.floats(threads, MR * NR);
        dequant = ThreadScratch.floats(threads, L * KC);
        rowBuffer = new float[threads][0];
    }

    /**
     * {@code C = A · Bᵀ (+ bias)} on the pool, or {@code C += A · Bᵀ (+ bias)} when
     * {@code accumulate}. a: F32 rows of length k at float stride lda; b: n rows of k elements of
     * bType, row pitch ldbBytes; c: F32 rows at float stride ldc. A taller than the packed-A budget
     * runs in row blocks, each packed once and then multiplied.
     */
    void multiply(WorkerPool pool, MemorySegment a, long lda, MemorySegment b, DType bType, long ldbBytes,
                  MemorySegment bias, MemorySegment c, long ldc, int m, int n, int k, boolean accumulate) {
        this.accumulate = accumulate;
        int threads = pool.threads();
        int blockRows = Math.max(MR, (int) Math.min(m, PACKED_A_FLOATS / Math.max(1, k) / MR * MR));
        try {
            for (int r0 = 0; r0 < m; r0 += blockRows) {
                int rows = Math.min(blockRows, m - r0);
                int packChunks = set(a, 4L * r0 * lda, lda, b, bType, ldbBytes, bias, c, 4L * r0 * ldc, ldc, rows, n, k, threads);
                pool.run(packPhase, packChunks);
                pool.run(this, colBlocks * rowGroups);
            }
        } finally {
            release();
        }
    }

    /** Sets up one row block; returns the number of chunks of its packing phase. */
    private int set(MemorySegment a, long aOff, long lda, MemorySegment b, DType bType, long ldbBytes, MemorySegment bias,
            MemorySegment c, long cOff, long ldc, int m, int n, int k, int threads) {
        this.a = a;
        this.aOff = aOff;
        this.cOff = cOff;
        this.lda = lda;
        this.b = b;
        this.bType = bType;
        this.ldbBytes = ldbBytes;
        this.bias = bias;
        this.c = c;
        this.ldc = ldc;
        this.m = m;
        this.n = n;
        this.k = k;
        chooseTiles(threads);
        int panels = (m + MR - 1) / MR;
        mPad = panels * MR;
        if (packedA.length < (long) mPad * k) {
            packedA = new float[mPad * k];
        }
        int packChunks = Math.min(panels, 4 * threads);
        panelsPerPackChunk = (panels + packChunks - 1) / packChunks;
        return (panels + panelsPerPackChunk - 1) / panelsPerPackChunk;
    }

    /**
     * Splits C into colBlocks x rowGroups chunks. Many chunks (about {@link #CHUNKS_PER_THREAD} per
     * thread): a thread that the OS deschedules holds up one small chunk instead of a share of the
     * matmul. Among the splits into that many chunks, the one with the least traffic: each chunk
     * streams its rows of packed A once per slab (cost ~ 1 / its column count per FLOP) and packs
     * its columns of B once per slab (~ 1 / its row count), so chunks as square as the shape allows.
     */
    private void chooseTiles(int threads) {
        int panels = (n + NR - 1) / NR;
        int mPanels = (m + MR - 1) / MR;
        int want = Math.max(1, (m >= TALL_ROWS ? CHUNKS_PER_THREAD_TALL : CHUNKS_PER_THREAD) * threads);
        int minBlocks = (panels * NR + NC_MAX - 1) / NC_MAX;
        double best = Double.MAX_VALUE;
        for (int cb = minBlocks; cb <= panels; cb++) {
            int panelsPerBlock = (panels + cb - 1) / cb;
            int blocks = (panels + panelsPerBlock - 1) / panelsPerBlock;
            int rg = Math.min(mPanels, Math.max(1, (want + blocks - 1) / blocks));
            int panelsPerGroup = (mPanels + rg - 1) / rg;
            double cols = panelsPerBlock * NR;
            double rows = panelsPerGroup * MR;
            double cost = 1 / cols + 1 / rows;
            if (cost < best - 1e-12) {
                best = cost;
                nc = panelsPerBlock * NR;
                groupRows = panelsPerGroup * MR;
            }
            if (blocks >= want) {
                break;  // more column blocks only narrow them
            }
        }
        colBlocks = (n + nc - 1) / nc;
        rowGroups = (m + groupRows - 1) / groupRows;
    }

    private void release() {
        a = null;
        b = null;
        bias = null;
        c = null;
    }

    /** The first phase of a row block: chunk i packs A's row panels [i, i + 1) * panelsPerPackChunk. */
    private final WorkerPool.Task packPhase = (chunk, worker) -> {
        int p0 = chunk * panelsPerPackChunk;
        packA(p0, Math.min(mPad / MR, p0 + panelsPerPackChunk), worker);
    };

    /** The second phase: chunk = (column block, row group) of C. */
    @Override
    public void run(int chunk, int worker) {
        int jb = chunk % colBlocks;
        int g = chunk / colBlocks;
        int jc = jb * nc;
        int ncb = Math.min(nc, n - jc);
        int m0 = g * groupRows;
        int m1 = Math.min(m, m0 + groupRows);
        float[] pb = packB[worker];
        float[] pa = packedA;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            packB(pb, jc, ncb, pc, kc, worker);
            for (int ic = m0; ic < m1; ic += MC) {
                int mc = Math.min(MC, m1 - ic);
                // the slab's panels start at pc * mPad; panel ic / MR within it
                macroKernel(pa, pc * mPad + ic * kc, pb, ic, mc, jc, ncb, kc, pc == 0 && !accumulate, worker);
            }
        }
        if (bias != null) {
            addBias(m0, m1, jc, ncb);
        }
    }

    /**
     * The bias, added to the chunk's finished tile (still in cache). Kept out of the micro-kernel:
     * a branch there that flips between calls made C2 recompile the kernel without inlining the
     * vector loads, and every later GEMM (with or without bias) ran 3-4x slower.
     */
    private void addBias(int m0, int m1, int jc, int ncb) {
        MemorySegment out = c;
        MemorySegment bs = bias;
        for (int row = m0; row < m1; row++) {
            long rowOff = cOff + 4L * ((long) row * ldc + jc);
            int j = 0;
            for (; j + L <= ncb; j += L) {
                FloatVector.fromMemorySegment(F, out, rowOff + 4L * j, LE)
                        .add(FloatVector.fromMemorySegment(F, bs, 4L * (jc + j), LE))
                        .intoMemorySegment(out, rowOff + 4L * j, LE);
            }
            for (; j < ncb; j++) {
                out.set(FL, rowOff + 4L * j, out.get(FL, rowOff + 4L * j) + bs.get(FL, 4L * (jc + j)));
            }
        }
    }

    // ------------------------------------------------------------------ packing

    /**
     * Row panels [p0, p1) of A for every slab: panel p of the slab at pc holds rows p*MR.. as
     * {@code kc} groups of MR (rows past m are zero), at {@code pc * mPad + p * MR * kc}.
     */
    private void packA(int p0, int p1, int worker) {
        MemorySegment seg = a;
        float[] pa = packedA;
        if (rowBuffer[worker].length < k) {
            rowBuffer[worker] = ThreadScratch.floats(k);
        }
        float[] row = rowBuffer[worker];
        for (int p = p0; p < p1; p++) {
            for (int r = 0; r < MR; r++) {
                int i = p * MR + r;
                if (i < m) {
                    // bulk copy, then an array-to-array scatter (no per-element segment checks)
                    MemorySegment.copy(seg, FL, aOff + 4L * i * lda, row, 0, k);
                } else {
                    java.util.Arrays.fill(row, 0, k, 0f);
                }
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    int base = pc * mPad + p * MR * kc + r;
                    for (int kk = 0; kk < kc; kk++) {
                        pa[base + kk * MR] = row[pc + kk];
                    }
                }
            }
        }
    }

    private void packB(float[] pb, int jc, int ncb, int pc, int kc, int worker) {
        if (bType == DType.Q4_0_R32) {
            packInterleavedQ4(pb, jc, ncb, pc, kc);
            return;
        }
        if (bType == DType.Q8_0_R32) {
            packInterleavedQ8(pb, jc, ncb, pc, kc);
            return;
        }
        // L rows at a time: each converted into scratch (rows KC floats apart), then one gather per k
        // takes element k of all L rows and stores it as one vector of the panel row. Storing each
        // converted row at a stride of NR floats instead (one scalar store per element, each to another
        // line of the 64 KB panel) made BF16 prefill 2-3% slower (see the notes)
        float[] rows = dequant[worker];
        for (int j0 = 0; j0 < ncb; j0 += L) {
            int n = Math.min(L, ncb - j0);
            for (int r = 0; r < n; r++) {
                readRow((jc + j0 + r) * ldbBytes, pc, kc, rows, r * KC);
            }
            for (int r = n; r < L; r++) {
                java.util.Arrays.fill(rows, r * KC, r * KC + kc, 0f);
            }
            int base = (j0 / NR) * kc * NR + j0 % NR;
            for (int kk = 0; kk < kc; kk++) {
                FloatVector.fromArray(F, rows, kk, ROW_STARTS, 0).intoArray(pb, base + kk * NR);
            }
        }
        if (ncb % NR != 0 && ncb % NR <= L) {  // the last panel's second half lies wholly past ncb: zeros
            int base = (ncb / NR) * kc * NR + L;
            for (int kk = 0; kk < kc; kk++) {
                java.util.Arrays.fill(pb, base + kk * NR, base + kk * NR + L, 0f);
            }
        }
    }

    /**
     * packB for Q4_0_R32 weights ({@link mgm.runtime.InterleavedQuant}; only made where NR = 32): a
     * panel is one 32-row group, and each quant vector gives, per nibble, one element of all 32
     * rows, i.e. one packed panel row. {@code d * (q - 8)} as in the scalar dequantisation.
     */
    private void packInterleavedQ4(float[] pb, int jc, int ncb, int pc, int kc) {
        int blockBytes = mgm.runtime.InterleavedQuant.blockBytes(DType.Q4_0);
        for (int j = 0; j < ncb; j += NR) {
            long group = (jc + j) * ldbBytes;
            int base = (j / NR) * kc * NR;
            for (int blk = pc / 32; blk < (pc + kc) / 32; blk++) {
                long o = group + (long) blk * blockBytes;
                IntVector h = IntVector.fromMemorySegment(GemvKernels.I16L, b, o, LE);
                FloatVector dLow = GemvKernels.lowScales(h), dHigh = GemvKernels.highScales(h);
                int e = blk * 32 - pc;
                for (int q = 0; q < 16; q++) {
                    IntVector v = GemvKernels.quantBytes(b, o + 64 + 32L * q).reinterpretAsInts();
                    int at = base + (e + q) * NR;
                    GemvKernels.nibbleAsFloat(v, 0).mul(dLow).intoArray(pb, at);
                    GemvKernels.nibbleAsFloat(v, 16).mul(dHigh).intoArray(pb, at + 16);
                    GemvKernels.nibbleAsFloat(v, 4).mul(dLow).intoArray(pb, at + 16 * NR);
                    GemvKernels.nibbleAsFloat(v, 20).mul(dHigh).intoArray(pb, at + 16 * NR + 16);
                }
            }
        }
    }

    /** packB for Q8_0_R32 weights, as {@link #packInterleavedQ4}: element j of the 32 rows is one panel row, {@code d * q}. */
    private void packInterleavedQ8(float[] pb, int jc, int ncb, int pc, int kc) {
        int blockBytes = mgm.runtime.InterleavedQuant.blockBytes(DType.Q8_0);
        for (int j = 0; j < ncb; j += NR) {
            long group = (jc + j) * ldbBytes;
            int base = (j / NR) * kc * NR;
            for (int blk = pc / 32; blk < (pc + kc) / 32; blk++) {
                long o = group + (long) blk * blockBytes;
                IntVector h = IntVector.fromMemorySegment(GemvKernels.I16L, b, o, LE);
                FloatVector dLow = GemvKernels.lowScales(h), dHigh = GemvKernels.highScales(h);
                int e = blk * 32 - pc;
                for (int q = 0; q < 32; q++) {
                    int at = base + (e + q) * NR;
                    GemvKernels.q8Lanes(b, o + 64 + 32L * q).mul(dLow).intoArray(pb, at);
                    GemvKernels.q8Lanes(b, o + 80 + 32L * q).mul(dHigh).intoArray(pb, at + 16);
                }
            }
        }
    }

    /** Elements [pc, pc + kc) of weight row at byte rowOff, converted to F32 into dst[at, at + kc). pc and kc are multiples of 32 for block types. */
    private void readRow(long rowOff, int pc, int kc, float[] dst, int at) {
        MemorySegment seg = b;
        switch (bType) {
            case F32 -> MemorySegment.copy(seg, FL, rowOff + 4L * pc, dst, at, kc);
            case BF16 -> {
                long o = rowOff + 2L * pc;
                int kk = 0;
                for (; kk + L <= kc; kk += L) {
                    ((IntVector) ShortVector.fromMemorySegment(S_HALF, seg, o + 2L * kk, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, at + kk);
                }
                for (; kk < kc; kk++) {
                    dst[at + kk] = Float.intBitsToFloat((seg.get(SH, o + 2L * kk) & 0xFFFF) << 16);
                }
            }
            case F16 -> {
                // in registers: the half's bits shifted and masked into an F32's place, scaled by 2^112
                // (exact for normals and subnormals); a vector with an Inf / NaN half goes the scalar way.
                // (The scalar loop for every element held F16 GEMMs at ~105 GFLOP/s against ~183 for BF16.)
                long o = rowOff + 2L * pc;
                int kk = 0;
                for (; kk + L <= kc; kk += L) {
                    IntVector h = (IntVector) ShortVector.fromMemorySegment(S_HALF, seg, o + 2L * kk, LE).convertShape(VectorOperators.S2I, I, 0);
                    if (h.and(F16_EXP).compare(VectorOperators.EQ, F16_EXP).anyTrue()) {
                        for (int e = kk; e < kk + L; e++) {
                            dst[at + e] = Float.float16ToFloat(seg.get(SH, o + 2L * e));
                        }
                    } else {
                        h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(F16_TO_F32_MASK).reinterpretAsFloats()
                                .mul(F16_SCALE).intoArray(dst, at + kk);
                    }
                }
                for (; kk < kc; kk++) {
                    dst[at + kk] = Float.float16ToFloat(seg.get(SH, o + 2L * kk));
                }
            }
            case Q8_0 -> dequantQ8(seg, rowOff + (long) pc / 32 * 34, kc / 32, dst, at);
            case Q4_0 -> dequantQ4(seg, rowOff + (long) pc / 32 * 18, kc / 32, dst, at);
            default -> throw new IllegalStateException("matmul: weight dtype " + bType);
        }
    }

    /**
     * Q8_0 blocks to F32 in registers: {@code d * q} per element, the same float product as
     * {@link mgm.runtime.Quant#dequantize} (bit-identical), 8 elements per step.
     */
    private static void dequantQ8(MemorySegment seg, long at, int blocks, float[] dst, int dstAt) {
        for (int b = 0; b < blocks; b++) {
            long o = at + 34L * b;
            FloatVector d = FloatVector.broadcast(F8, Float.float16ToFloat(seg.get(SH, o)));
            int base = dstAt + 32 * b;
            for (int j = 0; j < 32; j += 8) {
                ((FloatVector) ByteVector.fromMemorySegment(B8, seg, o + 2 + j, LE).convertShape(VectorOperators.B2F, F8, 0))
                        .mul(d).intoArray(dst, base + j);
            }
        }
    }

    /** Q4_0 blocks to F32 in registers: {@code d * (nibble - 8)}, bit-identical to the scalar dequantisation. */
    private static void dequantQ4(MemorySegment seg, long at, int blocks, float[] dst, int dstAt) {
        for (int b = 0; b < blocks; b++) {
            long o = at + 18L * b;
            FloatVector d = FloatVector.broadcast(F8, Float.float16ToFloat(seg.get(SH, o)));
            int base = dstAt + 32 * b;
            for (int j = 0; j < 16; j += 8) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B8, seg, o + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
                ((FloatVector) q.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, base + j);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                        .intoArray(dst, base + 16 + j);
            }
        }
    }

    // ------------------------------------------------------------------ compute

    private void macroKernel(float[] pa, int aBase, float[] pb, int ic, int mc, int jc, int ncb, int kc, boolean first, int worker) {
        float[] t = tile[worker];
        for (int jr = 0; jr < ncb; jr += NR) {
            int nr = Math.min(NR, ncb - jr);
            int bOff = (jr / NR) * kc * NR;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                if (MR == 6) {
                    microKernel6(pa, aBase + (ir / MR) * kc * MR, pb, bOff, kc, t);
                } else {
                    microKernel4(pa, aBase + (ir / MR) * kc * MR, pb, bOff, kc, t);
                }
                storeTile(t, ic + ir, jc + jr, mr, nr, first);
            }
        }
    }

    /**
     * The 6 x 2L register tile for 512-bit vectors (32 registers): twelve accumulators, two B vectors
     * and one broadcast, written to {@code t}. Per k it issues two B loads and six broadcasts for twelve FMAs; the 4-row tile
     * before it (eight accumulators, 0.75 loads per FMA, eight chains for an FMA latency of four at two
     * per cycle) ran its macro-kernel loop at 183-187 GFLOP/s on one Zen 5 core where this one runs
     * 203-206 (an 8-row tile: 205). Edge tiles run the same kernel: packing pads A's rows and B's
     * columns with zeros, and {@link #storeTile} writes only the valid part.
     */
    private static void microKernel6(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] t) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector one = FloatVector.broadcast(F, 1f);  // the tile leaves times one (see the README, "Reading C2's machine code")
        int ao = aOff;
        int bo = bOff;
        for (int kk = 0; kk < kc; kk++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + L);
            FloatVector x = FloatVector.broadcast(F, pa[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, pa[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, pa[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        c00.lanewise(VectorOperators.MUL, one).intoArray(t, 0);
        c01.lanewise(VectorOperators.MUL, one).intoArray(t, L);
        c10.lanewise(VectorOperators.MUL, one).intoArray(t, NR);
        c11.lanewise(VectorOperators.MUL, one).intoArray(t, NR + L);
        c20.lanewise(VectorOperators.MUL, one).intoArray(t, 2 * NR);
        c21.lanewise(VectorOperators.MUL, one).intoArray(t, 2 * NR + L);
        c30.lanewise(VectorOperators.MUL, one).intoArray(t, 3 * NR);
        c31.lanewise(VectorOperators.MUL, one).intoArray(t, 3 * NR + L);
        c40.lanewise(VectorOperators.MUL, one).intoArray(t, 4 * NR);
        c41.lanewise(VectorOperators.MUL, one).intoArray(t, 4 * NR + L);
        c50.lanewise(VectorOperators.MUL, one).intoArray(t, 5 * NR);
        c51.lanewise(VectorOperators.MUL, one).intoArray(t, 5 * NR + L);
    }

    /**
     * The 4 x 2L register tile for 256-bit vectors: eight accumulators, two B vectors and one
     * broadcast stay within the 16 AVX2 registers (the 6-row tile spills there and ran at half the
     * speed: 44 against 88 GFLOP/s on one core, {@code -XX:UseAVX=2}).
     */
    private static void microKernel4(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] t) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector one = FloatVector.broadcast(F, 1f);  // the tile leaves times one (see the README, "Reading C2's machine code")
        int ao = aOff;
        int bo = bOff;
        for (int kk = 0; kk < kc; kk++, ao += 4, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + L);
            FloatVector x = FloatVector.broadcast(F, pa[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        c00.lanewise(VectorOperators.MUL, one).intoArray(t, 0);
        c01.lanewise(VectorOperators.MUL, one).intoArray(t, L);
        c10.lanewise(VectorOperators.MUL, one).intoArray(t, NR);
        c11.lanewise(VectorOperators.MUL, one).intoArray(t, NR + L);
        c20.lanewise(VectorOperators.MUL, one).intoArray(t, 2 * NR);
        c21.lanewise(VectorOperators.MUL, one).intoArray(t, 2 * NR + L);
        c30.lanewise(VectorOperators.MUL, one).intoArray(t, 3 * NR);
        c31.lanewise(VectorOperators.MUL, one).intoArray(t, 3 * NR + L);
    }

    /** Writes (or, after the first slab, adds) the valid mr x nr part of tile t to C at (row, col). */
    private void storeTile(float[] t, int row, int col, int mr, int nr, boolean first) {
        MemorySegment out = c;
        if (mr == MR && nr == NR) {
            for (int r = 0; r < MR; r++) {
                long off = cOff + 4L * ((row + r) * ldc + col);
                FloatVector v0 = FloatVector.fromArray(F, t, r * NR);
                FloatVector v1 = FloatVector.fromArray(F, t, r * NR + L);
                if (!first) {
                    v0 = v0.add(FloatVector.fromMemorySegment(F, out, off, LE));
                    v1 = v1.add(FloatVector.fromMemorySegment(F, out, off + 4L * L, LE));
                }
                v0.intoMemorySegment(out, off, LE);
                v1.intoMemorySegment(out, off + 4L * L, LE);
            }
            return;
        }
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                long off = cOff + 4L * ((row + r) * ldc + col + j);
                float v = t[r * NR + j];
                if (!first) {
                    v += out.get(FL, off);
                }
                out.set(FL, off, v);
            }
        }
    }
}
