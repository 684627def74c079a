package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every small file under {@code decode/} decodes to the pixels PIL 9.4 gives for
 * {@code Image.open(f).convert('RGB')} (made by decode/make_decode_fixtures.py): exactly, except
 * lossy WebP (see {@link #LOSSY_WEBP_MAX_DIFF}).
 */
class ImageDecoderFixtureTest {
    /**
     * Lossy WebP: the TwelveMonkeys VP8 decoder replicates chroma instead of libwebp's fancy
     * upsampling and rounds YUV → RGB its own way: measured max difference 15 levels on these
     * fixtures (24 on the 451x300 chelsea photo at quality 80). This bound is that measurement.
     */
    static final int LOSSY_WEBP_MAX_DIFF = 15;

    private final ImageDecoder decoder = new ImageDecoder();

    @TestFactory
    List<DynamicTest> decodesLikePil() throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(TestResources.bytes("decode/manifest.json"));
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : manifest.properties()) {
            String name = e.getKey();
            JsonNode info = e.getValue();
            if (info.get("tolerance").asInt() != 0) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(name + " (" + info.get("note").asText() + ")", () -> {
                RgbImage img = decoder.decode(TestResources.path("decode/" + name));
                assertEquals(info.get("width").asInt(), img.width(), "width");
                assertEquals(info.get("height").asInt(), img.height(), "height");
                byte[] expected = TestResources.bytes("decode/" + name + ".rgb");
                assertEquals(0, TestResources.maxDiff(img, expected), TestResources.firstDifference(img, expected));
            }));
        }
        return tests;
    }

    @Test
    void lossyWebpDifferenceIsBounded() throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(TestResources.bytes("decode/manifest.json"));
        for (Map.Entry<String, JsonNode> e : manifest.properties()) {
            if (e.getValue().get("tolerance").asInt() == 0) {
                continue;
            }
            RgbImage img = decoder.decode(TestResources.path("decode/" + e.getKey()));
            int diff = TestResources.maxDiff(img, TestResources.bytes("decode/" + e.getKey() + ".rgb"));
            System.out.println(e.getKey() + ": max abs difference from libwebp (PIL) = " + diff);
            assertTrue(diff <= LOSSY_WEBP_MAX_DIFF, e.getKey() + " differs from PIL by " + diff);
        }
    }
}
