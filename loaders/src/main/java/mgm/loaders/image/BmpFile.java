package mgm.loaders.image;

import java.awt.image.Raster;

/**
 * BMP with the header checks and conversions of PIL 9.4's BmpImagePlugin: header sizes 12, 40,
 * 64, 108 and 124; 1/4/8-bit palette, 16-bit 5-5-5 or 5-6-5, 24- and 32-bit pixels; no, RLE8,
 * RLE4 or bit-field compression with the bit-field layouts PIL knows. n-bit channels become 8-bit
 * as {@code v * 255 / (2^n - 1)} (truncating, as Pillow's unpackers); palette indices past the
 * palette are (k, k, k); alpha is dropped.
 */
final class BmpFile {
    private BmpFile() {}

    record Header(long width, long height, int bits, int compression, byte[] palette) {}

    private static final long[][] MASKS_32 = {
        {0xFF0000, 0xFF00, 0xFF, 0x0}, {0xFF000000L, 0xFF0000, 0xFF00, 0x0}, {0xFF000000L, 0xFF0000, 0xFF00, 0xFF},
        {0xFF, 0xFF00, 0xFF0000, 0xFF000000L}, {0xFF0000, 0xFF00, 0xFF, 0xFF000000L},
    };
    private static final long[][] MASKS_24 = {{0xFF0000, 0xFF00, 0xFF}};
    private static final long[][] MASKS_16 = {{0xF800, 0x7E0, 0x1F}, {0x7C00, 0x3E0, 0x1F}};

    static Header parse(byte[] data, String source) throws ImageException {
        HeaderBytes b = new HeaderBytes(data, source, "BMP");
        long headerSize = b.u32le(14);
        long width;
        long height;
        int bits;
        int compression;
        long colors = 0;
        int paletteEntryBytes;
        if (headerSize == 12) {
            width = b.u16le(18);
            height = b.u16le(20);
            bits = b.u16le(24);
            compression = 0;
            paletteEntryBytes = 3;
        } else if (headerSize == 40 || headerSize == 64 || headerSize == 108 || headerSize == 124) {
            width = b.s32le(18);
            int h = b.s32le(22);
            height = Math.abs((long) h); // negative: rows stored top-down
            bits = b.u16le(28);
            long c = b.u32le(30);
            if (c > 5) {
                throw b.error("unsupported compression " + c + " (PIL reads none, RLE8, RLE4 and bit fields)");
            }
            compression = (int) c;
            colors = b.u32le(46);
            paletteEntryBytes = 4;
            if (compression == 4 || compression == 5) {
                throw b.error("embedded " + (compression == 4 ? "JPEG" : "PNG") + " data is not supported (as in PIL)");
            }
            if (compression == 3) {
                checkBitFields(b, bits, headerSize);
            }
        } else {
            throw b.error("unsupported header size " + headerSize + " (12, 40, 64, 108 or 124)");
        }
        if (width < 0) {
            throw b.error("negative width " + width);
        }
        if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
            throw b.error("unsupported pixel depth " + bits + " bits");
        }
        if ((compression == 1 && bits != 8) || (compression == 2 && bits != 4)) {
            throw b.error("RLE" + (compression == 1 ? 8 : 4) + " compression with " + bits + "-bit pixels");
        }
        byte[] palette = null;
        if (bits <= 8) {
            long entries = colors != 0 ? colors : 1L << bits;
            if (entries > 65536) {
                throw b.error("palette of " + entries + " colours");
            }
            palette = readPalette(b, 14 + headerSize, (int) entries, paletteEntryBytes);
        }
        return new Header(width, height, bits, compression, palette);
    }

    private static void checkBitFields(HeaderBytes b, int bits, long headerSize) throws ImageException {
        long r = b.u32le(54);
        long g = b.u32le(58);
        long bl = b.u32le(62);
        long a = headerSize >= 56 ? b.u32le(66) : 0;
        long[][] known = bits == 32 ? MASKS_32 : bits == 24 ? MASKS_24 : bits == 16 ? MASKS_16 : null;
        if (known != null) {
            for (long[] m : known) {
                if (m[0] == r && m[1] == g && m[2] == bl && (m.length == 3 || bits != 32 || m[3] == a)) {
                    return;
                }
            }
        }
        throw b.error(String.format("unsupported bit-field layout %08x/%08x/%08x/%08x for %d-bit pixels", r, g, bl, a, bits));
    }

    /** Palette as RGB triples (the file stores BGR or BGRX); entries past the file's end stay grey. */
    private static byte[] readPalette(HeaderBytes b, long at, int entries, int entryBytes) throws ImageException {
        byte[] rgb = new byte[entries * 3];
        for (int i = 0; i < entries; i++) {
            long p = at + (long) i * entryBytes;
            if (!b.has(p, 3)) {
                throw b.error("the palette of " + entries + " colours runs past the end of the file");
            }
            rgb[i * 3] = (byte) b.u8(p + 2);
            rgb[i * 3 + 1] = (byte) b.u8(p + 1);
            rgb[i * 3 + 2] = (byte) b.u8(p);
        }
        return rgb;
    }

    static RgbImage decode(byte[] data, String source, Header h) throws ImageException {
        Raster raster = ImageIoSupport.decode(data, source, ImageFormat.BMP, false, null).raster();
        RasterChecks.requireSize(raster, h.width(), h.height(), source);
        int w = raster.getWidth();
        int height = raster.getHeight();
        int bands = raster.getNumBands();
        boolean indexed = h.bits() <= 8;
        if (indexed ? bands != 1 : bands < 3) {
            throw new ImageException(source, "the decoder returned " + bands + " channels for " + h.bits() + "-bit BMP pixels");
        }
        int[] maxValue = new int[3];
        for (int c = 0; c < 3 && !indexed; c++) {
            maxValue[c] = (1 << raster.getSampleModel().getSampleSize(c)) - 1;
        }
        byte[] out = new byte[w * height * 3];
        int[] row = new int[w * bands];
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++, o += 3) {
                int s = x * bands;
                if (indexed) {
                    PngFile.paletteColour(h.palette(), row[s], out, o);
                } else {
                    for (int c = 0; c < 3; c++) {
                        out[o + c] = (byte) (maxValue[c] == 255 ? row[s + c] : row[s + c] * 255 / maxValue[c]);
                    }
                }
            }
        }
        return new RgbImage(w, height, out);
    }
}
