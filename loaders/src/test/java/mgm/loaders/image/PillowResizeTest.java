package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Pillow's bicubic resize, bit for bit, on synthetic images resized by Pillow 9.4 itself. */
class PillowResizeTest {

    @TestFactory
    List<DynamicTest> matchesPillowBitForBit() throws IOException {
        JsonNode resizes = new ObjectMapper().readTree(TestResources.bytes("preprocess/fixtures.json")).get("resize");
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : resizes.properties()) {
            JsonNode c = e.getValue();
            int sw = c.get("src").get(0).asInt();
            int sh = c.get("src").get(1).asInt();
            int dw = c.get("dst").get(0).asInt();
            int dh = c.get("dst").get(1).asInt();
            tests.add(DynamicTest.dynamicTest(e.getKey() + " " + sw + "x" + sh + " -> " + dw + "x" + dh, () -> {
                RgbImage src = c.get("kind").asText().equals("noise")
                        ? FixtureData.xorshiftImage(sw, sh, c.get("seed").asInt()) : FixtureData.gradientImage(sw, sh);
                assertEquals(c.get("input_sha256").asText(), FixtureData.sha256(src.toByteArray()),
                        "the Java generator must rebuild the script's input");
                RgbImage out = PillowResize.bicubic(src, dw, dh);
                assertEquals(dw, out.width());
                assertEquals(dh, out.height());
                if (c.has("pixels_base64")) {
                    assertArrayEquals(Base64.getDecoder().decode(c.get("pixels_base64").asText()), out.toByteArray());
                }
                assertEquals(c.get("sha256").asText(), FixtureData.sha256(out.toByteArray()), "output differs from Pillow's");
            }));
        }
        return tests;
    }

    @Test
    void kernelIsPillowsBicubic() {
        assertEquals(1.0, PillowResize.bicubicKernel(0), 0);
        assertEquals(0.0, PillowResize.bicubicKernel(1), 0);
        assertEquals(0.0, PillowResize.bicubicKernel(2), 0);
        assertEquals(0.5625, PillowResize.bicubicKernel(0.5), 1e-15); // 1.5*.125 - 2.5*.25 + 1
        assertEquals(-0.0625, PillowResize.bicubicKernel(-1.5), 1e-15);
    }

    @Test
    void fixedPointTapsSumToOneAndDownscalingWidensTheSupport() {
        PillowResize.Coefficients up = PillowResize.Coefficients.bicubic(10, 40);
        PillowResize.Coefficients down = PillowResize.Coefficients.bicubic(1000, 100);
        assertEquals(5, up.ksize);
        assertEquals(2 * 20 + 1, down.ksize);
        for (PillowResize.Coefficients c : List.of(up, down)) {
            for (int i = 0; i < c.start.length; i++) {
                long sum = 0;
                for (int t = 0; t < c.count[i]; t++) {
                    sum += c.fixed[i * c.ksize + t];
                }
                assertTrue(Math.abs(sum - (1 << 22)) <= c.count[i], "taps of output " + i + " sum to " + sum);
            }
        }
    }

    @Test
    void windowsEqualCropsOfTheFullResize() {
        java.util.Random random = new java.util.Random(7);
        int[][] cases = {{37, 23, 768, 500}, {1000, 700, 333, 517}, {64, 48, 100, 48}, {64, 48, 64, 17}, {31, 17, 31, 17}};
        for (int[] c : cases) {
            RgbImage src = FixtureData.xorshiftImage(c[0], c[1], c[0] + c[1]);
            RgbImage full = PillowResize.bicubic(src, c[2], c[3]);
            for (int i = 0; i < 5; i++) {
                int w = 1 + random.nextInt(c[2]);
                int h = 1 + random.nextInt(c[3]);
                int x0 = random.nextInt(c[2] - w + 1);
                int y0 = random.nextInt(c[3] - h + 1);
                RgbImage window = PillowResize.bicubicWindow(PillowResize.rowsOf(src), c[2], c[3], x0, y0, w, h);
                assertTrue(FixtureData.crop(full, x0, y0, x0 + w, y0 + h).samePixels(window),
                        "window " + w + "x" + h + " at " + x0 + "," + y0 + " of " + java.util.Arrays.toString(c));
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> PillowResize.bicubicWindow(PillowResize.rowsOf(FixtureData.xorshiftImage(4, 4, 1)), 8, 8, 5, 0, 4, 4));
    }

    @Test
    void rejectsEmptyTargets() {
        RgbImage img = FixtureData.xorshiftImage(4, 4, 1);
        assertThrows(IllegalArgumentException.class, () -> PillowResize.bicubic(img, 0, 3));
    }
}
