package mgm.loaders.image;

import java.awt.image.Raster;
import java.util.Locale;

/**
 * JPEG: the frame header and colour space as libjpeg decides it, then the stored samples (decoded
 * by ImageIO without any colour management) converted the way PIL 9.4 + libjpeg do: YCbCr with
 * libjpeg's integer tables, YCCK to CMYK, CMYK read with Adobe polarity ({@code CMYK;I}) and then
 * Pillow's {@code cmyk2rgb}. Embedded ICC profiles are ignored, as PIL ignores them (Java's own
 * decoders apply them, which moves pixels by up to ~55 levels on a photo with a profile).
 * Truncated files are refused, as PIL refuses them. Pixels are identical to PIL's for baseline and
 * progressive files with 4:4:4, 4:2:2, 4:2:0 and 4:4:0 chroma (see the decoding fixtures).
 */
final class JpegFile {
    private JpegFile() {}

    /** How libjpeg interprets the components (jdapimin.c default_decompress_parms). */
    enum ColorSpace { GRAY, YCBCR, RGB, CMYK, YCCK }

    /**
     * @param verticalFancy per component: chroma halved vertically only (4:4:0), which libjpeg-turbo
     *                      upsamples with its "fancy" triangle filter and Java's IJG 6b decoder by
     *                      repeating rows; we undo the repetition and apply libjpeg-turbo's filter
     */
    record Header(long width, long height, int components, ColorSpace colorSpace, boolean[] verticalFancy) {}

    static Header parse(byte[] data, String source) throws ImageException {
        HeaderBytes b = new HeaderBytes(data, source, "JPEG");
        boolean sawJfif = false;
        int adobeTransform = -1;
        long frameAt = -1;
        int frameMarker = 0;
        int frameSize = 0;
        long pos = 2;
        while (true) {
            if (b.u8(pos) != 0xFF) {
                throw b.error(String.format(Locale.ROOT, "expected a marker at byte %d, found 0x%02x", pos, b.u8(pos)));
            }
            while (b.u8(pos) == 0xFF) {
                pos++; // fill bytes
            }
            int marker = b.u8(pos++);
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
                continue; // markers without a length
            }
            if (marker == 0xD9 || marker == 0xDA) {
                // libjpeg decides the colour space from every marker before the scan, wherever the SOF is.
                if (frameAt < 0) {
                    throw b.error("no frame header (SOF) before " + (marker == 0xD9 ? "the end of the image" : "the scan data"));
                }
                return frame(b, frameMarker, frameAt, frameSize, sawJfif, adobeTransform);
            }
            int length = b.u16be(pos);
            if (length < 2) {
                throw b.error("marker 0x" + Integer.toHexString(marker) + " has a length of " + length);
            }
            long payload = pos + 2;
            int size = length - 2;
            if (marker == 0xE0 && size >= 14 && b.matches(payload, "JFIF\0")) {
                sawJfif = true;
            } else if (marker == 0xEE && size >= 12 && b.matches(payload, "Adobe")) {
                adobeTransform = b.u8(payload + 11);
            } else if (isFrameHeader(marker) && frameAt < 0) {
                frameAt = payload;
                frameMarker = marker;
                frameSize = size;
            }
            pos = payload + size;
        }
    }

    private static boolean isFrameHeader(int marker) {
        return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    }

    private static Header frame(HeaderBytes b, int marker, long p, int size, boolean sawJfif, int adobeTransform)
            throws ImageException {
        if (marker == 0xC3 || marker == 0xC7 || marker == 0xCB || marker == 0xCF) {
            throw b.error("lossless JPEG is not supported");
        }
        if (marker >= 0xC9) {
            throw b.error("arithmetic-coded JPEG is not supported");
        }
        if (marker >= 0xC5) {
            throw b.error("hierarchical JPEG is not supported");
        }
        int precision = b.u8(p);
        long height = b.u16be(p + 1);
        long width = b.u16be(p + 3);
        int components = b.u8(p + 5);
        if (precision != 8) {
            throw b.error(precision + "-bit samples are not supported (8-bit only, as in PIL)");
        }
        if (components != 1 && components != 3 && components != 4) {
            throw b.error(components + "-component images are not supported (1, 3 or 4, as in PIL)");
        }
        if (size < 6 + 3 * components) {
            throw b.error("the frame header is shorter than its " + components + " components");
        }
        int[] ids = new int[components];
        int[] h = new int[components];
        int[] v = new int[components];
        int maxH = 1;
        int maxV = 1;
        for (int i = 0; i < components; i++) {
            ids[i] = b.u8(p + 6 + 3L * i);
            h[i] = b.u8(p + 7 + 3L * i) >> 4;
            v[i] = b.u8(p + 7 + 3L * i) & 15;
            if (h[i] < 1 || h[i] > 4 || v[i] < 1 || v[i] > 4) {
                throw b.error("component " + i + " has sampling factors " + h[i] + "x" + v[i]);
            }
            maxH = Math.max(maxH, h[i]);
            maxV = Math.max(maxV, v[i]);
        }
        boolean[] verticalFancy = new boolean[components];
        for (int i = 0; i < components; i++) {
            verticalFancy[i] = h[i] == maxH && v[i] * 2 == maxV;
        }
        return new Header(width, height, components, colorSpace(components, ids, sawJfif, adobeTransform), verticalFancy);
    }

    /** libjpeg-turbo's guess of the colour space from the markers and component ids. */
    private static ColorSpace colorSpace(int components, int[] ids, boolean sawJfif, int adobeTransform) {
        if (components == 1) {
            return ColorSpace.GRAY;
        }
        if (components == 4) {
            return adobeTransform == 0 || adobeTransform < 0 ? ColorSpace.CMYK : ColorSpace.YCCK;
        }
        if (sawJfif) {
            return ColorSpace.YCBCR;
        }
        if (adobeTransform >= 0) {
            return adobeTransform == 0 ? ColorSpace.RGB : ColorSpace.YCBCR;
        }
        boolean rgbIds = ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B';
        return rgbIds ? ColorSpace.RGB : ColorSpace.YCBCR;
    }

    static RgbImage decode(byte[] data, String source, Header h) throws ImageException {
        ImageIoSupport.Decoded d = ImageIoSupport.decode(data, source, ImageFormat.JPEG, true, "com.twelvemonkeys.");
        for (String w : d.warnings()) {
            String lower = w.toLowerCase(Locale.ROOT);
            if (lower.contains("premature end") || lower.contains("truncated") || lower.contains("missing eoi")) {
                throw new ImageException(source, "the JPEG data is truncated (" + w.trim() + ")");
            }
        }
        Raster raster = d.raster();
        RasterChecks.requireSize(raster, h.width(), h.height(), source);
        RasterChecks.requireBands(raster, h.components(), "a " + h.components() + "-component JPEG", source);
        int w = raster.getWidth();
        int height = raster.getHeight();
        int n = h.components();
        byte[] out = new byte[w * height * 3];
        int[] row = new int[w * n];
        boolean anyFancy = false;
        for (boolean f : h.verticalFancy()) {
            anyFancy |= f;
        }
        int[] nearest = anyFancy ? new int[w * n] : null;
        int[] next = anyFancy ? new int[w * n] : null;
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            if (anyFancy) {
                verticalFancyUpsample(raster, y, h.verticalFancy(), row, nearest, next);
            }
            int o = y * w * 3;
            for (int x = 0; x < w; x++, o += 3) {
                int s = x * n;
                switch (h.colorSpace()) {
                    case GRAY -> PngFile.grey(row[s], out, o);
                    case RGB -> {
                        out[o] = (byte) row[s];
                        out[o + 1] = (byte) row[s + 1];
                        out[o + 2] = (byte) row[s + 2];
                    }
                    case YCBCR -> {
                        out[o] = (byte) PilColor.yccRed(row[s], row[s + 2]);
                        out[o + 1] = (byte) PilColor.yccGreen(row[s], row[s + 1], row[s + 2]);
                        out[o + 2] = (byte) PilColor.yccBlue(row[s], row[s + 1]);
                    }
                    case CMYK -> cmyk(255 - row[s], 255 - row[s + 1], 255 - row[s + 2], 255 - row[s + 3], out, o);
                    case YCCK -> {
                        // libjpeg turns YCCK into C = 255 - R(ycc) ...; PIL then inverts (CMYK;I), giving R(ycc).
                        int c = PilColor.yccRed(row[s], row[s + 2]);
                        int m = PilColor.yccGreen(row[s], row[s + 1], row[s + 2]);
                        int yy = PilColor.yccBlue(row[s], row[s + 1]);
                        cmyk(c, m, yy, 255 - row[s + 3], out, o);
                    }
                }
            }
        }
        return new RgbImage(w, height, out);
    }

    /**
     * libjpeg-turbo's {@code h1v2_fancy_upsample} for output row {@code y}: chroma row k = y / 2
     * (rows 2k and 2k+1 of Java's output repeat it) weighted 3:1 with the row above (even y,
     * rounding bias 1) or below (odd y, bias 2), the image's first and last chroma rows repeated at
     * the edges.
     */
    private static void verticalFancyUpsample(Raster raster, int y, boolean[] fancy, int[] row, int[] nearest, int[] next) {
        int w = raster.getWidth();
        int n = fancy.length;
        int k = y / 2;
        int lastChromaRow = (raster.getHeight() + 1) / 2 - 1;
        int other = (y & 1) == 0 ? Math.max(k - 1, 0) : Math.min(k + 1, lastChromaRow);
        int bias = (y & 1) == 0 ? 1 : 2;
        raster.getPixels(raster.getMinX(), raster.getMinY() + 2 * k, w, 1, nearest);
        raster.getPixels(raster.getMinX(), raster.getMinY() + 2 * other, w, 1, next);
        for (int c = 0; c < n; c++) {
            if (fancy[c]) {
                for (int x = 0; x < w; x++) {
                    row[x * n + c] = (3 * nearest[x * n + c] + next[x * n + c] + bias) >> 2;
                }
            }
        }
    }

    /** PIL's CMYK (already in PIL's polarity) to RGB. */
    private static void cmyk(int c, int m, int y, int k, byte[] out, int o) {
        out[o] = (byte) PilColor.cmykChannel(c, k);
        out[o + 1] = (byte) PilColor.cmykChannel(m, k);
        out[o + 2] = (byte) PilColor.cmykChannel(y, k);
    }
}
