package mgm.bench;

import java.util.Locale;

import mgm.model.llm.Decoder;
import mgm.model.llm.KvCache;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * Decode speed of two decoders alternating round by round in one JVM: on a host whose speed
 * drifts by tens of percent from minute to minute, only such pairs give a ratio worth quoting.
 * Each round is one prefill of the prompt and {@code generate} greedy steps per side.
 */
final class AlternatingDecode {
    private AlternatingDecode() {}

    /** One side: a label for the report, the decoder, its cache (room for prompt + generate) and its backend. */
    record Side(String label, Decoder decoder, KvCache cache, Backend backend) {}

    /** The mean decode tok/s of each side and the median of the per-round ratios b / a. */
    record Result(double meanA, double meanB, double medianRatio) {}

    /**
     * {@code warmups} untimed rounds (every kernel of both sides compiled), then {@code rounds}
     * timed ones, each printed; prints and returns the means.
     */
    static Result compare(Side a, Side b, int[] ids, int generate, int warmups, int rounds) {
        try (Tensor best = Tensor.allocate(DType.I32, 1)) {
            for (int w = 0; w < warmups; w++) {
                decodeRate(a, ids, generate, best);
                decodeRate(b, ids, generate, best);
            }
            double[] ratios = new double[rounds];
            double sumA = 0, sumB = 0;
            for (int r = 0; r < rounds; r++) {
                double ta = decodeRate(a, ids, generate, best);
                double tb = decodeRate(b, ids, generate, best);
                sumA += ta;
                sumB += tb;
                ratios[r] = tb / ta;
                System.out.printf(Locale.ROOT, "  round %d: %s %.2f tok/s, %s %.2f tok/s (%+.1f%%)%n", r, a.label(), ta, b.label(), tb,
                        100 * (tb / ta - 1));
            }
            Result result = new Result(sumA / rounds, sumB / rounds, Stats.median(ratios));
            System.out.printf(Locale.ROOT, "mean: %s %.2f tok/s, %s %.2f tok/s: %+.1f%% (median of the rounds %+.1f%%)%n", a.label(),
                    result.meanA(), b.label(), result.meanB(), 100 * (result.meanB() / result.meanA() - 1),
                    100 * (result.medianRatio() - 1));
            return result;
        }
    }

    private static double decodeRate(Side s, int[] ids, int generate, Tensor best) {
        return generate / DecoderReport.runOnce(s.decoder(), s.cache(), s.backend(), ids, generate, best)[1];
    }
}
