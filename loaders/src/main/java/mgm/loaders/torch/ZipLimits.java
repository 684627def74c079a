package mgm.loaders.torch;

/**
 * Bounds on what reading a zip may cost, against zip bombs and corrupt size fields. torch.save
 * stores entries uncompressed (mapped, no cost); compressed entries are inflated into memory.
 *
 * @param maxPickleBytes      largest {@code data.pkl} read onto the heap (real ones are a few MB)
 * @param maxInflatedBytes    total bytes all compressed entries of one file may inflate to
 * @param maxRatio            largest declared size / compressed size for entries above 1 MiB
 * @param maxEntries          most entries in the central directory
 */
public record ZipLimits(long maxPickleBytes, long maxInflatedBytes, long maxRatio, int maxEntries) {
    public static final ZipLimits DEFAULT = new ZipLimits(256L << 20, 4L << 30, 200, 1_000_000);

    public ZipLimits {
        if (maxPickleBytes <= 0 || maxPickleBytes > Integer.MAX_VALUE - 8 || maxInflatedBytes < 0 || maxRatio < 1
                || maxEntries < 1) {
            throw new IllegalArgumentException("zip limits out of range: pickle " + maxPickleBytes + ", inflated "
                    + maxInflatedBytes + ", ratio " + maxRatio + ", entries " + maxEntries);
        }
    }

    /** Entries at most this large may have any compression ratio (small zero-filled tensors do). */
    static final long RATIO_EXEMPT_BYTES = 1L << 20;
}
