package mgm.loaders.image;

import java.awt.image.Raster;

/**
 * GIF, first frame, as PIL 9.4 shows it: the canvas is the logical screen (grown to hold the
 * frame), filled with the frame's transparent index if it has one and index 0 otherwise; the
 * frame's indices are placed at its offset and mapped through its colour table (local, else
 * global; none: grey). Indices past the table are (k, k, k), as Pillow's palettes start as a grey
 * ramp. Transparency is not composited (PIL keeps mode "P"; convert('RGB') ignores it).
 */
final class GifFile {
    private GifFile() {}

    record Header(long width, long height, int frameX, int frameY, int frameWidth, int frameHeight,
                  byte[] palette, int fillIndex) {}

    static Header parse(byte[] data, String source) throws ImageException {
        HeaderBytes b = new HeaderBytes(data, source, "GIF");
        int screenW = b.u16le(6);
        int screenH = b.u16le(8);
        int flags = b.u8(10);
        long pos = 13;
        byte[] global = null;
        if ((flags & 0x80) != 0) {
            int size = 3 << ((flags & 7) + 1);
            global = b.slice(pos, size);
            pos += size;
        }
        int transparency = -1;
        while (true) {
            int tag = b.u8(pos++);
            if (tag == 0x3B) {
                throw b.error("the file holds no image");
            }
            if (tag == 0x21) {
                int label = b.u8(pos++);
                int first = b.u8(pos);
                if (label == 0xF9 && first >= 4 && (b.u8(pos + 1) & 1) != 0) {
                    transparency = b.u8(pos + 4);
                } else if (label == 0xF9) {
                    transparency = -1;
                }
                pos = skipSubBlocks(b, pos);
            } else if (tag == 0x2C) {
                int x0 = b.u16le(pos);
                int y0 = b.u16le(pos + 2);
                int fw = b.u16le(pos + 4);
                int fh = b.u16le(pos + 6);
                int imageFlags = b.u8(pos + 8);
                byte[] palette = global;
                if ((imageFlags & 0x80) != 0) {
                    palette = b.slice(pos + 9, 3 << ((imageFlags & 7) + 1));
                }
                long width = Math.max((long) x0 + fw, screenW);
                long height = Math.max((long) y0 + fh, screenH);
                return new Header(width, height, x0, y0, fw, fh, palette, Math.max(transparency, 0));
            }
            // PIL skips any other byte between blocks.
        }
    }

    private static long skipSubBlocks(HeaderBytes b, long pos) throws ImageException {
        int n;
        while ((n = b.u8(pos)) != 0) {
            pos += 1 + n;
        }
        return pos + 1;
    }

    static RgbImage decode(byte[] data, String source, Header h) throws ImageException {
        if (h.frameWidth() == 0 || h.frameHeight() == 0) {
            throw new ImageException(source, "the first GIF frame is " + h.frameWidth() + "x" + h.frameHeight() + " pixels");
        }
        Raster raster = ImageIoSupport.decode(data, source, ImageFormat.GIF, false, null).raster();
        RasterChecks.requireSize(raster, h.frameWidth(), h.frameHeight(), source);
        int w = (int) h.width();
        int height = (int) h.height();
        byte[] out = new byte[w * height * 3];
        byte[] fill = new byte[3];
        PngFile.paletteColour(h.palette(), h.fillIndex(), fill, 0);
        for (int i = 0; i < out.length; i += 3) {
            out[i] = fill[0];
            out[i + 1] = fill[1];
            out[i + 2] = fill[2];
        }
        int[] row = new int[h.frameWidth() * raster.getNumBands()];
        for (int y = 0; y < h.frameHeight(); y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, h.frameWidth(), 1, row);
            int o = ((h.frameY() + y) * w + h.frameX()) * 3;
            for (int x = 0; x < h.frameWidth(); x++, o += 3) {
                PngFile.paletteColour(h.palette(), row[x * raster.getNumBands()], out, o);
            }
        }
        return new RgbImage(w, height, out);
    }
}
