package mgm.loaders.image;

import java.util.Arrays;

/**
 * An 8-bit RGB image, pixels interleaved row by row ({@code R G B R G B ...}, top row first): what
 * PIL's {@code Image.open(f).convert('RGB')} holds. Immutable.
 */
public final class RgbImage {
    private final int width;
    private final int height;
    private final byte[] rgb;

    /** Takes ownership of {@code rgb}, which must hold exactly {@code width * height * 3} bytes. */
    RgbImage(int width, int height, byte[] rgb) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("image size must be at least 1x1, got " + width + "x" + height);
        }
        if ((long) width * height * 3 != rgb.length) {
            throw new IllegalArgumentException(rgb.length + " bytes do not hold a " + width + "x" + height + " RGB image");
        }
        this.width = width;
        this.height = height;
        this.rgb = rgb;
    }

    /** An image holding a copy of {@code rgb} (interleaved, {@code width * height * 3} bytes). */
    public static RgbImage of(int width, int height, byte[] rgb) {
        return new RgbImage(width, height, rgb.clone());
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        if (x < 0 || x >= width || y < 0 || y >= height || c < 0 || c > 2) {
            throw new IndexOutOfBoundsException("pixel (" + x + ", " + y + ") channel " + c + " outside " + width + "x" + height + " RGB");
        }
        return rgb[(y * width + x) * 3 + c] & 0xFF;
    }

    /** A copy of the interleaved pixels. */
    public byte[] toByteArray() {
        return rgb.clone();
    }

    /** The interleaved pixels themselves, for code in this package that only reads them. */
    byte[] data() {
        return rgb;
    }

    /** Same size and the same pixels. */
    public boolean samePixels(RgbImage other) {
        return width == other.width && height == other.height && Arrays.equals(rgb, other.rgb);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
