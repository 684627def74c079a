package mgm.model.generate;

/**
 * How the next token is chosen, with HF {@code generate} semantics: temperature 0 means greedy;
 * otherwise repetition penalty, then temperature, then top-k, then top-p, then a draw from a
 * seeded generator.
 *
 * @param topK              0 disables
 * @param topP              1 disables
 * @param repetitionPenalty 1 disables (HF: a seen token's logit is divided by it when positive,
 *                          multiplied when negative)
 */
public record SamplingParams(float temperature, int topK, float topP, float repetitionPenalty, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 1f, 0L);

    public SamplingParams {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature " + temperature + " must be >= 0");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k " + topK + " must be >= 0");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p " + topP + " must be in (0, 1]");
        }
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition penalty " + repetitionPenalty + " must be > 0");
        }
    }

    public boolean greedy() {
        return temperature == 0f;
    }
}
