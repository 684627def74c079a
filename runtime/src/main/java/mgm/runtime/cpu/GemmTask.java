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
 * (Goto / BLIS): for each KC-deep slab, a KC x NC block of B is converted to F32 and packed into
 * NR-wide column panels (L2-resident), an MC x KC block of A into MR-tall row panels, and a
 * register-blocked MR x NR micro-kernel (4 rows x 2 vectors = 8 accumulators) streams both panels.
 * Weights in F16 / BF16 / Q8_0 / Q4_0 are dequantised while packing, so the micro-kernel is F32 only.
 *
 * <p>Parallel work items are (NC column block, M row group) pairs; each worker packs into its own
 * preallocated buffers and writes a disjoint tile of C, so no locking is needed.
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
    static final int MR = 4;
    static final int NR = 2 * L;
    static final int KC = 256;
    static final int MC = 16 * MR;
    static final int NC_MAX = 512 / NR * NR;
    /** Column blocks per thread a call aims for (dynamic balance on a shared machine). */
    static final int CHUNKS_PER_THREAD = 8;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private final float[][] packA;
    private final float[][] packB;
    private final float[][] tile;
    private final float[][] dequant;

    // the current call
    private MemorySegment a;
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

    GemmTask(int threads) {
        packA = new float[threads][MC * KC];
        packB = new float[threads][KC * NC_MAX];
        tile = new float[threads][MR * NR];
        dequant = new float[threads][KC];
    }

    /**
     * Sets up a call; returns the number of chunks to run. a: F32 rows of length k at float stride
     * lda; b: n rows of k elements of bType, row pitch ldbBytes; c: F32 rows at float stride ldc.
     */
    int set(MemorySegment a, long lda, MemorySegment b, DType bType, long ldbBytes, MemorySegment bias,
            MemorySegment c, long ldc, int m, int n, int k, int threads) {
        this.a = a;
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
        return colBlocks * rowGroups;
    }

    /**
     * Splits C into colBlocks x rowGroups chunks. Many chunks (about {@link #CHUNKS_PER_THREAD} per
     * thread): a thread that the OS deschedules holds up one small chunk instead of a share of the
     * matmul. Among the splits into that many chunks, the one with the least packing: each chunk
     * packs its rows of A once per slab (cost ~ 1 / its column count per FLOP) and its columns of B
     * once per slab (~ 1 / its row count), so chunks as square as the shape allows; a split into
     * narrow column blocks over all 577 rows (CLIP) or 4096 rows x 192 columns (ConvNeXt) packed A
     * up to 16 times and ran at a quarter of the GEMM's speed.
     */
    private void chooseTiles(int threads) {
        int panels = (n + NR - 1) / NR;
        int mPanels = (m + MR - 1) / MR;
        int want = Math.max(1, CHUNKS_PER_THREAD * threads);
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

    void release() {
        a = null;
        b = null;
        bias = null;
        c = null;
    }

    @Override
    public void run(int chunk, int worker) {
        int jb = chunk % colBlocks;
        int g = chunk / colBlocks;
        int jc = jb * nc;
        int ncb = Math.min(nc, n - jc);
        int m0 = g * groupRows;
        int m1 = Math.min(m, m0 + groupRows);
        float[] pb = packB[worker];
        float[] pa = packA[worker];
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            packB(pb, jc, ncb, pc, kc, worker);
            for (int ic = m0; ic < m1; ic += MC) {
                int mc = Math.min(MC, m1 - ic);
                packA(pa, ic, mc, pc, kc, dequant[worker]);
                macroKernel(pa, pb, ic, mc, jc, ncb, kc, pc == 0, worker);
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
            long rowOff = 4L * ((long) row * ldc + jc);
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

    private void packA(float[] pa, int ic, int mc, int pc, int kc, float[] row) {
        MemorySegment seg = a;
        for (int ir = 0; ir < mc; ir += MR) {
            int base = (ir / MR) * kc * MR;
            for (int r = 0; r < MR; r++) {
                if (ir + r < mc) {
                    // bulk copy, then an array-to-array scatter (no per-element segment checks)
                    MemorySegment.copy(seg, FL, 4L * ((ic + ir + r) * lda + pc), row, 0, kc);
                    for (int kk = 0; kk < kc; kk++) {
                        pa[base + kk * MR + r] = row[kk];
                    }
                } else {
                    for (int kk = 0; kk < kc; kk++) {
                        pa[base + kk * MR + r] = 0f;
                    }
                }
            }
        }
    }

    private void packB(float[] pb, int jc, int ncb, int pc, int kc, int worker) {
        float[] row = dequant[worker];
        for (int j = 0; j < ncb + (NR - ncb % NR) % NR; j++) {
            int panel = j / NR;
            int base = panel * kc * NR + (j % NR);
            if (j >= ncb) {
                for (int kk = 0; kk < kc; kk++) {
                    pb[base + kk * NR] = 0f;
                }
                continue;
            }
            long rowOff = (jc + j) * ldbBytes;
            readRow(rowOff, pc, kc, row);
            for (int kk = 0; kk < kc; kk++) {
                pb[base + kk * NR] = row[kk];
            }
        }
    }

    /** Elements [pc, pc + kc) of weight row at byte rowOff, converted to F32. pc and kc are multiples of 32 for block types. */
    private void readRow(long rowOff, int pc, int kc, float[] dst) {
        MemorySegment seg = b;
        switch (bType) {
            case F32 -> MemorySegment.copy(seg, FL, rowOff + 4L * pc, dst, 0, kc);
            case BF16 -> {
                long o = rowOff + 2L * pc;
                int kk = 0;
                for (; kk + L <= kc; kk += L) {
                    ((IntVector) ShortVector.fromMemorySegment(S_HALF, seg, o + 2L * kk, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, kk);
                }
                for (; kk < kc; kk++) {
                    dst[kk] = Float.intBitsToFloat((seg.get(SH, o + 2L * kk) & 0xFFFF) << 16);
                }
            }
            case F16 -> {
                long o = rowOff + 2L * pc;
                for (int kk = 0; kk < kc; kk++) {
                    dst[kk] = Float.float16ToFloat(seg.get(SH, o + 2L * kk));
                }
            }
            case Q8_0 -> dequantQ8(seg, rowOff + (long) pc / 32 * 34, kc / 32, dst);
            case Q4_0 -> dequantQ4(seg, rowOff + (long) pc / 32 * 18, kc / 32, dst);
            default -> throw new IllegalStateException("matmul: weight dtype " + bType);
        }
    }

    /**
     * Q8_0 blocks to F32 in registers: {@code d * q} per element, the same float product as
     * {@link mgm.runtime.Quant#dequantize} (bit-identical), 8 elements per step.
     */
    private static void dequantQ8(MemorySegment seg, long at, int blocks, float[] dst) {
        for (int b = 0; b < blocks; b++) {
            long o = at + 34L * b;
            FloatVector d = FloatVector.broadcast(F8, Float.float16ToFloat(seg.get(SH, o)));
            int base = 32 * b;
            for (int j = 0; j < 32; j += 8) {
                ((FloatVector) ByteVector.fromMemorySegment(B8, seg, o + 2 + j, LE).convertShape(VectorOperators.B2F, F8, 0))
                        .mul(d).intoArray(dst, base + j);
            }
        }
    }

    /** Q4_0 blocks to F32 in registers: {@code d * (nibble - 8)}, bit-identical to the scalar dequantisation. */
    private static void dequantQ4(MemorySegment seg, long at, int blocks, float[] dst) {
        for (int b = 0; b < blocks; b++) {
            long o = at + 18L * b;
            FloatVector d = FloatVector.broadcast(F8, Float.float16ToFloat(seg.get(SH, o)));
            int base = 32 * b;
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

    private void macroKernel(float[] pa, float[] pb, int ic, int mc, int jc, int ncb, int kc, boolean first, int worker) {
        for (int jr = 0; jr < ncb; jr += NR) {
            int nr = Math.min(NR, ncb - jr);
            int bOff = (jr / NR) * kc * NR;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int aOff = (ir / MR) * kc * MR;
                if (mr == MR && nr == NR) {
                    microKernel(pa, aOff, pb, bOff, kc, ic + ir, jc + jr, first);
                } else {
                    partialTile(pa, aOff, pb, bOff, kc, ic + ir, jc + jr, mr, nr, first, tile[worker]);
                }
            }
        }
    }

    /**
     * The MR x 2L register tile (MR = 4: eight accumulators, two B vectors and one broadcast stay
     * within the 16 AVX2 registers; a 6-row tile made C2 box accumulators inside the loop).
     */
    private void microKernel(float[] pa, int aOff, float[] pb, int bOff, int kc, int row, int col, boolean first) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
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
        }
        store(row, col, c00, c01, first);
        store(row + 1, col, c10, c11, first);
        store(row + 2, col, c20, c21, first);
        store(row + 3, col, c30, c31, first);
    }

    private void store(int row, int col, FloatVector v0, FloatVector v1, boolean first) {
        MemorySegment out = c;
        long off = 4L * (row * ldc + col);
        if (!first) {
            v0 = v0.add(FloatVector.fromMemorySegment(F, out, off, LE));
            v1 = v1.add(FloatVector.fromMemorySegment(F, out, off + 4L * L, LE));
        }
        v0.intoMemorySegment(out, off, LE);
        v1.intoMemorySegment(out, off + 4L * L, LE);
    }

    /** Edge tiles: the same products, accumulated in scalar order into a small buffer, then the valid part written. */
    private void partialTile(float[] pa, int aOff, float[] pb, int bOff, int kc, int row, int col, int mr, int nr,
                             boolean first, float[] t) {
        java.util.Arrays.fill(t, 0f);
        for (int kk = 0; kk < kc; kk++) {
            int ao = aOff + kk * MR;
            int bo = bOff + kk * NR;
            for (int r = 0; r < mr; r++) {
                float x = pa[ao + r];
                for (int j = 0; j < nr; j++) {
                    t[r * NR + j] = Math.fma(x, pb[bo + j], t[r * NR + j]);
                }
            }
        }
        MemorySegment out = c;
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                long off = 4L * ((row + r) * ldc + col + j);
                float v = t[r * NR + j];
                if (!first) {
                    v += out.get(FL, off);
                }
                out.set(FL, off, v);
            }
        }
    }
}
