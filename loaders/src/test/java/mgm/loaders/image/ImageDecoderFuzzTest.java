package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Mutated valid files (random byte flips, truncations, spliced garbage) either decode or fail with
 * an {@link ImageException} with a one-line message naming the file: never another exception, a
 * hang or running out of memory. {@code -Dmgm.fuzz.seed=S} picks another random sequence.
 */
class ImageDecoderFuzzTest {
    /** Mutations of each small fixture; {@code -Dmgm.fuzz.cases=N} runs more (as the other loaders' fuzz tests). */
    private static final int MUTATIONS_PER_SMALL_FILE = Integer.getInteger("mgm.fuzz.cases", 25);
    private static final int MUTATIONS_PER_PHOTO = 6;

    @Test
    void mutatedFilesGiveCleanErrors() throws IOException {
        List<Path> small;
        try (Stream<Path> s = Files.list(TestResources.path("decode"))) {
            small = s.filter(p -> p.toString().matches(".*\\.(png|jpg|gif|bmp|webp)$")).sorted().toList();
        }
        assertTrue(small.size() > 50, "fixtures found: " + small.size());
        Random random = new Random(Long.getLong("mgm.fuzz.seed", 20240611));
        ImageDecoder decoder = new ImageDecoder(4_000_000);
        int[] outcome = new int[2];
        for (Path p : small) {
            fuzz(decoder, Files.readAllBytes(p), p.getFileName().toString(), MUTATIONS_PER_SMALL_FILE, random, outcome);
        }
        for (String photo : new String[] {"chelsea.png", "rocket.jpg"}) {
            fuzz(decoder, TestResources.bytes("photos/" + photo), photo, MUTATIONS_PER_PHOTO, random, outcome);
        }
        System.out.println("fuzz: " + outcome[0] + " mutated files decoded, " + outcome[1] + " refused cleanly");
        assertTrue(outcome[1] > 0 && outcome[0] > 0, "both outcomes should occur");
    }

    private static void fuzz(ImageDecoder decoder, byte[] original, String name, int count, Random random, int[] outcome) {
        for (int i = 0; i < count; i++) {
            byte[] mutated = mutate(original, random);
            String label = name + "#" + i;
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                try {
                    RgbImage img = decoder.decode(mutated, label);
                    assertTrue(img.width() > 0 && img.height() > 0);
                    outcome[0]++;
                } catch (ImageException e) {
                    assertTrue(e.getMessage().startsWith(label + ": "), e.getMessage());
                    assertFalse(e.getMessage().contains("\n"), e.getMessage());
                    outcome[1]++;
                } catch (Throwable t) {
                    fail(label + ": unexpected " + t, t);
                }
            }, label + " hung");
        }
    }

    private static byte[] mutate(byte[] data, Random random) {
        byte[] out = data.clone();
        switch (random.nextInt(4)) {
            case 0 -> { // a few random bytes anywhere, biased to the header
                int n = 1 + random.nextInt(4);
                for (int k = 0; k < n; k++) {
                    int at = random.nextBoolean() ? random.nextInt(Math.min(out.length, 64)) : random.nextInt(out.length);
                    out[at] = (byte) random.nextInt(256);
                }
            }
            case 1 -> out = Arrays.copyOf(out, random.nextInt(out.length)); // truncation
            case 2 -> { // a run of garbage in the body
                int at = random.nextInt(out.length);
                int len = Math.min(out.length - at, 1 + random.nextInt(32));
                for (int k = 0; k < len; k++) {
                    out[at + k] = (byte) random.nextInt(256);
                }
            }
            default -> { // single bit flips
                for (int k = 0; k < 8; k++) {
                    int at = random.nextInt(out.length);
                    out[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
        }
        return out;
    }
}
