package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** Processor plumbing beyond the reference fixtures: other grids, sizes, crops and argument checks. */
class MgmImageProcessorTest {
    private final Backend backend = new ReferenceBackend();

    @Test
    void gridCropsAreRowMajorTilesOfTheLowResImageAndGlobalComesLast() {
        MgmImageProcessor.Config config = new MgmImageProcessor.Config(100, 3, true, MgmImageProcessor.AspectMode.PAD,
                MgmImageProcessor.clipMean(), MgmImageProcessor.clipStd(), 20);
        assertEquals(10, config.lowResCount());
        RgbImage image = FixtureData.xorshiftImage(53, 31, 9);
        try (MgmImageProcessor.Output out = new MgmImageProcessor(config, backend).process(image);
             Tensor full = backend.allocate(DType.F32, 3, 60, 60, 1);
             Tensor global = backend.allocate(DType.F32, 3, 20, 20, 1)) {
            assertArrayEquals(new long[] {3, 100, 100}, out.highRes().shape());
            assertArrayEquals(new long[] {10, 3, 20, 20}, out.lowRes().shape());
            backend.resizeBilinear(out.highRes().reshape(3, 100, 100, 1), full);
            backend.resizeBilinear(full, global);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    for (int c = 0; c < 3; c++) {
                        for (int y = 0; y < 20; y++) {
                            for (int x = 0; x < 20; x++) {
                                assertEquals(full.getFloat(c, i * 20 + y, j * 20 + x, 0), out.lowRes().getFloat(i * 3 + j, c, y, x),
                                        "crop " + i + "," + j);
                            }
                        }
                    }
                }
            }
            assertArrayEquals(global.toFloatArray(), out.lowRes().select(0, 9).toFloatArray());
        }
    }

    @Test
    void gridWithoutGlobalHasOnlyCrops() {
        MgmImageProcessor.Config config = MgmImageProcessor.Config.mgm(64, 2, false, MgmImageProcessor.AspectMode.PAD);
        assertEquals(4, config.lowResCount());
        assertEquals(1, MgmImageProcessor.Config.mgm(64, 1, true, MgmImageProcessor.AspectMode.PAD).lowResCount(),
                "image_global only applies with image_grid >= 2, as in mgm/serve/cli.py");
    }

    @Test
    void paddingPlacesTheImageLikeExpand2square() {
        int[] bg = {122, 116, 104};
        RgbImage wide = FixtureData.xorshiftImage(7, 4, 3);
        RgbImage square = MgmImageProcessor.expandToSquare(wide, bg);
        assertEquals(7, square.width());
        assertEquals(7, square.height());
        // (W - H) // 2 = 1 row of background on top, 2 below.
        for (int x = 0; x < 7; x++) {
            assertEquals(122, square.get(x, 0, 0));
            assertEquals(wide.get(x, 0, 1), square.get(x, 1, 1));
            assertEquals(104, square.get(x, 6, 2));
        }
        RgbImage tall = FixtureData.xorshiftImage(2, 5, 4);
        RgbImage square2 = MgmImageProcessor.expandToSquare(tall, bg);
        assertEquals(116, square2.get(0, 2, 1)); // (5 - 2) // 2 = 1 column on the left
        assertEquals(tall.get(0, 2, 1), square2.get(1, 2, 1));
        assertEquals(122, square2.get(4, 4, 0));
        RgbImage sq = FixtureData.xorshiftImage(3, 3, 5);
        assertTrue(MgmImageProcessor.expandToSquare(sq, bg) == sq, "square images are returned as they are");
    }

    @Test
    void resizeSizesFollowHf() {
        assertArrayEquals(new int[] {1152, 768}, MgmImageProcessor.shortestEdgeSize(600, 400, 768));
        assertArrayEquals(new int[] {768, 1146}, MgmImageProcessor.shortestEdgeSize(201, 300, 768)); // int(768*300/201)=1146
        assertArrayEquals(new int[] {768, 768}, MgmImageProcessor.shortestEdgeSize(5, 5, 768));
    }

    @Test
    void centerCropPadsWithZerosWhenTheImageIsSmaller() {
        RgbImage img = FixtureData.xorshiftImage(3, 2, 6);
        RgbImage out = MgmImageProcessor.centerCrop(img, 5, 4);
        // HF: top = (2 - 4) // 2 = -1, left = (3 - 5) // 2 = -1: the image sits at (1, 1).
        assertEquals(0, out.get(0, 0, 0));
        assertEquals(img.get(0, 0, 2), out.get(1, 1, 2));
        assertEquals(img.get(2, 1, 0), out.get(3, 2, 0));
        assertEquals(0, out.get(4, 3, 1));
    }

    @Test
    void veryLongImagesInCropModeOnlyResizeTheCropWindow() {
        MgmImageProcessor.Config config = MgmImageProcessor.Config.mgm(64, 1, false, MgmImageProcessor.AspectMode.RESIZE_AND_CROP);
        MgmImageProcessor processor = new MgmImageProcessor(config, backend);
        RgbImage strip = FixtureData.xorshiftImage(20_000, 10, 11); // resized to 128000 x 64 before the crop
        RgbImage pixels = processor.highResPixels(strip);
        RgbImage full = PillowResize.bicubic(strip, 128_000, 64);
        assertTrue(FixtureData.crop(full, (128_000 - 64) / 2, 0, (128_000 - 64) / 2 + 64, 64).samePixels(pixels));
    }

    @Test
    void aspectModeFollowsProcessImages() {
        assertEquals(MgmImageProcessor.AspectMode.PAD, MgmImageProcessor.AspectMode.fromConfig("pad"));
        assertEquals(MgmImageProcessor.AspectMode.RESIZE_AND_CROP, MgmImageProcessor.AspectMode.fromConfig("square"));
        assertEquals(MgmImageProcessor.AspectMode.RESIZE_AND_CROP, MgmImageProcessor.AspectMode.fromConfig(null));
    }

    @Test
    void badConfigsAreRefused() {
        double[] m = MgmImageProcessor.clipMean();
        double[] s = MgmImageProcessor.clipStd();
        MgmImageProcessor.AspectMode pad = MgmImageProcessor.AspectMode.PAD;
        assertThrows(IllegalArgumentException.class, () -> new MgmImageProcessor.Config(0, 1, false, pad, m, s, 336));
        assertThrows(IllegalArgumentException.class, () -> new MgmImageProcessor.Config(768, 0, false, pad, m, s, 336));
        assertThrows(IllegalArgumentException.class, () -> new MgmImageProcessor.Config(768, 1, false, pad, new double[2], s, 336));
        assertThrows(IllegalArgumentException.class, () -> new MgmImageProcessor.Config(768, 1, false, pad, m, new double[] {1, 0, 1}, 336));
        assertThrows(IllegalArgumentException.class, () -> new MgmImageProcessor.Config(768, 1, false, null, m, s, 336));
        assertThrows(IllegalArgumentException.class, () -> new MgmImageProcessor(MgmImageProcessor.Config.mgm(768, 1, false, pad), null));
    }
}
