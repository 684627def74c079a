package mgm.loaders.image;

/**
 * The integer colour conversions the reference stack applies, reproduced exactly: libjpeg's
 * YCbCr → RGB (jdcolor.c, 16-bit fixed point), used by PIL for JPEG files, and Pillow 9.4's
 * {@code CMYK → RGB} ({@code cmyk2rgb} in Convert.c).
 */
final class PilColor {
    private PilColor() {}

    private static final int SCALE_BITS = 16;
    private static final int ONE_HALF = 1 << (SCALE_BITS - 1);

    /** libjpeg's lookup tables, indexed by the Cb or Cr sample 0..255. */
    private static final int[] CR_TO_R = new int[256];
    private static final int[] CB_TO_B = new int[256];
    private static final int[] CR_TO_G = new int[256];
    private static final int[] CB_TO_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_TO_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALE_BITS;
            CB_TO_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALE_BITS;
            CR_TO_G[i] = -fix(0.71414) * x;
            CB_TO_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private static int fix(double v) {
        return (int) (v * (1 << SCALE_BITS) + 0.5);
    }

    static int clamp8(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** libjpeg's YCbCr → R. */
    static int yccRed(int y, int cr) {
        return clamp8(y + CR_TO_R[cr]);
    }

    /** libjpeg's YCbCr → G. */
    static int yccGreen(int y, int cb, int cr) {
        return clamp8(y + ((CB_TO_G[cb] + CR_TO_G[cr]) >> SCALE_BITS));
    }

    /** libjpeg's YCbCr → B. */
    static int yccBlue(int y, int cb) {
        return clamp8(y + CB_TO_B[cb]);
    }

    /** Pillow 9.4 {@code cmyk2rgb} for one channel: {@code (255 - k) - round(ink * (255 - k) / 255)}. */
    static int cmykChannel(int ink, int k) {
        int nk = 255 - k;
        int t = ink * nk + 128;
        return clamp8(nk - (((t >> 8) + t) >> 8));
    }
}
