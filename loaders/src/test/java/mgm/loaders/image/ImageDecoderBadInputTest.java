package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files that must be refused with one clear line naming the file and the problem. */
class ImageDecoderBadInputTest {
    private final ImageDecoder decoder = new ImageDecoder();

    /** Decoding {@code data} fails with an {@link ImageException} whose one-line message contains {@code expected}. */
    private ImageException refused(byte[] data, String name, String expected) {
        ImageException e = assertThrows(ImageException.class, () -> decoder.decode(data, name));
        assertTrue(e.getMessage().startsWith(name + ": "), "message names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should mention '" + expected + "'");
        return e;
    }

    @Test
    void notAnImage() {
        refused("hello, this is text and not a picture".getBytes(StandardCharsets.UTF_8), "notes.png",
                "not a supported image (PNG, JPEG, GIF, BMP or WebP); it starts with 68 65 6c 6c");
    }

    @Test
    void unsupportedFormats() {
        refused(new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0}, "scan.tiff", "not a supported image");
        refused(jpegWithFrame(0xC9, 8, 10, 10, 3), "arith.jpg", "arithmetic-coded JPEG is not supported");
        refused(jpegWithFrame(0xC3, 8, 10, 10, 3), "lossless.jpg", "lossless JPEG is not supported");
        refused(jpegWithFrame(0xC0, 12, 10, 10, 3), "deep.jpg", "12-bit samples are not supported");
        refused(jpegWithFrame(0xC0, 8, 10, 10, 2), "two.jpg", "2-component images are not supported");
        byte[] anim = TestResources.bytes("decode/webp_animated.webp");
        int anmf = indexOf(anim, "ANMF");
        anim[anmf + 8] = 1; // first frame moved 2 pixels right
        refused(anim, "anim.webp", "animated WebP whose first frame (29x21 at 2,0) does not cover the 29x21 canvas is not supported");
    }

    @Test
    void emptyFileDirectoryAndMissingFile(@TempDir Path dir) throws Exception {
        refused(new byte[0], "empty.png", "the file is empty");
        ImageException e = assertThrows(ImageException.class, () -> decoder.decode(dir));
        assertTrue(e.getMessage().endsWith("is a directory, not an image file"), e.getMessage());
        Path missing = dir.resolve("missing.jpg");
        e = assertThrows(ImageException.class, () -> decoder.decode(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        Path empty = Files.write(dir.resolve("empty.jpg"), new byte[0]);
        e = assertThrows(ImageException.class, () -> decoder.decode(empty));
        assertEquals(empty + ": the file is empty", e.getMessage());
    }

    @Test
    void truncatedPng() {
        byte[] png = TestResources.bytes("photos/chelsea.png");
        refused(Arrays.copyOf(png, png.length / 2), "half.png", "cannot decode PNG");
        refused(Arrays.copyOf(png, 20), "header.png", "the header is truncated");
        refused(Arrays.copyOf(png, 8), "signature.png", "the header is truncated");
    }

    @Test
    void truncatedJpeg() {
        byte[] jpg = TestResources.bytes("photos/rocket.jpg");
        refused(Arrays.copyOf(jpg, jpg.length / 2), "half.jpg", "the JPEG data is truncated");
        refused(Arrays.copyOf(jpg, jpg.length - 2), "no-eoi.jpg", "truncated");
        refused(Arrays.copyOf(jpg, 300), "markers.jpg", "the header is truncated");
    }

    @Test
    void truncatedOtherFormats() {
        String[] files = {"decode/gif_basic.gif", "decode/gif_interlaced.gif", "decode/bmp_24.bmp", "decode/bmp_rle8.bmp",
            "decode/webp_lossless.webp", "decode/webp_lossy.webp"};
        for (String f : files) {
            byte[] data = TestResources.bytes(f);
            ImageException e = refused(Arrays.copyOf(data, data.length / 2), f, "");
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("cannot decode"), e.getMessage());
        }
    }

    @Test
    void emptyImagesAreRefused() {
        refused(png(0, 0), "zero.png", "the image is 0x0 pixels (empty)");
        refused(png(0, 10), "zero-width.png", "the image is 0x10 pixels (empty)");
        refused(jpegWithFrame(0xC0, 8, 0, 16, 3), "zero.jpg", "the image is 0x16 pixels (empty)");
        refused(gifHeader(0, 0), "zero.gif", "the image is 0x0 pixels (empty)");
        refused(bmpHeader(0, 5), "zero.bmp", "the image is 0x5 pixels (empty)");
    }

    @Test
    void enormousDeclaredSizesAreRefusedBeforeDecoding() {
        // Tiny files whose headers claim 10^10 pixels: decoding them would need tens of GB.
        long before = usedHeap();
        refused(png(100_000, 100_000), "bomb.png", "the image is 100000x100000 = 10000000000 pixels, above the limit of 89478485 pixels");
        refused(jpegWithFrame(0xC0, 8, 65_000, 65_000, 3), "bomb.jpg", "65000x65000");
        refused(gifHeader(65_535, 65_535), "bomb.gif", "65535x65535");
        refused(bmpHeader(1_000_000, 1_000_000), "bomb.bmp", "1000000x1000000");
        refused(riff("VP8X", new byte[] {0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 0, (byte) 0xFF, (byte) 0xFF, 0}), "bomb.webp", "65536x65536");
        assertTrue(usedHeap() - before < 64L << 20, "refusing must not allocate the image");
        // The limit is configurable and applies to the declared size.
        ImageException e = assertThrows(ImageException.class,
                () -> new ImageDecoder(100).decode(TestResources.bytes("decode/png_rgb8.png"), "small.png"));
        assertEquals("small.png: the image is 29x21 = 609 pixels, above the limit of 100 pixels", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ImageDecoder(0));
    }

    @Test
    void malformedHeaders() {
        byte[] badIhdr = png(10, 10);
        badIhdr[25] = 5; // colour type 5 does not exist
        refused(fixCrc(badIhdr), "ct5.png", "colour type 5 with bit depth 8 is not a valid combination");
        byte[] badCrc = TestResources.bytes("decode/png_rgb8.png");
        badCrc[20] ^= 1; // height changed, CRC not
        refused(badCrc, "crc.png", "bad CRC in the IHDR chunk");
        byte[] bmp = bmpHeader(4, 4);
        ByteBuffer.wrap(bmp).order(ByteOrder.LITTLE_ENDIAN).putInt(14, 99);
        refused(bmp, "hdr.bmp", "unsupported header size 99");
        refused(riff("ABCD", new byte[16]), "odd.webp", "no VP8, VP8L or VP8X chunk");
        refused(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xD9}, "eoi.jpg", "no frame header (SOF) before the end of the image");
    }

    private static int indexOf(byte[] data, String ascii) {
        byte[] needle = ascii.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i + needle.length <= data.length; i++) {
            if (Arrays.equals(data, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError(ascii + " not found");
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    // ------------------------------------------------------------------ crafted files

    /** A PNG with an IHDR for {@code w x h} RGB and a one-row IDAT. */
    static byte[] png(int w, int h) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        Deflater d = new Deflater();
        d.setInput(new byte[1 + 3 * Math.min(w, 16)]);
        d.finish();
        byte[] buf = new byte[256];
        int n = d.deflate(buf);
        chunk(out, "IDAT", Arrays.copyOf(buf, n));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    /** Recomputes the IHDR CRC after an edit. */
    private static byte[] fixCrc(byte[] png) {
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        ByteBuffer.wrap(png).putInt(29, (int) crc.getValue());
        return png;
    }

    /** SOI + a frame header with the given marker, precision, size and component count + EOI. */
    static byte[] jpegWithFrame(int marker, int precision, int width, int height, int components) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8});
        out.write(0xFF);
        out.write(marker);
        int len = 8 + 3 * components;
        out.write(len >> 8);
        out.write(len);
        out.write(precision);
        out.write(height >> 8);
        out.write(height);
        out.write(width >> 8);
        out.write(width);
        out.write(components);
        for (int i = 1; i <= components; i++) {
            out.writeBytes(new byte[] {(byte) i, 0x11, 0});
        }
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD9});
        return out.toByteArray();
    }

    /** A GIF whose logical screen and single frame are {@code w x h}, with no pixel data. */
    static byte[] gifHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GIF89a".getBytes(StandardCharsets.US_ASCII)).putShort((short) w).putShort((short) h).put((byte) 0).put((byte) 0).put((byte) 0);
        b.put((byte) 0x2C).putShort((short) 0).putShort((short) 0).putShort((short) w).putShort((short) h).put((byte) 0);
        b.put((byte) 8).put((byte) 0).put((byte) 0x3B);
        return Arrays.copyOf(b.array(), b.position());
    }

    /** A 24-bit BMP header for {@code w x h} and no pixel data. */
    static byte[] bmpHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(54).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(54).putInt(0).putInt(54);
        b.putInt(40).putInt(w).putInt(h).putShort((short) 1).putShort((short) 24).putInt(0).putInt(0).putInt(0).putInt(0).putInt(0).putInt(0);
        return b.array();
    }

    /** RIFF/WEBP with one chunk. */
    static byte[] riff(String fourcc, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(12 + payload.length).put("WEBP".getBytes(StandardCharsets.US_ASCII));
        b.put(fourcc.getBytes(StandardCharsets.US_ASCII)).putInt(payload.length).put(payload);
        return b.array();
    }
}
