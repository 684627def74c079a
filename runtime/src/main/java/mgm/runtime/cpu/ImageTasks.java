package mgm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Channels-last image kernels: im2col for conv2d, depthwise convolution, bilinear resize. */
final class ImageTasks {
    private ImageTasks() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Geometry of an [N, H, W, C] input and [N, Ho, Wo, *] output. */
    static final class Geometry {
        int h, w, c, ho, wo, kh, kw, stride, pad;

        void set(int h, int w, int c, int ho, int wo, int kh, int kw, int stride, int pad) {
            this.h = h;
            this.w = w;
            this.c = c;
            this.ho = ho;
            this.wo = wo;
            this.kh = kh;
            this.kw = kw;
            this.stride = stride;
            this.pad = pad;
        }
    }

    /**
     * Rows {@code [pixel0, pixel0 + count)} of the im2col matrix: row p = output pixel (n, oy, ox),
     * column {@code (c * kh + ky) * kw + kx} to match the PyTorch weight layout [O, C, kh, kw] read as [O, K].
     */
    static final class Im2col extends RangeTask {
        final Geometry g = new Geometry();
        private MemorySegment x, cols;
        private long pixel0;

        int set(MemorySegment x, MemorySegment cols, long pixel0, long count, int threads) {
            this.x = x;
            this.cols = cols;
            this.pixel0 = pixel0;
            return split(count, grainFor(count, threads, 16));
        }

        void release() {
            x = cols = null;
        }

        @Override
        void range(long from, long to, int worker) {
            int kk = g.c * g.kh * g.kw;
            long perImage = (long) g.ho * g.wo;
            for (long r = from; r < to; r++) {
                long p = pixel0 + r;
                long n = p / perImage;
                int rem = (int) (p % perImage);
                int oy = rem / g.wo;
                int ox = rem % g.wo;
                long rowOff = 4L * r * kk;
                for (int ky = 0; ky < g.kh; ky++) {
                    int iy = oy * g.stride - g.pad + ky;
                    for (int kx = 0; kx < g.kw; kx++) {
                        int ix = ox * g.stride - g.pad + kx;
                        boolean inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
                        long src = 4L * (((n * g.h + iy) * g.w + ix) * g.c);
                        for (int ch = 0; ch < g.c; ch++) {
                            float v = inside ? x.get(FL, src + 4L * ch) : 0f;
                            cols.set(FL, rowOff + 4L * ((ch * g.kh + ky) * g.kw + kx), v);
                        }
                    }
                }
            }
        }
    }

    /** Depthwise conv, stride 1: one work item per output row (n, oy), vectorised over channels. */
    static final class Depthwise extends RangeTask {
        final Geometry g = new Geometry();
        private MemorySegment x, out, bias;
        private float[] wt = new float[0]; // [k*k][C]

        float[] weights(int size) {
            if (wt.length < size) {
                wt = new float[size];
            }
            return wt;
        }

        /**
         * Weights [C, 1, k, k] to F32 [k*k][C], the layout the kernel reads (a vector of channels per
         * tap). Contiguous F32/BF16/F16 read straight from memory; per-element index lookups cost as
         * much as the convolution of a small map.
         */
        static void transposeTaps(mgm.runtime.Tensor w, int taps, int c, float[] dst) {
            MemorySegment seg = w.segment();  // starts at the tensor's first element
            if (w.isContiguous() && (w.dtype() == mgm.runtime.DType.F32 || w.dtype() == mgm.runtime.DType.BF16
                    || w.dtype() == mgm.runtime.DType.F16)) {
                mgm.runtime.DType dt = w.dtype();
                for (int ch = 0; ch < c; ch++) {
                    for (int t = 0; t < taps; t++) {
                        long e = (long) ch * taps + t;
                        dst[t * c + ch] = switch (dt) {
                            case F32 -> seg.get(FL, 4 * e);
                            case BF16 -> Float.intBitsToFloat((seg.get(SH, 2 * e) & 0xFFFF) << 16);
                            default -> Float.float16ToFloat(seg.get(SH, 2 * e));
                        };
                    }
                }
                return;
            }
            float[] all = w.toFloatArray();
            for (int ch = 0; ch < c; ch++) {
                for (int t = 0; t < taps; t++) {
                    dst[t * c + ch] = all[ch * taps + t];
                }
            }
        }

        int set(MemorySegment x, MemorySegment out, MemorySegment bias, long rows, int threads) {
            this.x = x;
            this.out = out;
            this.bias = bias;
            return split(rows, grainFor(rows, threads, 1));
        }

        void release() {
            x = out = bias = null;
        }

        /**
         * One output row per item, vectorised over channels (channels-last: C is contiguous). Full
         * vectors without masks (masked loads ran an order of magnitude slower), the taps that fall
         * inside the image computed once per pixel, a scalar tail for C not a multiple of the lanes.
         */
        @Override
        void range(long from, long to, int worker) {
            int c = g.c;
            int full = c / L * L;
            for (long r = from; r < to; r++) {
                long n = r / g.ho;
                int oy = (int) (r % g.ho);
                int ky0 = Math.max(0, g.pad - oy);
                int ky1 = Math.min(g.kh, g.h + g.pad - oy);
                // Interior pixels four at a time: each tap's weight vector is loaded once for four
                // outputs (1.25 loads per FMA instead of 2).
                int innerFrom = g.pad;
                int innerTo = g.w + g.pad - g.kw + 1;  // ox < innerTo: every kx falls inside the row
                int ox = 0;
                for (; ox < Math.min(innerFrom, g.wo); ox++) {
                    pixel(n, r, oy, ox, ky0, ky1, c, 0, full);
                }
                for (; ox + 4 <= Math.min(innerTo, g.wo); ox += 4) {
                    fourPixels(n, r, oy, ox, ky0, ky1, c, 0, full);
                }
                for (; ox < g.wo; ox++) {
                    pixel(n, r, oy, ox, ky0, ky1, c, 0, full);
                }
                if (full < c) {
                    for (int p = 0; p < g.wo; p++) {
                        pixelTail(n, r, oy, p, ky0, ky1, c, full);
                    }
                }
            }
        }

        /** Four interior output pixels (every tap inside the row), channels [cb, ce). */
        private void fourPixels(long n, long r, int oy, int ox, int ky0, int ky1, int c, int cb, int ce) {
            FloatVector one = FloatVector.broadcast(F, 1f);  // the sums leave times one (see the README, "Reading C2's machine code")
            long oo = 4L * ((r * g.wo + ox) * c);
            for (int ch = cb; ch < ce; ch += L) {
                FloatVector a0 = bias == null ? FloatVector.zero(F) : FloatVector.fromMemorySegment(F, bias, 4L * ch, LE);
                FloatVector a1 = a0, a2 = a0, a3 = a0;
                for (int ky = ky0; ky < ky1; ky++) {
                    long rowBase = (n * g.h + oy - g.pad + ky) * g.w + ox - g.pad;
                    int wBase = ky * g.kw * c + ch;
                    for (int kx = 0; kx < g.kw; kx++) {
                        FloatVector wv = FloatVector.fromArray(F, wt, wBase + kx * c);
                        long xo = 4L * ((rowBase + kx) * c + ch);
                        a0 = FloatVector.fromMemorySegment(F, x, xo, LE).fma(wv, a0);
                        a1 = FloatVector.fromMemorySegment(F, x, xo + 4L * c, LE).fma(wv, a1);
                        a2 = FloatVector.fromMemorySegment(F, x, xo + 8L * c, LE).fma(wv, a2);
                        a3 = FloatVector.fromMemorySegment(F, x, xo + 12L * c, LE).fma(wv, a3);
                    }
                }
                a0.lanewise(VectorOperators.MUL, one).intoMemorySegment(out, oo + 4L * ch, LE);
                a1.lanewise(VectorOperators.MUL, one).intoMemorySegment(out, oo + 4L * (c + ch), LE);
                a2.lanewise(VectorOperators.MUL, one).intoMemorySegment(out, oo + 4L * (2 * c + ch), LE);
                a3.lanewise(VectorOperators.MUL, one).intoMemorySegment(out, oo + 4L * (3 * c + ch), LE);
            }
        }

        /** One output pixel, channels [cb, ce) (the taps outside the image skipped). */
        private void pixel(long n, long r, int oy, int ox, int ky0, int ky1, int c, int cb, int ce) {
            FloatVector one = FloatVector.broadcast(F, 1f);  // the sums leave times one (see the README, "Reading C2's machine code")
            int kx0 = Math.max(0, g.pad - ox);
            int kx1 = Math.min(g.kw, g.w + g.pad - ox);
            long oo = 4L * ((r * g.wo + ox) * c);
            for (int ch = cb; ch < ce; ch += L) {
                FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromMemorySegment(F, bias, 4L * ch, LE);
                for (int ky = ky0; ky < ky1; ky++) {
                    long rowBase = (n * g.h + oy - g.pad + ky) * g.w + ox - g.pad;
                    int wBase = ky * g.kw * c + ch;
                    for (int kx = kx0; kx < kx1; kx++) {
                        FloatVector xv = FloatVector.fromMemorySegment(F, x, 4L * ((rowBase + kx) * c + ch), LE);
                        acc = xv.fma(FloatVector.fromArray(F, wt, wBase + kx * c), acc);
                    }
                }
                acc.lanewise(VectorOperators.MUL, one).intoMemorySegment(out, oo + 4L * ch, LE);
            }
        }

        /** Channels [full, c) of one output pixel, scalar (C not a multiple of the lanes). */
        private void pixelTail(long n, long r, int oy, int ox, int ky0, int ky1, int c, int full) {
            int kx0 = Math.max(0, g.pad - ox);
            int kx1 = Math.min(g.kw, g.w + g.pad - ox);
            long oo = 4L * ((r * g.wo + ox) * c);
            for (int ch = full; ch < c; ch++) {
                float acc = bias == null ? 0f : bias.get(FL, 4L * ch);
                for (int ky = ky0; ky < ky1; ky++) {
                    long rowBase = (n * g.h + oy - g.pad + ky) * g.w + ox - g.pad;
                    for (int kx = kx0; kx < kx1; kx++) {
                        acc = Math.fma(x.get(FL, 4L * ((rowBase + kx) * c + ch)), wt[(ky * g.kw + kx) * c + ch], acc);
                    }
                }
                out.set(FL, oo + 4L * ch, acc);
            }
        }
    }

    /**
     * Bilinear resize, PyTorch align_corners=False, with the taps and weights of {@link BilinearTaps}
     * (the reference's, so both agree to the last bit on the coordinates). One work item per output
     * row, vectorised over channels. Output pixels lie {@code outPixel} elements apart (c for a
     * dense output; more for a channel slice of a wider map, which the resize then fills in place).
     */
    static final class Resize extends RangeTask {
        private MemorySegment x, out;
        private int h, w, c, ho, wo;
        private long outPixel;
        private BilinearTaps ys, xs;

        int set(MemorySegment x, MemorySegment out, long outPixel, int n, int h, int w, int c, int ho, int wo, int threads) {
            this.x = x;
            this.out = out;
            this.outPixel = outPixel;
            this.h = h;
            this.w = w;
            this.c = c;
            this.ho = ho;
            this.wo = wo;
            this.ys = BilinearTaps.of(h, ho);
            this.xs = BilinearTaps.of(w, wo);
            long rows = (long) n * ho;
            return split(rows, grainFor(rows, threads, 1));
        }

        void release() {
            x = out = null;
        }

        @Override
        void range(long from, long to, int worker) {
            for (long r = from; r < to; r++) {
                long n = r / ho;
                int oy = (int) (r % ho);
                int y0 = ys.index0[oy];
                int y1 = y0 + ys.step[oy];
                float ly0 = ys.lambda0[oy];
                float ly1 = ys.lambda1[oy];
                for (int ox = 0; ox < wo; ox++) {
                    int x0 = xs.index0[ox];
                    int x1 = x0 + xs.step[ox];
                    float lx0 = xs.lambda0[ox];
                    float lx1 = xs.lambda1[ox];
                    long p00 = 4L * (((n * h + y0) * w + x0) * c);
                    long p01 = 4L * (((n * h + y0) * w + x1) * c);
                    long p10 = 4L * (((n * h + y1) * w + x0) * c);
                    long p11 = 4L * (((n * h + y1) * w + x1) * c);
                    long oo = 4L * ((r * wo + ox) * outPixel);
                    int ch = 0;
                    for (; ch + L <= c; ch += L) {
                        long b = 4L * ch;
                        FloatVector top = FloatVector.fromMemorySegment(F, x, p00 + b, LE).mul(lx0)
                                .add(FloatVector.fromMemorySegment(F, x, p01 + b, LE).mul(lx1));
                        FloatVector bot = FloatVector.fromMemorySegment(F, x, p10 + b, LE).mul(lx0)
                                .add(FloatVector.fromMemorySegment(F, x, p11 + b, LE).mul(lx1));
                        top.mul(ly0).add(bot.mul(ly1)).intoMemorySegment(out, oo + b, LE);
                    }
                    for (; ch < c; ch++) {
                        long b = 4L * ch;
                        float top = lx0 * x.get(FL, p00 + b) + lx1 * x.get(FL, p01 + b);
                        float bot = lx0 * x.get(FL, p10 + b) + lx1 * x.get(FL, p11 + b);
                        out.set(FL, oo + b, ly0 * top + ly1 * bot);
                    }
                }
            }
        }
    }
}
