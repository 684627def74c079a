package mgm.runtime;

import java.lang.foreign.MemorySegment;

/**
 * K-tiled linear weights: a weight {@code [N, K]} stored as {@code T} row-major matrices
 * {@code [N, K / T]} one after another, i.e. a contiguous tensor {@code [T, N, K / T]} whose tile
 * t holds columns {@code t·K/T .. (t+1)·K/T} of every row. The CPU backend's matmul layout for
 * long rows ({@code CpuBackend.prepareLinear}), any weight dtype.
 *
 * <p>Why: a decode matmul streams the weight once while it re-reads the activation row for every
 * weight row. Once that row outgrows about half of L1 (K above ~2816 F32 elements), it and the
 * weight stream evict each other and the matmul reads memory 10-35% slower (measured: BF16 and
 * Q8_0 with K = 5632, 2048 rows, 2 threads: 24.7 -> 33.0 and 17.6 -> 26.4 GB/s tiled in two;
 * BF16 4096 x 4096: 30.1 -> 33.0). A tile is a plain row-major matrix, so every matmul kernel
 * runs on it unchanged, with the activation row's slice for that tile; a strided walk over the
 * untiled rows instead (the same arithmetic) defeats the hardware prefetchers and is slower still.
 */
public final class TiledWeights {
    private TiledWeights() {}

    /** Longest tile (elements): the activation slice of a tile stays within ~11 KB of L1. */
    public static final int MAX_TILE = 2816;
    /**
     * Longest tile for float weights (F32 / F16 / BF16), whose flat streaming kernels want the
     * activation slice within 8 KB: K = 5632, 2048 rows, 2 threads from memory, tiles of 2816 vs
     * 1408 alternating in one JVM: BF16 24.0 -> 33.2 GB/s, F16 25.3 -> 34.2, F32 32.5 -> 35.0
     * (medians of 20). The interleaved Q8_0 / Q4_0 kernels read 3-9% slower with the shorter
     * tiles, so they keep {@link #MAX_TILE}; rows of 2048 (untiled) and 4096 (two tiles) read the
     * same either way. Applies to rows longer than {@link #MAX_TILE} (shorter ones stay whole); where
     * no tiling fits this bound, the float weight takes {@link #MAX_TILE}'s.
     */
    public static final int MAX_FLOAT_TILE = 2048;
    /** Tiles are whole multiples of this many elements (quant blocks, and no row tails for the vector kernels). */
    public static final int TILE_QUANTUM = 64;
    private static final int MAX_TILES = 16;

    /** The number of tiles a row of {@code k} elements is split into: 1 (untiled) when short or not evenly divisible. */
    public static int tilesFor(long k) {
        return tilesFor(k, MAX_TILE, TILE_QUANTUM);
    }

    /**
     * As {@link #tilesFor(long)} with another longest tile and quantum (a multiple of 32, the quant
     * block): the fewest equal tiles of at most {@code maxTile} elements, each a multiple of
     * {@code quantum}, up to 16; else 1.
     */
    public static int tilesFor(long k, int maxTile, int quantum) {
        if (k <= maxTile || quantum <= 0 || quantum % 32 != 0) {
            return 1;
        }
        for (int t = 2; t <= MAX_TILES; t++) {
            if (k % t == 0 && (k / t) % quantum == 0 && k / t <= maxTile) {
                return t;
            }
        }
        return 1;
    }

    /** True for the K-tiled form: a rank-3 weight {@code [T, N, K / T]}. */
    public static boolean isTiled(Tensor w) {
        return w.rank() == 3;
    }

    /** The plain shape {@code [N, K]} of a weight, tiled or not. */
    public static long[] plainShape(Tensor w) {
        return isTiled(w) ? new long[] {w.dim(1), w.dim(0) * w.dim(2)} : w.shape();
    }

    /** A new host tensor (owned by the caller): {@code w [N, K]} in {@code tiles} K tiles. */
    public static Tensor tile(Tensor w, int tiles) {
        if (w.rank() != 2 || !w.isContiguous() || !w.device().isHost() || tiles < 2 || w.dim(1) % tiles != 0
                || (w.dim(1) / tiles) % w.dtype().blockSize() != 0) {
            throw new IllegalArgumentException("tile: " + w.describe() + " cannot be split into " + tiles
                    + " K tiles (a contiguous 2-D host weight whose rows divide into whole blocks)");
        }
        w.checkAlive("tile");
        Tensor out = Tensor.allocate(w.dtype(), tiles, w.dim(0), w.dim(1) / tiles);
        tileRows(w, out, 0, w.dim(0));
        return out;
    }

    /**
     * Copies rows {@code [from, to)} of a plain weight into their places in {@code tiled} (made
     * with the shape {@code [T, N, K / T]}): lets a caller fill a tiled copy from several threads.
     */
    public static void tileRows(Tensor w, Tensor tiled, long from, long to) {
        if (!isTiled(tiled) || tiled.dim(1) != w.dim(0) || tiled.dim(0) * tiled.dim(2) != w.dim(1) || tiled.dtype() != w.dtype()
                || from < 0 || to > w.dim(0) || from > to) {
            throw new IllegalArgumentException("tileRows: rows [" + from + ", " + to + ") of " + w.describe() + " do not fit " + tiled.describe());
        }
        long tileRowBytes = w.dtype().byteSize(tiled.dim(2));
        move(w.segment(), tiled.segment(), w.dim(0), (int) tiled.dim(0), tileRowBytes, from, to, true);
    }

    /** A new host tensor (owned by the caller) with the plain {@code [N, K]} form of a tiled weight. */
    public static Tensor untile(Tensor t) {
        if (!isTiled(t) || !t.isContiguous() || !t.device().isHost()) {
            throw new IllegalArgumentException("untile: " + t.describe() + " is not a contiguous K-tiled host weight [T, N, K / T]");
        }
        t.checkAlive("untile");
        Tensor out = Tensor.allocate(t.dtype(), plainShape(t));
        move(out.segment(), t.segment(), t.dim(1), (int) t.dim(0), t.dtype().byteSize(t.dim(2)), 0, t.dim(1), false);
        return out;
    }

    /**
     * A new host tensor (owned by the caller): the plain {@code [N, K]} form, in a file dtype, of
     * any linear weight {@code Backend.prepareLinear} may return (K-tiled, Q8_0 / Q4_0 row-interleaved,
     * both, or neither: then a copy).
     */
    public static Tensor plainCopy(Tensor w) {
        w.checkAlive("plainCopy");
        if (InterleavedQuant.isInterleaved(w.dtype())) {
            Tensor ggml = InterleavedQuant.deinterleave(w);
            if (!isTiled(ggml)) {
                return ggml;
            }
            try (ggml) {
                return untile(ggml);
            }
        }
        if (isTiled(w)) {
            return untile(w);
        }
        Tensor copy = Tensor.allocate(w.dtype(), w.shape());
        MemorySegment.copy(w.segment(), 0, copy.segment(), 0, w.dtype().byteSize(w.numel()));  // segment() starts at the first element
        return copy;
    }

    /** Copies rows [from, to), tile-row by tile-row, between the plain rows and the tiles, in the direction asked. */
    private static void move(MemorySegment plain, MemorySegment tiled, long n, int tiles, long tileRowBytes, long from, long to,
                             boolean toTiled) {
        long rowBytes = tiles * tileRowBytes;
        for (int t = 0; t < tiles; t++) {
            for (long r = from; r < to; r++) {
                long p = r * rowBytes + t * tileRowBytes;
                long q = (t * n + r) * tileRowBytes;
                if (toTiled) {
                    MemorySegment.copy(plain, p, tiled, q, tileRowBytes);
                } else {
                    MemorySegment.copy(tiled, q, plain, p, tileRowBytes);
                }
            }
        }
    }
}
