package mgm.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The row-interleaved forms of Q8_0 / Q4_0 linear weights ({@link DType#Q8_0_R32},
 * {@link DType#Q4_0_R32}): the CPU backend's matmul layout on machines with 512-bit vectors. The
 * same scales and quants as the GGML blocks, reordered so that one load holds one element (Q8_0)
 * or one quant byte (Q4_0) of 32 rows, i.e. 32 output features.
 *
 * <p>Why: with one row per vector every 32-element block costs widening shuffles, a scale
 * broadcast and scale FMAs for a few weights each, and a row ran compute-bound (Q4_0 ~8 GB/s, Q8_0
 * ~19 GB/s per core). With 32 rows per vector a weight costs a conversion and an FMA against a
 * broadcast activation (plus a mask for Q4_0), and the scale work is shared by 32 rows
 * ({@code mgm.runtime.cpu.GemvKernels#groupsQ4}, {@code #groupsQ8}), F32 arithmetic as before. The
 * prefill GEMM packs a group into its 32-wide panels with whole-vector stores.
 *
 * <p>Layout: rows form groups of 32, one after another, so a group occupies exactly the bytes its
 * 32 GGML rows did. Within a group, block after block: the 32 fp16 scales (64 bytes; row r at
 * 16-bit position {@link #q4Lane}(r): rows 0-15 at even positions, 16-31 at odd ones, so that the
 * scales read as 32-bit lanes hold row i in the low and row i + 16 in the high half), then the
 * quants of the block as 32-byte vectors with one byte per row:
 * <ul>
 *   <li>Q8_0_R32 (1088 bytes per block): 32 vectors, vector j holding element j of the block of
 *       every row, row r at byte r.</li>
 *   <li>Q4_0_R32 (576 bytes per block): 16 vectors, vector j holding GGML quant byte j (element j
 *       in the low nibble, j + 16 in the high) of every row, row r at byte {@link #q4Lane}(r), so
 *       that a vector widened to 16-bit lanes and read as 32-bit lanes holds row i in its low and
 *       row i + 16 in its high half.</li>
 * </ul>
 * A K-tiled weight {@code [T, N, K / T]} is interleaved tile by tile (N is a multiple of 32, so no
 * group spans two tiles).
 */
public final class InterleavedQuant {
    private InterleavedQuant() {}

    /** Rows per group. */
    public static final int GROUP = 32;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The interleaved form of Q8_0 / Q4_0. */
    public static DType interleaved(DType plain) {
        return switch (plain) {
            case Q8_0 -> DType.Q8_0_R32;
            case Q4_0 -> DType.Q4_0_R32;
            default -> throw new IllegalArgumentException(plain + " has no interleaved form (only Q8_0 and Q4_0 do)");
        };
    }

    /** The GGML form of an interleaved dtype. */
    public static DType plain(DType interleaved) {
        return switch (interleaved) {
            case Q8_0_R32 -> DType.Q8_0;
            case Q4_0_R32 -> DType.Q4_0;
            default -> throw new IllegalArgumentException(interleaved + " is not an interleaved dtype");
        };
    }

    /** True for Q8_0_R32 and Q4_0_R32. */
    public static boolean isInterleaved(DType t) {
        return t == DType.Q8_0_R32 || t == DType.Q4_0_R32;
    }

    /** Bytes of one block of a group (32 rows): 1088 for Q8_0, 576 for Q4_0 (either form). */
    public static int blockBytes(DType t) {
        return GROUP * t.blockBytes();
    }

    /** 16-bit position of row {@code r}'s (0..31) scale in a block of a group; for Q4_0_R32 also its byte position in the quant vectors. */
    public static int q4Lane(int r) {
        return r < 16 ? 2 * r : 2 * (r - 16) + 1;
    }

    /**
     * Whether {@link #interleave} applies: a live, contiguous Q8_0 / Q4_0 host weight {@code [N, K]}
     * (or K-tiled {@code [T, N, K / T]}) with N a non-zero multiple of 32 and no Inf / NaN scale
     * (the kernels widen scales in registers by a route that is exact only for finite halves).
     */
    public static boolean canInterleave(Tensor w) {
        DType t = w.dtype();
        if ((t != DType.Q4_0 && t != DType.Q8_0) || (w.rank() != 2 && w.rank() != 3) || !w.isAlive() || !w.device().isHost()
                || !w.isContiguous() || w.dim(-2) == 0 || w.dim(-2) % GROUP != 0 || w.dim(-1) == 0) {
            return false;
        }
        MemorySegment seg = w.segment();  // from the first element
        long blocks = w.numel() / 32;
        for (long b = 0; b < blocks; b++) {
            if ((seg.get(F16, (long) t.blockBytes() * b) & 0x7C00) == 0x7C00) {
                return false;
            }
        }
        return true;
    }

    /** Number of 32-row groups of a weight accepted by {@link #canInterleave}. */
    public static long groups(Tensor w) {
        return w.numel() / w.dim(-1) / GROUP;
    }

    /** A new host tensor (owned by the caller) holding {@code w} interleaved; {@code w} is left as it is. */
    public static Tensor interleave(Tensor w) {
        if (!canInterleave(w)) {
            throw new IllegalArgumentException("interleave: " + w.describe()
                    + " is not a contiguous Q8_0 / Q4_0 host weight with a multiple of 32 rows and finite scales");
        }
        Tensor out = Tensor.allocate(interleaved(w.dtype()), w.shape());
        interleaveGroups(w, out, 0, groups(w));
        return out;
    }

    /** Interleaves groups {@code [from, to)} of {@code w} into {@code out} (same shape, interleaved dtype): lets a caller split the work across threads. */
    public static void interleaveGroups(Tensor w, Tensor out, long from, long to) {
        if (!(w.dtype() == DType.Q8_0 || w.dtype() == DType.Q4_0) || out.dtype() != interleaved(w.dtype())
                || !java.util.Arrays.equals(w.shape(), out.shape()) || from < 0 || to > groups(w) || from > to) {
            throw new IllegalArgumentException("interleaveGroups: groups [" + from + ", " + to + ") of " + w.describe()
                    + " do not fit " + out.describe());
        }
        move(w.dtype(), w.segment(), out.segment(), w.dim(-1) / 32, from, to, true);
    }

    /** A new host tensor (owned by the caller) with the GGML blocks of an interleaved weight, same shape. */
    public static Tensor deinterleave(Tensor t) {
        if (!isInterleaved(t.dtype()) || !t.isContiguous() || !t.device().isHost()) {
            throw new IllegalArgumentException("deinterleave: " + t.describe() + " is not a contiguous interleaved (Q8_0_R32 / Q4_0_R32) host weight");
        }
        t.checkAlive("deinterleave");
        DType plain = plain(t.dtype());
        Tensor out = Tensor.allocate(plain, t.shape());
        move(plain, out.segment(), t.segment(), t.dim(-1) / 32, 0, t.numel() / t.dim(-1) / GROUP, false);
        return out;
    }

    /**
     * Copies groups [from, to) between GGML rows and the interleaved layout, in the direction asked.
     * Each group goes through two heap arrays (bulk copies in and out, byte moves between arrays).
     */
    private static void move(DType plain, MemorySegment ggml, MemorySegment inter, long blocks, long from, long to,
                             boolean toInterleaved) {
        int bb = plain.blockBytes();
        int quants = bb - 2;
        int groupBytes = Math.toIntExact(blocks * GROUP * bb);
        byte[] src = new byte[groupBytes];
        byte[] dst = new byte[groupBytes];
        int rowBytes = (int) (blocks * bb);
        boolean q4 = plain == DType.Q4_0;
        for (long g = from; g < to; g++) {
            long at = g * groupBytes;
            MemorySegment.copy(toInterleaved ? ggml : inter, ValueLayout.JAVA_BYTE, at, src, 0, groupBytes);
            for (int b = 0; b < blocks; b++) {
                int block = b * GROUP * bb;
                for (int r = 0; r < GROUP; r++) {
                    int row = r * rowBytes + b * bb;
                    int scale = q4Lane(r);
                    int lane = q4 ? scale : r;
                    if (toInterleaved) {
                        dst[block + 2 * scale] = src[row];
                        dst[block + 2 * scale + 1] = src[row + 1];
                        for (int j = 0; j < quants; j++) {
                            dst[block + 64 + 32 * j + lane] = src[row + 2 + j];
                        }
                    } else {
                        dst[row] = src[block + 2 * scale];
                        dst[row + 1] = src[block + 2 * scale + 1];
                        for (int j = 0; j < quants; j++) {
                            dst[row + 2 + j] = src[block + 64 + 32 * j + lane];
                        }
                    }
                }
            }
            MemorySegment.copy(dst, 0, toInterleaved ? inter : ggml, ValueLayout.JAVA_BYTE, at, groupBytes);
        }
    }
}
