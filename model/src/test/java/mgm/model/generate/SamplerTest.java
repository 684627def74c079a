package mgm.model.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Checks the sampler's filtering against a direct transcription of HF's warpers. */
class SamplerTest {

    @Test
    void greedyPicksTheFirstMaximum() {
        Sampler s = new Sampler(SamplingParams.GREEDY, 5);
        assertEquals(1, s.next(new float[] {0f, 3f, 3f, -1f, 2f}));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 2f, 0), 3);
        s.observe(0);
        s.observe(2);
        // 4/2 = 2 < 3 (token 1), and -1*2 = -2
        assertEquals(1, s.next(new float[] {4f, 3f, -1f}));
    }

    @Test
    void drawsOnlyFromTheTokensHfWouldKeep() {
        Random r = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            int vocab = 2 + r.nextInt(60);
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                logits[i] = (float) (r.nextGaussian() * 3);
            }
            int topK = r.nextBoolean() ? 0 : 1 + r.nextInt(vocab);
            float topP = r.nextBoolean() ? 1f : 0.05f + 0.9f * r.nextFloat();
            float temperature = 0.3f + r.nextFloat();
            boolean[] allowed = hfKeptTokens(logits, temperature, topK, topP);
            Sampler s = new Sampler(new SamplingParams(temperature, topK, topP, 1f, trial), vocab);
            for (int draw = 0; draw < 20; draw++) {
                int t = s.next(logits.clone());
                assertTrue(allowed[t], "token " + t + " is filtered out by HF's warpers (trial " + trial + ")");
            }
        }
    }

    @Test
    void frequenciesFollowTheRenormalisedDistribution() {
        float[] logits = {2f, 1f, 0f, -1f};
        Sampler s = new Sampler(new SamplingParams(1f, 3, 1f, 1f, 42), 4);
        int[] counts = new int[4];
        int draws = 200_000;
        for (int i = 0; i < draws; i++) {
            counts[s.next(logits.clone())]++;
        }
        double z = Math.exp(2) + Math.exp(1) + 1;
        assertEquals(0, counts[3]);
        assertEquals(Math.exp(2) / z, counts[0] / (double) draws, 0.005);
        assertEquals(Math.exp(1) / z, counts[1] / (double) draws, 0.005);
    }

    /** HF: temperature, TopKLogitsWarper, TopPLogitsWarper (sort ascending, remove cumsum <= 1 - p). */
    private static boolean[] hfKeptTokens(float[] logits, float temperature, int topK, float topP) {
        int n = logits.length;
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = logits[i] / temperature;
        }
        boolean[] keep = new boolean[n];
        Arrays.fill(keep, true);
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -s[i]));
        if (topK > 0) {
            for (int j = topK; j < n; j++) {
                keep[order[j]] = false;
            }
        }
        if (topP < 1f) {
            double max = Arrays.stream(s).max().orElseThrow();
            double total = 0;
            for (int i = 0; i < n; i++) {
                total += keep[i] ? Math.exp(s[i] - max) : 0;
            }
            double cum = 0;
            for (int j = n - 1; j >= 0; j--) {
                int i = order[j];
                if (!keep[i]) {
                    continue;
                }
                cum += Math.exp(s[i] - max) / total;
                if (cum <= 1 - topP && j != 0) {
                    keep[i] = false;
                }
            }
        }
        return keep;
    }
}
