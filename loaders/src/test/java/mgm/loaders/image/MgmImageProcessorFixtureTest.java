package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import mgm.runtime.Backend;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The whole preprocessing of the four photos against the reference pipeline re-run with PIL 9.4,
 * numpy and torch 1.13 (preprocess/make_preprocess_fixtures.py): decode, pad and 8-bit resize are
 * identical (SHA-256 of the pixels); the normalised high-res tensor is within the bound of
 * 1/255 after normalisation scaling (it is in fact identical); the low-res tensors (bilinear on the
 * backend, HD crops and global) within 1e-4 of PyTorch, on sampled grids and per-plane sums.
 */
class MgmImageProcessorFixtureTest {
    static final double LOW_RES_TOLERANCE = 1e-4;

    private final JsonNode fixtures;
    private final Backend backend = new ReferenceBackend();

    MgmImageProcessorFixtureTest() throws IOException {
        fixtures = new ObjectMapper().readTree(TestResources.bytes("preprocess/fixtures.json"));
    }

    @Test
    void padColourIsIntOfMeanTimes255() {
        int[] expected = new int[3];
        for (int c = 0; c < 3; c++) {
            expected[c] = fixtures.get("pad_colour").get(c).asInt();
        }
        assertArrayEquals(expected, MgmImageProcessor.padColour(MgmImageProcessor.clipMean()));
        assertArrayEquals(new int[] {122, 116, 104}, expected);
    }

    @Test
    void normalisationIsNumpysBitForBit() {
        float[] lut = FixtureData.floats(TestResources.bytes("preprocess/normalise_lut.f32"));
        float[][] ours = MgmImageProcessor.normalisationTable(MgmImageProcessor.clipMean(), MgmImageProcessor.clipStd());
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                assertEquals(Float.floatToIntBits(lut[c * 256 + v]), Float.floatToIntBits(ours[c][v]),
                        "channel " + c + " level " + v + ": " + ours[c][v] + " vs numpy " + lut[c * 256 + v]);
            }
        }
    }

    @TestFactory
    List<DynamicTest> photosMatchTheReference() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : fixtures.get("cases").properties()) {
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> checkCase(e.getKey(), e.getValue())));
        }
        return tests;
    }

    private void checkCase(String name, JsonNode c) throws IOException {
        RgbImage decoded = new ImageDecoder().decode(TestResources.path("photos/" + c.get("photo").asText()));
        assertEquals(c.get("decoded_sha256").asText(), FixtureData.sha256(decoded.toByteArray()),
                "decoded pixels differ from PIL's convert('RGB')");
        RgbImage image = decoded;
        if (!c.get("box").isNull()) {
            JsonNode b = c.get("box");
            image = FixtureData.crop(decoded, b.get(0).asInt(), b.get(1).asInt(), b.get(2).asInt(), b.get(3).asInt());
        }
        boolean pad = c.get("aspect").asText().equals("pad");
        MgmImageProcessor.Config config = MgmImageProcessor.Config.mgm(c.get("image_size_aux").asInt(),
                c.get("image_grid").asInt(), c.get("image_global").asBoolean(),
                pad ? MgmImageProcessor.AspectMode.PAD : MgmImageProcessor.AspectMode.RESIZE_AND_CROP);
        MgmImageProcessor processor = new MgmImageProcessor(config, backend);

        if (pad) {
            RgbImage square = MgmImageProcessor.expandToSquare(image, MgmImageProcessor.padColour(MgmImageProcessor.clipMean()));
            assertEquals(c.get("padded_size").get(0).asInt(), square.width());
            assertEquals(c.get("padded_sha256").asText(), FixtureData.sha256(square.toByteArray()), "padded image differs");
        }
        RgbImage pixels = processor.highResPixels(image);
        assertEquals(c.get("pixels_sha256").asText(), FixtureData.sha256(pixels.toByteArray()),
                "8-bit resized pixels differ from Pillow's");

        try (MgmImageProcessor.Output out = processor.process(image)) {
            int a = config.imageSizeAux();
            assertArrayEquals(new long[] {3, a, a}, out.highRes().shape());
            float[] hr = out.highRes().toFloatArray();
            double hrErr = compareSample(hr, 3, a, a, c.get("hr_sample"));
            double bound = 1.0 / 255 / minStd();
            assertTrue(hrErr <= bound, name + " high-res max abs error " + hrErr + " above 1/255/std = " + bound);
            assertEquals(0.0, hrErr, name + ": the high-res tensor should be identical (resize and normalisation are exact)");
            compareSums(hr, 3, c.get("hr_sums"), 1e-6, "high-res");

            int n = config.lowResCount();
            int crop = config.cropSize();
            assertArrayEquals(new long[] {n, 3, crop, crop}, out.lowRes().shape());
            float[] lr = out.lowRes().toFloatArray();
            double lrErr = compareSample(lr, n * 3, crop, crop, c.get("lr_sample"));
            assertTrue(lrErr <= LOW_RES_TOLERANCE, name + " low-res max abs error " + lrErr);
            compareSums(lr, n * 3, c.get("lr_sums"), LOW_RES_TOLERANCE, "low-res");
            System.out.printf("%s: high-res max abs error %.3g, low-res %.3g (sampled)%n", name, hrErr, lrErr);
        }
    }

    private static double minStd() {
        double m = Double.MAX_VALUE;
        for (double s : MgmImageProcessor.clipStd()) {
            m = Math.min(m, s);
        }
        return m;
    }

    /** Max abs difference between the fixture's sample grid and the same grid of {@code t}. */
    private static double compareSample(float[] t, int lead, int h, int w, JsonNode spec) {
        float[] expected = FixtureData.floats(TestResources.bytes("preprocess/" + spec.get("file").asText()));
        float[] ours = FixtureData.sample(t, lead, h, w, spec.get("stride").asInt(), spec.get("offset").asInt());
        assertEquals(expected.length, ours.length, "sample grid size");
        double max = 0;
        for (int i = 0; i < ours.length; i++) {
            max = Math.max(max, Math.abs(ours[i] - expected[i]));
        }
        return max;
    }

    /** Per-plane sums agree to {@code perElement} per element (sums of 10^5..10^6 floats). */
    private static void compareSums(float[] t, int planes, JsonNode expected, double perElement, String what) {
        double[] ours = FixtureData.planeSums(t, planes);
        int n = t.length / planes;
        for (int p = 0; p < planes; p++) {
            double diff = Math.abs(ours[p] - expected.get(p).asDouble());
            assertTrue(diff <= perElement * n, what + " plane " + p + " sum " + ours[p] + " vs " + expected.get(p).asDouble());
        }
    }

}
