package mgm.loaders.image;

import java.awt.image.Raster;
import java.util.zip.CRC32;

/**
 * PNG: header parsing and the conversion PIL 9.4 applies. PIL opens 16-bit greyscale as mode "I"
 * and {@code convert('RGB')} clips it to 0..255 (so most 16-bit grey pictures come out white);
 * every other 16-bit PNG keeps the high byte; 1/2/4-bit grey is scaled to 0..255; palette indices
 * beyond the PLTE entries map to grey (k, k, k), as Pillow's palettes start as a grey ramp; alpha
 * and transparency are dropped without compositing. Gamma and ICC chunks are ignored, as PIL does;
 * the CRCs of the chunks before the image data are checked, as PIL checks them.
 */
final class PngFile {
    private PngFile() {}

    /** IHDR fields and the PLTE colours (null without PLTE). */
    record Header(long width, long height, int bitDepth, int colorType, byte[] palette) {}

    static Header parse(byte[] data, String source) throws ImageException {
        HeaderBytes b = new HeaderBytes(data, source, "PNG");
        if (b.u32be(8) != 13 || !b.matches(12, "IHDR")) {
            throw b.error("the first chunk is not a 13-byte IHDR");
        }
        long width = b.u32be(16);
        long height = b.u32be(20);
        int bitDepth = b.u8(24);
        int colorType = b.u8(25);
        if (width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw b.error("IHDR declares a size of " + width + "x" + height + ", beyond the PNG limit of 2^31-1");
        }
        if (!validDepth(colorType, bitDepth)) {
            throw b.error("colour type " + colorType + " with bit depth " + bitDepth + " is not a valid combination");
        }
        if (b.u8(26) != 0 || b.u8(27) != 0 || b.u8(28) > 1) {
            throw b.error("unknown compression, filter or interlace method in IHDR");
        }
        checkHeaderChunks(b);
        return new Header(width, height, bitDepth, colorType, colorType == 3 ? findPalette(b) : null);
    }

    /** Like PIL, verify the CRC of every chunk before the image data. */
    private static void checkHeaderChunks(HeaderBytes b) throws ImageException {
        long pos = 8;
        while (true) {
            long length = b.u32be(pos);
            if (b.matches(pos + 4, "IDAT") || b.matches(pos + 4, "IEND")) {
                return;
            }
            if (length > Integer.MAX_VALUE || !b.has(pos + 4, length + 8)) {
                throw b.error("the chunk at byte " + pos + " runs past the end of the file");
            }
            CRC32 crc = new CRC32();
            crc.update(b.slice(pos + 4, (int) length + 4));
            if (crc.getValue() != b.u32be(pos + 8 + length)) {
                throw b.error("bad CRC in the " + chunkName(b, pos + 4) + " chunk");
            }
            pos += 12 + length;
        }
    }

    private static String chunkName(HeaderBytes b, long pos) throws ImageException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int c = b.u8(pos + i);
            sb.append(c >= 32 && c < 127 ? (char) c : '?');
        }
        return sb.toString();
    }

    private static boolean validDepth(int colorType, int bitDepth) {
        return switch (colorType) {
            case 0 -> bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8 || bitDepth == 16;
            case 3 -> bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8;
            case 2, 4, 6 -> bitDepth == 8 || bitDepth == 16;
            default -> false;
        };
    }

    /** The PLTE chunk's bytes (RGB triples), read by walking the chunks before the first IDAT. */
    private static byte[] findPalette(HeaderBytes b) throws ImageException {
        long pos = 8;
        while (b.has(pos, 8)) {
            long length = b.u32be(pos);
            if (b.matches(pos + 4, "PLTE")) {
                if (length % 3 != 0 || length == 0 || length > 768) {
                    throw b.error("PLTE chunk of " + length + " bytes is not 1..256 RGB entries");
                }
                return b.slice(pos + 8, (int) length);
            }
            if (b.matches(pos + 4, "IDAT") || b.matches(pos + 4, "IEND")) {
                break;
            }
            pos += 12 + length;
        }
        throw b.error("palette image without a PLTE chunk");
    }

    static RgbImage decode(byte[] data, String source, Header h) throws ImageException {
        Raster raster = ImageIoSupport.decode(data, source, ImageFormat.PNG, false, null).raster();
        RasterChecks.requireSize(raster, h.width(), h.height(), source);
        int w = raster.getWidth();
        int height = raster.getHeight();
        byte[] out = new byte[w * height * 3];
        int bands = raster.getNumBands();
        // Low-bit grey comes back as raw levels, or already scaled to 8 bits when the JDK reader
        // expanded a tRNS chunk into an alpha band.
        int greyBits = h.bitDepth() < 8 && raster.getSampleModel().getSampleSize(0) == 8 ? 8 : h.bitDepth();
        int[] row = new int[w * bands];
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++, o += 3) {
                int s = x * bands;
                switch (h.colorType()) {
                    case 3 -> paletteColour(h.palette(), row[s], out, o);
                    case 0, 4 -> grey(greyLevel(row[s], greyBits, h.colorType()), out, o);
                    default -> {
                        out[o] = (byte) highByte(row[s], h.bitDepth());
                        out[o + 1] = (byte) highByte(row[s + 1], h.bitDepth());
                        out[o + 2] = (byte) highByte(row[s + 2], h.bitDepth());
                    }
                }
            }
        }
        return new RgbImage(w, height, out);
    }

    /** The 8-bit grey PIL shows for a grey sample as the JDK reader returns it. */
    private static int greyLevel(int sample, int bitDepth, int colorType) {
        if (bitDepth == 16) {
            // PIL: plain grey opens as mode "I" and convert('RGB') clips; grey+alpha keeps the high byte.
            return colorType == 0 ? Math.min(sample, 255) : sample >> 8;
        }
        if (bitDepth < 8) {
            return sample * (255 / ((1 << bitDepth) - 1));
        }
        return sample;
    }

    private static int highByte(int sample, int bitDepth) {
        return bitDepth == 16 ? sample >> 8 : sample;
    }

    static void grey(int v, byte[] out, int o) {
        out[o] = out[o + 1] = out[o + 2] = (byte) v;
    }

    /** Palette entry {@code index}; indices past the palette are (k, k, k) as in Pillow. */
    static void paletteColour(byte[] palette, int index, byte[] out, int o) {
        if (palette != null && index * 3 + 2 < palette.length) {
            out[o] = palette[index * 3];
            out[o + 1] = palette[index * 3 + 1];
            out[o + 2] = palette[index * 3 + 2];
        } else {
            grey(index, out, o);
        }
    }
}
