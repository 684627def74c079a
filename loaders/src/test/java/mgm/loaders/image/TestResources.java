package mgm.loaders.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths and bytes of the committed fixtures under {@code src/test/resources/mgm/loaders/image}. */
final class TestResources {
    private TestResources() {}

    static Path path(String relative) {
        URL url = TestResources.class.getResource("/mgm/loaders/image/" + relative);
        if (url == null) {
            throw new IllegalStateException("missing test resource mgm/loaders/image/" + relative);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(String relative) {
        try {
            return Files.readAllBytes(path(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Largest per-channel difference between two images of the same size. */
    static int maxDiff(RgbImage a, byte[] expectedRgb) {
        byte[] got = a.toByteArray();
        if (got.length != expectedRgb.length) {
            throw new AssertionError("sizes differ: " + got.length + " vs " + expectedRgb.length + " bytes");
        }
        int max = 0;
        for (int i = 0; i < got.length; i++) {
            max = Math.max(max, Math.abs((got[i] & 0xFF) - (expectedRgb[i] & 0xFF)));
        }
        return max;
    }

    /** Where two equal-size images first differ, for failure messages. */
    static String firstDifference(RgbImage a, byte[] expectedRgb) {
        byte[] got = a.toByteArray();
        for (int i = 0; i < got.length; i++) {
            if (got[i] != expectedRgb[i]) {
                int p = i / 3;
                return "first difference at pixel (" + p % a.width() + ", " + p / a.width() + ") channel " + i % 3
                        + ": got " + (got[i] & 0xFF) + ", expected " + (expectedRgb[i] & 0xFF);
            }
        }
        return "identical";
    }
}
