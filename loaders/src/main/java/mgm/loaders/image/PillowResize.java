package mgm.loaders.image;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Pillow 9.4's {@code Image.resize(size, Image.BICUBIC)} on 8-bit RGB, ported operation for
 * operation from {@code libImaging/Resample.c} so that the output is bit-identical:
 * <ul>
 *   <li>a separable filter, horizontal pass first (over the source rows the vertical pass needs),
 *       then vertical; a pass whose size does not change is skipped;</li>
 *   <li>bicubic kernel with a = -0.5 and support 2, widened by the scale factor when downscaling
 *       (antialiasing); taps from {@code (int)(center ± support + 0.5)}, clamped to the image;</li>
 *   <li>coefficients normalised to sum 1 in double, then rounded to 22-bit fixed point
 *       ({@code PRECISION_BITS = 32 - 8 - 2}) away from zero;</li>
 *   <li>each pass accumulates in int from 2^21 (rounding) and clips to 0..255 after {@code >> 22},
 *       so the intermediate image is 8-bit, as in Pillow.</li>
 * </ul>
 */
public final class PillowResize {
    private PillowResize() {}

    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double BICUBIC_SUPPORT = 2.0;
    /** Multiply-adds below which a pass runs on the calling thread. */
    private static final long PARALLEL_WORK = 4_000_000;

    /** Rows of an RGB source image that need not exist in memory all at once (e.g. a padded image). */
    interface RowSource {
        int width();

        int height();

        /** Writes row {@code y} (interleaved RGB, {@code width() * 3} bytes) into {@code dst}. */
        void row(int y, byte[] dst);
    }

    /** {@code src} resized to {@code width x height} exactly as Pillow's bicubic resize does it. */
    public static RgbImage bicubic(RgbImage src, int width, int height) {
        return bicubic(rowsOf(src), width, height);
    }

    static RowSource rowsOf(RgbImage img) {
        return new RowSource() {
            @Override
            public int width() {
                return img.width();
            }

            @Override
            public int height() {
                return img.height();
            }

            @Override
            public void row(int y, byte[] dst) {
                System.arraycopy(img.data(), y * img.width() * 3, dst, 0, img.width() * 3);
            }
        };
    }

    static RgbImage bicubic(RowSource src, int width, int height) {
        return bicubicWindow(src, width, height, 0, 0, width, height);
    }

    /**
     * Pixels {@code [x0, x0 + w) x [y0, y0 + h)} of {@code src} resized to {@code width x height}:
     * the same values as cropping Pillow's full resize (every output pixel depends only on its own
     * taps), without computing or storing the rest.
     */
    static RgbImage bicubicWindow(RowSource src, int width, int height, int x0, int y0, int w, int h) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("resize to " + width + "x" + height + ": sizes must be at least 1");
        }
        if (w < 1 || h < 1 || x0 < 0 || y0 < 0 || x0 > width - w || y0 > height - h) {
            throw new IllegalArgumentException("window " + w + "x" + h + " at (" + x0 + ", " + y0 + ") is not inside "
                    + width + "x" + height);
        }
        if ((long) w * h * 3 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("resize window " + w + "x" + h + ": too large");
        }
        boolean horizontal = width != src.width();
        boolean vertical = height != src.height();
        Coefficients vert = vertical ? Coefficients.bicubic(src.height(), height) : null;
        // The rows of the (horizontally resized) source that the window's output rows read.
        int firstRow = vertical ? vert.start[y0] : y0;
        int lastRow = vertical ? vert.start[y0 + h - 1] + vert.count[y0 + h - 1] : y0 + h;
        if ((long) w * (lastRow - firstRow) * 3 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("resize of " + src.width() + "x" + src.height() + " to " + width + "x" + height
                    + ": the intermediate image is too large");
        }
        byte[] rows = horizontal ? horizontalPass(src, width, x0, w, firstRow, lastRow) : copyRows(src, x0, w, firstRow, lastRow);
        return new RgbImage(w, h, vertical ? verticalPass(rows, w, vert, y0, h, firstRow) : rows);
    }

    /** Columns [x0, x0 + w) of rows [firstRow, lastRow) of {@code src}, unchanged. */
    private static byte[] copyRows(RowSource src, int x0, int w, int firstRow, int lastRow) {
        byte[] out = new byte[w * (lastRow - firstRow) * 3];
        byte[] row = new byte[src.width() * 3];
        for (int y = firstRow; y < lastRow; y++) {
            src.row(y, row);
            System.arraycopy(row, x0 * 3, out, (y - firstRow) * w * 3, w * 3);
        }
        return out;
    }

    /** Output columns [x0, x0 + w) of rows [firstRow, lastRow) of {@code src} resized to {@code width} pixels. */
    private static byte[] horizontalPass(RowSource src, int width, int x0, int w, int firstRow, int lastRow) {
        Coefficients c = Coefficients.bicubic(src.width(), width);
        byte[] out = new byte[w * (lastRow - firstRow) * 3];
        long work = (long) w * (lastRow - firstRow) * c.ksize;
        forRowRanges(lastRow - firstRow, work, (from, to) -> {
            byte[] in = new byte[src.width() * 3];
            for (int y = firstRow + from; y < firstRow + to; y++) {
                src.row(y, in);
                int o = (y - firstRow) * w * 3;
                for (int xx = x0; xx < x0 + w; xx++, o += 3) {
                    int k0 = xx * c.ksize;
                    int p = c.start[xx] * 3;
                    int r = 1 << (PRECISION_BITS - 1);
                    int g = r;
                    int b = r;
                    for (int t = 0; t < c.count[xx]; t++, p += 3) {
                        int k = c.fixed[k0 + t];
                        r += (in[p] & 0xFF) * k;
                        g += (in[p + 1] & 0xFF) * k;
                        b += (in[p + 2] & 0xFF) * k;
                    }
                    out[o] = clip8(r);
                    out[o + 1] = clip8(g);
                    out[o + 2] = clip8(b);
                }
            }
        });
        return out;
    }

    /**
     * Output rows [y0, y0 + h) of the vertical pass over {@code in}: rows of {@code w} RGB pixels
     * holding source rows from {@code firstRow} on.
     */
    private static byte[] verticalPass(byte[] in, int w, Coefficients c, int y0, int h, int firstRow) {
        int rowBytes = w * 3;
        byte[] out = new byte[rowBytes * h];
        forRowRanges(h, (long) w * h * c.ksize, (from, to) -> {
            int[] acc = new int[rowBytes];
            for (int yy = y0 + from; yy < y0 + to; yy++) {
                Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
                int k0 = yy * c.ksize;
                for (int t = 0; t < c.count[yy]; t++) {
                    int k = c.fixed[k0 + t];
                    int p = (c.start[yy] + t - firstRow) * rowBytes;
                    // Integer sums are exact, so accumulating tap by tap equals Pillow's pixel-by-pixel order.
                    for (int i = 0; i < rowBytes; i++) {
                        acc[i] += (in[p + i] & 0xFF) * k;
                    }
                }
                int o = (yy - y0) * rowBytes;
                for (int i = 0; i < rowBytes; i++) {
                    out[o + i] = clip8(acc[i]);
                }
            }
        });
        return out;
    }

    private interface RowRange {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over [0, rows) in contiguous ranges, in parallel when there is enough work.
     * Every output row is computed by exactly one range, from the same inputs, so the result does
     * not depend on the split.
     */
    private static void forRowRanges(int rows, long work, RowRange body) {
        int threads = Runtime.getRuntime().availableProcessors();
        if (threads == 1 || work < PARALLEL_WORK || rows < 2) {
            body.run(0, rows);
            return;
        }
        int ranges = Math.min(rows, threads * 4);
        IntStream.range(0, ranges).parallel().forEach(i -> body.run(
                (int) ((long) rows * i / ranges), (int) ((long) rows * (i + 1) / ranges)));
    }

    private static byte clip8(int v) {
        int s = v >> PRECISION_BITS;
        return (byte) (s < 0 ? 0 : Math.min(s, 255));
    }

    /** Pillow's bicubic kernel, a = -0.5. */
    static double bicubicKernel(double x) {
        final double a = -0.5;
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /** Taps of one pass: for output i, {@code count[i]} source pixels from {@code start[i]}. */
    static final class Coefficients {
        final int ksize;
        final int[] start;
        final int[] count;
        final int[] fixed;

        private Coefficients(int ksize, int[] start, int[] count, int[] fixed) {
            this.ksize = ksize;
            this.start = start;
            this.count = count;
            this.fixed = fixed;
        }

        /** {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for the box [0, inSize). */
        static Coefficients bicubic(int inSize, int outSize) {
            // The box is float in Pillow: (in1 - in0) is a float difference.
            double scale = (double) ((float) inSize - 0.0f) / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = BICUBIC_SUPPORT * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] start = new int[outSize];
            int[] count = new int[outSize];
            int[] fixed = new int[outSize * ksize];
            double[] k = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = 0.0 + (xx + 0.5) * scale;
                double ww = 0.0;
                double ss = 1.0 / filterScale;
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                for (int x = 0; x < xmax; x++) {
                    double w = bicubicKernel((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) {
                    if (ww != 0.0) {
                        k[x] /= ww;
                    }
                    double v = k[x];
                    fixed[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
                }
                start[xx] = xmin;
                count[xx] = xmax;
            }
            return new Coefficients(ksize, start, count, fixed);
        }
    }
}
