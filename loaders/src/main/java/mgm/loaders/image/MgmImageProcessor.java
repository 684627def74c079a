package mgm.loaders.image;

import java.util.Arrays;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * MGM's image preprocessing (mgm/mm_utils.py {@code process_images} + HF {@code CLIPImageProcessor}
 * with size and crop overridden to {@code image_size_aux}, then mgm/serve/cli.py), matched to the
 * reference step by step:
 * <ol>
 *   <li>{@link AspectMode#PAD}: {@code expand2square} with the background
 *       {@code tuple(int(x * 255) for x in mean)} = (122, 116, 104) for CLIP's mean;</li>
 *   <li>resize the shortest edge to A = {@code image_size_aux} with Pillow's bicubic on the 8-bit
 *       image ({@link PillowResize}, bit-exact), longer edge {@code int(A * long / short)};</li>
 *   <li>centre crop A x A (HF {@code center_crop}: offsets {@code (size - A) // 2}, zero padding when
 *       the image is smaller);</li>
 *   <li>{@code float32(v * (1/255))} (the product in float64, as numpy does), then
 *       {@code (x - mean) / std} in float32 → the high-res tensor {@code [3, A, A]};</li>
 *   <li>the low-res input: {@code F.interpolate(hr, 336 * grid, bilinear, align_corners=False)} of
 *       the normalised tensor, run by the backend's {@link Backend#resizeBilinear}. With
 *       {@code grid >= 2} it is cut into grid x grid crops of 336 in row-major order, and with
 *       {@code image_global} the whole low-res image bilinearly resized to 336 is appended last:
 *       {@code [crop00, crop01, crop10, crop11, global]}.</li>
 * </ol>
 * The tensors live on the backend given to the constructor.
 */
public final class MgmImageProcessor {

    /** {@code image_aspect_ratio}: 'pad' (all released fine-tuned MGM models) or anything else. */
    public enum AspectMode {
        /** Pad to a square with the mean colour, then resize. */
        PAD,
        /** Resize the shortest edge, then centre crop (the processor called directly). */
        RESIZE_AND_CROP;

        /** The mode for a config's {@code image_aspect_ratio}: 'pad' pads, anything else (or none) does not. */
        public static AspectMode fromConfig(String imageAspectRatio) {
            return "pad".equals(imageAspectRatio) ? PAD : RESIZE_AND_CROP;
        }
    }

    private static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    private static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};
    /** HF's {@code rescale_factor}, 1/255 as a double. */
    static final double RESCALE = 1.0 / 255;

    /**
     * @param imageSizeAux A, the high-res side (768, or 1536 for HD models)
     * @param imageGrid    low-res grid: the low-res image is {@code cropSize * imageGrid} square
     * @param imageGlobal  with {@code imageGrid >= 2}, append the whole low-res image resized to {@code cropSize}
     * @param aspectMode   pad to square or resize-and-crop
     * @param mean         per-channel mean (also gives the pad colour)
     * @param std          per-channel std
     * @param cropSize     the CLIP input side, 336
     */
    public record Config(int imageSizeAux, int imageGrid, boolean imageGlobal, AspectMode aspectMode,
                         double[] mean, double[] std, int cropSize) {
        public Config {
            if (imageSizeAux < 1 || imageGrid < 1 || cropSize < 1) {
                throw new IllegalArgumentException("image preprocessing: image_size_aux " + imageSizeAux + ", image_grid "
                        + imageGrid + " and crop size " + cropSize + " must all be at least 1");
            }
            if ((long) cropSize * imageGrid > 1 << 15 || imageSizeAux > 1 << 15) {
                throw new IllegalArgumentException("image preprocessing: sizes above 32768 are not supported");
            }
            if (aspectMode == null || mean == null || std == null || mean.length != 3 || std.length != 3) {
                throw new IllegalArgumentException("image preprocessing: need an aspect mode and 3-channel mean and std");
            }
            for (int c = 0; c < 3; c++) {
                if (!(std[c] > 0) || Double.isInfinite(std[c]) || !(mean[c] >= 0 && mean[c] <= 1)) {
                    throw new IllegalArgumentException("image preprocessing: mean " + Arrays.toString(mean) + " must be in [0, 1] and std "
                            + Arrays.toString(std) + " positive");
                }
            }
            mean = mean.clone();
            std = std.clone();
        }

        /** MGM's settings: CLIP mean/std, crop 336. */
        public static Config mgm(int imageSizeAux, int imageGrid, boolean imageGlobal, AspectMode aspectMode) {
            return new Config(imageSizeAux, imageGrid, imageGlobal, aspectMode, CLIP_MEAN, CLIP_STD, 336);
        }

        @Override
        public double[] mean() {
            return mean.clone();
        }

        @Override
        public double[] std() {
            return std.clone();
        }

        /** Low-res images per input: 1, or grid² crops (+ 1 global). */
        public int lowResCount() {
            return imageGrid == 1 ? 1 : imageGrid * imageGrid + (imageGlobal ? 1 : 0);
        }
    }

    /**
     * The model inputs for one image, owned by the caller: {@code highRes} {@code [3, A, A]} (to
     * ConvNeXt) and {@code lowRes} {@code [n, 3, 336, 336]} (to CLIP; n = {@link Config#lowResCount()}).
     */
    public record Output(Tensor highRes, Tensor lowRes) implements AutoCloseable {
        @Override
        public void close() {
            highRes.close();
            lowRes.close();
        }
    }

    private final Config config;
    private final Backend backend;
    private final int[] padColour;
    private final float[][] normalised;

    public MgmImageProcessor(Config config, Backend backend) {
        if (config == null || backend == null) {
            throw new IllegalArgumentException("image preprocessing needs a config and a backend");
        }
        this.config = config;
        this.backend = backend;
        this.padColour = padColour(config.mean);
        this.normalised = normalisationTable(config.mean, config.std);
    }

    public Config config() {
        return config;
    }

    /** CLIP ViT-L/14-336's {@code image_mean}, as its preprocessor config stores it. */
    public static double[] clipMean() {
        return CLIP_MEAN.clone();
    }

    /** CLIP ViT-L/14-336's {@code image_std}. */
    public static double[] clipStd() {
        return CLIP_STD.clone();
    }

    /** MGM's pad colour {@code tuple(int(x * 255) for x in mean)}. */
    public static int[] padColour(double[] mean) {
        return new int[] {(int) (mean[0] * 255), (int) (mean[1] * 255), (int) (mean[2] * 255)};
    }

    /** MGM's {@code expand2square}: the image itself when square, otherwise padded with {@code background}. */
    public static RgbImage expandToSquare(RgbImage image, int[] background) {
        return image.width() == image.height() ? image : new PaddedSquare(image, background).materialize();
    }

    /** High-res and low-res model inputs for {@code image}. */
    public Output process(RgbImage image) {
        float[] chw = normalize(highResPixels(image));
        int a = config.imageSizeAux;
        Tensor host = Tensor.of(chw, 3, a, a);
        Tensor highRes;
        try {
            highRes = backend.toDevice(host); // a host backend returns host itself
        } catch (RuntimeException | Error e) {
            host.close();
            throw e;
        }
        if (highRes != host) {
            host.close();
        }
        try {
            return new Output(highRes, lowRes(highRes));
        } catch (RuntimeException | Error e) {
            highRes.close();
            throw e;
        }
    }

    /** Steps 1-3: the 8-bit A x A image that HF's processor normalises. */
    public RgbImage highResPixels(RgbImage image) {
        boolean pad = config.aspectMode == AspectMode.PAD && image.width() != image.height();
        PillowResize.RowSource source = pad ? new PaddedSquare(image, padColour) : PillowResize.rowsOf(image);
        int a = config.imageSizeAux;
        int[] size = shortestEdgeSize(source.width(), source.height(), a);
        int left = Math.floorDiv(size[0] - a, 2);
        int top = Math.floorDiv(size[1] - a, 2);
        if (left >= 0 && top >= 0 && left + a <= size[0] && top + a <= size[1]) {
            // Resize only the centre-crop window: same pixels, and a very long image never
            // materialises its full resized size.
            return PillowResize.bicubicWindow(source, size[0], size[1], left, top, a, a);
        }
        return centerCrop(PillowResize.bicubic(source, size[0], size[1]), a, a);
    }

    /** HF {@code get_resize_output_image_size(size=A, default_to_square=False)}: {width, height}. */
    static int[] shortestEdgeSize(int width, int height, int a) {
        int shortSide = Math.min(width, height);
        int longSide = Math.max(width, height);
        int newLong = (int) ((double) ((long) a * longSide) / shortSide);
        return width <= height ? new int[] {a, newLong} : new int[] {newLong, a};
    }

    /** HF {@code center_crop}: offsets {@code (size - crop) // 2}; where the crop exceeds the image, zeros. */
    static RgbImage centerCrop(RgbImage image, int cropWidth, int cropHeight) {
        if (image.width() == cropWidth && image.height() == cropHeight) {
            return image;
        }
        int top = Math.floorDiv(image.height() - cropHeight, 2);
        int left = Math.floorDiv(image.width() - cropWidth, 2);
        byte[] out = new byte[cropWidth * cropHeight * 3];
        for (int y = 0; y < cropHeight; y++) {
            int sy = top + y;
            if (sy < 0 || sy >= image.height()) {
                continue;
            }
            int x0 = Math.max(0, -left);
            int x1 = Math.min(cropWidth, image.width() - left);
            if (x1 > x0) {
                System.arraycopy(image.data(), (sy * image.width() + left + x0) * 3, out, (y * cropWidth + x0) * 3, (x1 - x0) * 3);
            }
        }
        return new RgbImage(cropWidth, cropHeight, out);
    }

    /** Step 4: {@code (float32(v * (1/255)) - mean) / std} per channel, laid out CHW. */
    public float[] normalize(RgbImage pixels) {
        int n = pixels.width() * pixels.height();
        float[] out = new float[3 * n];
        byte[] rgb = pixels.data();
        for (int c = 0; c < 3; c++) {
            float[] table = normalised[c];
            for (int i = 0; i < n; i++) {
                out[c * n + i] = table[rgb[i * 3 + c] & 0xFF];
            }
        }
        return out;
    }

    /** The normalised value of each 8-bit level per channel, computed in numpy's precisions. */
    static float[][] normalisationTable(double[] mean, double[] std) {
        float[][] t = new float[3][256];
        for (int c = 0; c < 3; c++) {
            float m = (float) mean[c];
            float s = (float) std[c];
            for (int v = 0; v < 256; v++) {
                float x = (float) (v * RESCALE);
                t[c][v] = (x - m) / s;
            }
        }
        return t;
    }

    /** Step 5 on the backend. */
    private Tensor lowRes(Tensor highRes) {
        int a = config.imageSizeAux;
        int c = config.cropSize;
        int grid = config.imageGrid;
        int side = c * grid;
        Tensor hrView = highRes.reshape(3, a, a, 1);
        if (grid == 1) {
            Tensor out = backend.allocate(DType.F32, 1, 3, c, c);
            try {
                backend.resizeBilinear(hrView, out.reshape(3, c, c, 1));
                return out;
            } catch (RuntimeException | Error e) {
                out.close();
                throw e;
            }
        }
        Tensor out = backend.allocate(DType.F32, config.lowResCount(), 3, c, c);
        try (Tensor full = backend.allocate(DType.F32, 3, side, side)) {
            backend.resizeBilinear(hrView, full.reshape(3, side, side, 1));
            for (int i = 0; i < grid; i++) {
                for (int j = 0; j < grid; j++) {
                    Tensor crop = full.slice(1, (long) i * c, (long) (i + 1) * c).slice(2, (long) j * c, (long) (j + 1) * c);
                    backend.copy(crop, out.select(0, (long) i * grid + j));
                }
            }
            if (config.imageGlobal) {
                backend.resizeBilinear(full.reshape(3, side, side, 1), out.select(0, grid * grid).reshape(3, c, c, 1));
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }
}
