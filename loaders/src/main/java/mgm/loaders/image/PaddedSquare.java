package mgm.loaders.image;

/**
 * MGM's {@code expand2square(img, background)} (mgm/mm_utils.py) as rows computed on demand: the
 * image pasted into a square of side max(W, H) filled with {@code background}, at
 * {@code (0, (W - H) // 2)} when landscape and {@code ((H - W) // 2, 0)} when portrait. The resize
 * reads it row by row, so a wide panorama never needs its full padded square in memory.
 */
final class PaddedSquare implements PillowResize.RowSource {
    private final RgbImage image;
    private final int side;
    private final int left;
    private final int top;
    private final byte[] background;

    PaddedSquare(RgbImage image, int[] background) {
        this.image = image;
        this.side = Math.max(image.width(), image.height());
        this.left = (side - image.width()) / 2;
        this.top = (side - image.height()) / 2;
        this.background = new byte[] {(byte) background[0], (byte) background[1], (byte) background[2]};
    }

    @Override
    public int width() {
        return side;
    }

    @Override
    public int height() {
        return side;
    }

    @Override
    public void row(int y, byte[] dst) {
        int imageY = y - top;
        boolean inside = imageY >= 0 && imageY < image.height();
        for (int x = 0; x < side; x++) {
            if (inside && x == left) {
                System.arraycopy(image.data(), imageY * image.width() * 3, dst, x * 3, image.width() * 3);
                x += image.width() - 1;
                continue;
            }
            dst[x * 3] = background[0];
            dst[x * 3 + 1] = background[1];
            dst[x * 3 + 2] = background[2];
        }
    }

    /** The whole padded square in memory. */
    RgbImage materialize() {
        byte[] out = new byte[side * side * 3];
        byte[] row = new byte[side * 3];
        for (int y = 0; y < side; y++) {
            row(y, row);
            System.arraycopy(row, 0, out, y * row.length, row.length);
        }
        return new RgbImage(side, side, out);
    }
}
