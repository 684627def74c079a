package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/**
 * Every element, not just the committed samples: compares with the full reference tensors that
 * {@code make_preprocess_fixtures.py --full DIR} writes (too large to commit). Runs only when the
 * environment variable {@code MGM_IMAGE_FULL_REF} names that directory.
 */
class PreprocessFullReferenceTest {

    @Test
    void everyElementMatchesTheReference() throws IOException {
        String dir = System.getenv("MGM_IMAGE_FULL_REF");
        assumeTrue(dir != null && Files.isDirectory(Path.of(dir)),
                "set MGM_IMAGE_FULL_REF to the --full directory of make_preprocess_fixtures.py to run this");
        JsonNode cases = new ObjectMapper().readTree(TestResources.bytes("preprocess/fixtures.json")).get("cases");
        for (Map.Entry<String, JsonNode> e : cases.properties()) {
            String name = e.getKey();
            JsonNode c = e.getValue();
            RgbImage image = new ImageDecoder().decode(TestResources.path("photos/" + c.get("photo").asText()));
            if (!c.get("box").isNull()) {
                JsonNode b = c.get("box");
                image = FixtureData.crop(image, b.get(0).asInt(), b.get(1).asInt(), b.get(2).asInt(), b.get(3).asInt());
            }
            MgmImageProcessor processor = new MgmImageProcessor(MgmImageProcessor.Config.mgm(c.get("image_size_aux").asInt(),
                    c.get("image_grid").asInt(), c.get("image_global").asBoolean(),
                    c.get("aspect").asText().equals("pad") ? MgmImageProcessor.AspectMode.PAD
                            : MgmImageProcessor.AspectMode.RESIZE_AND_CROP), new ReferenceBackend());
            byte[] pixels = Files.readAllBytes(Path.of(dir, name + "_pixels.rgb"));
            assertArrayEquals(pixels, processor.highResPixels(image).toByteArray(), name + " pixels");
            try (MgmImageProcessor.Output out = processor.process(image)) {
                double hr = maxAbs(out.highRes().toFloatArray(), Files.readAllBytes(Path.of(dir, name + "_hr.f32")));
                double lr = maxAbs(out.lowRes().toFloatArray(), Files.readAllBytes(Path.of(dir, name + "_lr.f32")));
                System.out.printf("%s: 8-bit pixels identical; high-res max abs error %.3g; low-res %s max abs error %.3g%n",
                        name, hr, java.util.Arrays.toString(out.lowRes().shape()), lr);
                assertEquals(0.0, hr, name + " high-res");
                assertTrue(lr <= MgmImageProcessorFixtureTest.LOW_RES_TOLERANCE, name + " low-res " + lr);
            }
        }
    }

    private static double maxAbs(float[] ours, byte[] reference) {
        float[] ref = FixtureData.floats(reference);
        assertEquals(ref.length, ours.length, "element count");
        double max = 0;
        for (int i = 0; i < ours.length; i++) {
            max = Math.max(max, Math.abs(ours[i] - ref[i]));
        }
        return max;
    }
}
