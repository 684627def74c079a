package mgm.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The row-interleaved form of Q4_0 linear weights ({@link DType#Q4_0_R32}): the CPU backend's
 * matmul layout on machines with 512-bit vectors. The same scales and quants as the GGML blocks,
 * reordered so that one 32-byte load holds one quant byte of 32 rows (32 output features).
 *
 * <p>Why: with one row per vector every 32-element block costs widening shuffles, a scale
 * broadcast and scale FMAs for a few weights each, and a Q4_0 row ran at ~8 GB/s per core, half of
 * what the memory delivers. With 32 rows per vector a weight costs a mask, a conversion and an FMA
 * against a broadcast activation, and the scale work is shared by 32 rows
 * ({@code mgm.runtime.cpu.GemvKernels#groupsQ4}): ~13 GB/s per core, F32 arithmetic as before. The
 * prefill GEMM packs a group into its 32-wide panels with whole-vector stores.
 *
 * <p>Layout: rows form groups of 32, one after another, so a group occupies exactly the bytes its
 * 32 GGML rows did. Within a group, block after block (576 bytes each): the 32 fp16 scales (64
 * bytes), then 16 quant vectors of 32 bytes; vector j holds GGML quant byte j of the block (element
 * j in the low nibble, j + 16 in the high nibble) of every row. Row r of the group is at byte
 * position {@link #lane}(r) of the scale and quant vectors: rows 0-15 at even positions, rows 16-31
 * at the odd ones, so that a vector's 16-bit lanes read as 32-bit lanes hold row i in their low and
 * row i + 16 in their high half. A K-tiled weight {@code [T, N, K / T]} is interleaved tile by tile
 * (N is a multiple of 32, so no group spans two tiles).
 */
public final class InterleavedQ4 {
    private InterleavedQ4() {}

    /** Rows per group. */
    public static final int GROUP = 32;
    /** Bytes of one block of a group: 32 scales and 32 x 16 quant bytes. */
    public static final int BLOCK_BYTES = GROUP * 18;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Byte position of row {@code r} (0..31) of a group in its scale (as a 16-bit index) and quant vectors. */
    public static int lane(int r) {
        return r < 16 ? 2 * r : 2 * (r - 16) + 1;
    }

    /**
     * Whether {@link #interleave} applies: a live, contiguous Q4_0 host weight {@code [N, K]} (or
     * K-tiled {@code [T, N, K / T]}) with N a non-zero multiple of 32 and no Inf / NaN scale (the
     * kernels widen scales in registers by a route that is exact only for finite halves).
     */
    public static boolean canInterleave(Tensor w) {
        if (w.dtype() != DType.Q4_0 || (w.rank() != 2 && w.rank() != 3) || !w.isAlive() || !w.device().isHost()
                || !w.isContiguous() || w.dim(-2) == 0 || w.dim(-2) % GROUP != 0 || w.dim(-1) == 0) {
            return false;
        }
        MemorySegment seg = w.segment();
        long base = w.byteOffset();
        long blocks = w.numel() / 32;
        for (long b = 0; b < blocks; b++) {
            if ((seg.get(F16, base + 18 * b) & 0x7C00) == 0x7C00) {
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
                    + " is not a contiguous Q4_0 host weight with a multiple of 32 rows and finite scales");
        }
        Tensor out = Tensor.allocate(DType.Q4_0_R32, w.shape());
        interleaveGroups(w, out, 0, groups(w));
        return out;
    }

    /** Interleaves groups {@code [from, to)} of {@code w} into {@code out} (same shape, Q4_0_R32): lets a caller split the work across threads. */
    public static void interleaveGroups(Tensor w, Tensor out, long from, long to) {
        if (w.dtype() != DType.Q4_0 || out.dtype() != DType.Q4_0_R32 || !java.util.Arrays.equals(w.shape(), out.shape())
                || from < 0 || to > groups(w) || from > to) {
            throw new IllegalArgumentException("interleaveGroups: groups [" + from + ", " + to + ") of " + w.describe()
                    + " do not fit " + out.describe());
        }
        move(w.segment(), w.byteOffset(), out.segment(), out.byteOffset(), w.dim(-1) / 32, from, to, true);
    }

    /** A new host tensor (owned by the caller) with the GGML Q4_0 blocks of an interleaved weight, same shape. */
    public static Tensor deinterleave(Tensor t) {
        if (t.dtype() != DType.Q4_0_R32 || !t.isContiguous() || !t.device().isHost()) {
            throw new IllegalArgumentException("deinterleave: " + t.describe() + " is not a contiguous Q4_0_R32 host weight");
        }
        t.checkAlive("deinterleave");
        Tensor out = Tensor.allocate(DType.Q4_0, t.shape());
        move(out.segment(), out.byteOffset(), t.segment(), t.byteOffset(), t.dim(-1) / 32, 0, t.numel() / t.dim(-1) / GROUP, false);
        return out;
    }

    /**
     * Copies groups [from, to) between GGML rows and the interleaved layout, in the direction asked.
     * Each group goes through two heap arrays (bulk copies in and out, byte moves between arrays).
     */
    private static void move(MemorySegment ggml, long ggmlBase, MemorySegment inter, long interBase, long blocks, long from, long to,
                             boolean toInterleaved) {
        int groupBytes = Math.toIntExact(blocks * BLOCK_BYTES);
        byte[] src = new byte[groupBytes];
        byte[] dst = new byte[groupBytes];
        int rowBytes = (int) (blocks * 18);
        for (long g = from; g < to; g++) {
            long at = g * groupBytes;
            MemorySegment.copy(toInterleaved ? ggml : inter, ValueLayout.JAVA_BYTE, (toInterleaved ? ggmlBase : interBase) + at, src, 0, groupBytes);
            for (int b = 0; b < blocks; b++) {
                int block = b * BLOCK_BYTES;
                for (int r = 0; r < GROUP; r++) {
                    int row = r * rowBytes + b * 18;
                    int lane = lane(r);
                    if (toInterleaved) {
                        dst[block + 2 * lane] = src[row];
                        dst[block + 2 * lane + 1] = src[row + 1];
                        for (int j = 0; j < 16; j++) {
                            dst[block + 64 + 32 * j + lane] = src[row + 2 + j];
                        }
                    } else {
                        dst[row] = src[block + 2 * lane];
                        dst[row + 1] = src[block + 2 * lane + 1];
                        for (int j = 0; j < 16; j++) {
                            dst[row + 2 + j] = src[block + 64 + 32 * j + lane];
                        }
                    }
                }
            }
            MemorySegment.copy(dst, 0, toInterleaved ? inter : ggml, ValueLayout.JAVA_BYTE, (toInterleaved ? interBase : ggmlBase) + at, groupBytes);
        }
    }
}
