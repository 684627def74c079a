package mgm.loaders.image;

import java.awt.image.Raster;

/**
 * WebP (lossless VP8L, lossy VP8, extended VP8X with alpha) through the TwelveMonkeys plugin; alpha
 * is dropped, as PIL's {@code convert('RGB')} does. Lossless files decode exactly as libwebp (PIL)
 * does. Lossy files do not: the plugin's VP8 decoder upsamples chroma without libwebp's "fancy"
 * filter and uses its own YUV → RGB rounding, so pixels differ from PIL's by a few levels (up to
 * ~25 on a photo; see the decoding tests for the measured bound). Animations give their first
 * frame, when it covers the canvas.
 */
final class WebpFile {
    private WebpFile() {}

    record Header(long width, long height) {}

    static Header parse(byte[] data, String source) throws ImageException {
        HeaderBytes b = new HeaderBytes(data, source, "WebP");
        long riffEnd = b.u32le(4) + 8;
        if (riffEnd > data.length) {
            // libwebp (PIL) refuses partial files; the Java decoder would fill the missing part.
            throw new ImageException(source, "the WebP data is truncated (the RIFF header declares " + riffEnd
                    + " bytes, the file has " + data.length + ")");
        }
        checkChunks(b, riffEnd);
        long chunk = 12;
        if (b.matches(chunk, "VP8X")) {
            int flags = b.u8(chunk + 8);
            long width = b.u24le(chunk + 12) + 1L;
            long height = b.u24le(chunk + 15) + 1L;
            if ((flags & 0x02) != 0) {
                return animated(b, width, height);
            }
            return new Header(width, height);
        }
        if (b.matches(chunk, "VP8 ")) {
            long p = chunk + 8;
            if (b.u8(p + 3) != 0x9D || b.u8(p + 4) != 0x01 || b.u8(p + 5) != 0x2A) {
                throw b.error("VP8 frame without the key-frame start code");
            }
            return new Header(b.u16le(p + 6) & 0x3FFF, b.u16le(p + 8) & 0x3FFF);
        }
        if (b.matches(chunk, "VP8L")) {
            long p = chunk + 8;
            if (b.u8(p) != 0x2F) {
                throw b.error("VP8L chunk without its signature byte");
            }
            long bits = b.u32le(p + 1);
            return new Header((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
        }
        throw b.error("no VP8, VP8L or VP8X chunk after the RIFF header");
    }

    /**
     * An animation: PIL shows its first frame drawn on a cleared canvas. We read that frame when it
     * covers the whole canvas (then the two agree) and refuse other layouts.
     */
    private static Header animated(HeaderBytes b, long width, long height) throws ImageException {
        long pos = 12;
        while (b.has(pos, 8)) {
            long size = b.u32le(pos + 4);
            if (b.matches(pos, "ANMF")) {
                long x = 2L * b.u24le(pos + 8);
                long y = 2L * b.u24le(pos + 11);
                long w = b.u24le(pos + 14) + 1L;
                long h = b.u24le(pos + 17) + 1L;
                if (x != 0 || y != 0 || w != width || h != height) {
                    throw b.error("animated WebP whose first frame (" + w + "x" + h + " at " + x + "," + y
                            + ") does not cover the " + width + "x" + height + " canvas is not supported");
                }
                return new Header(width, height);
            }
            pos += 8 + size + (size & 1);
        }
        throw b.error("animated WebP without frames");
    }

    /** Every chunk must fit inside the RIFF data. */
    private static void checkChunks(HeaderBytes b, long riffEnd) throws ImageException {
        long pos = 12;
        while (pos + 8 <= riffEnd) {
            long size = b.u32le(pos + 4);
            if (pos + 8 + size > riffEnd) {
                throw new ImageException(b.source(), "the WebP data is truncated (chunk " + fourcc(b, pos) + " of " + size
                        + " bytes runs past the end of the data)");
            }
            pos += 8 + size + (size & 1);
        }
    }

    private static String fourcc(HeaderBytes b, long pos) throws ImageException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int c = b.u8(pos + i);
            sb.append(c >= 32 && c < 127 ? (char) c : '?');
        }
        return "'" + sb + "'";
    }

    static RgbImage decode(byte[] data, String source, Header h) throws ImageException {
        Raster raster = ImageIoSupport.decode(data, source, ImageFormat.WEBP, false, null).raster();
        RasterChecks.requireSize(raster, h.width(), h.height(), source);
        if (raster.getNumBands() < 3) {
            throw new ImageException(source, "the decoder returned " + raster.getNumBands() + " channels for a WebP image");
        }
        int w = raster.getWidth();
        int height = raster.getHeight();
        int bands = raster.getNumBands();
        byte[] out = new byte[w * height * 3];
        int[] row = new int[w * bands];
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++, o += 3) {
                out[o] = (byte) row[x * bands];
                out[o + 1] = (byte) row[x * bands + 1];
                out[o + 2] = (byte) row[x * bands + 2];
            }
        }
        return new RgbImage(w, height, out);
    }
}
