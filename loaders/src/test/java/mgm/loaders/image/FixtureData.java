package mgm.loaders.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Helpers to read the preprocessing fixtures and to build the same synthetic images as their script. */
final class FixtureData {
    private FixtureData() {}

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(float[] data) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return sha256(b.array());
    }

    /** A little-endian float32 file. */
    static float[] floats(byte[] raw) {
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /**
     * {@code t[..., offset::stride, offset::stride]} of a tensor laid out as {@code [lead, h, w]}
     * row-major, flattened in numpy order.
     */
    static float[] sample(float[] t, int lead, int h, int w, int stride, int offset) {
        int sh = (h - offset + stride - 1) / stride;
        int sw = (w - offset + stride - 1) / stride;
        float[] out = new float[lead * sh * sw];
        int o = 0;
        for (int l = 0; l < lead; l++) {
            for (int y = offset; y < h; y += stride) {
                for (int x = offset; x < w; x += stride) {
                    out[o++] = t[(l * h + y) * w + x];
                }
            }
        }
        return out;
    }

    /** Sum of each [h*w] plane, in double. */
    static double[] planeSums(float[] t, int planes) {
        int n = t.length / planes;
        double[] s = new double[planes];
        for (int p = 0; p < planes; p++) {
            double acc = 0;
            for (int i = 0; i < n; i++) {
                acc += t[p * n + i];
            }
            s[p] = acc;
        }
        return s;
    }

    /** The script's xorshift32 noise image (row-major RGB). */
    static RgbImage xorshiftImage(int w, int h, int seed) {
        byte[] out = new byte[w * h * 3];
        int x = seed;
        for (int i = 0; i < out.length; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            out[i] = (byte) (x >>> 24);
        }
        return RgbImage.of(w, h, out);
    }

    /** The script's gradient: R = x*255/(w-1), G = y*255/(h-1), B = (x+y) % 256. */
    static RgbImage gradientImage(int w, int h) {
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                out[o] = (byte) (x * 255 / Math.max(w - 1, 1));
                out[o + 1] = (byte) (y * 255 / Math.max(h - 1, 1));
                out[o + 2] = (byte) ((x + y) % 256);
            }
        }
        return RgbImage.of(w, h, out);
    }

    /** PIL's {@code img.crop((left, top, right, bottom))} inside the image. */
    static RgbImage crop(RgbImage img, int left, int top, int right, int bottom) {
        int w = right - left;
        int h = bottom - top;
        byte[] src = img.toByteArray();
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(src, ((top + y) * img.width() + left) * 3, out, y * w * 3, w * 3);
        }
        return RgbImage.of(w, h, out);
    }
}
