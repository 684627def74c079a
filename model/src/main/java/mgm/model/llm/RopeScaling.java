package mgm.model.llm;

/**
 * HF {@code rope_scaling}: {@code type} (or {@code rope_type}) linear, dynamic or llama3, with
 * its factor and, for llama3, the frequency band limits.
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositions) {

    public RopeScaling {
        if (!type.equals("linear") && !type.equals("dynamic") && !type.equals("llama3")) {
            throw new IllegalArgumentException("rope_scaling type '" + type + "' is not supported (linear, dynamic, llama3)");
        }
        if (!(factor >= 1.0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("rope_scaling factor " + factor + " must be >= 1");
        }
    }
}
