package mgm.loaders.config;

import java.util.List;

/**
 * HF {@code rope_scaling}: how RoPE frequencies are stretched beyond the trained context.
 *
 * @param type                           the scaling rule
 * @param factor                         the context stretch factor
 * @param lowFreqFactor                  LLAMA3 only (else NaN)
 * @param highFreqFactor                 LLAMA3 only (else NaN)
 * @param originalMaxPositionEmbeddings  LLAMA3 only (else 0)
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {

    public enum Type {
        /** Positions divided by {@code factor}. */
        LINEAR,
        /** NTK-aware base scaling once the sequence passes the trained length. */
        DYNAMIC,
        /** LLaMA-3.1's wavelength-dependent scaling. */
        LLAMA3
    }

    static final List<String> SUPPORTED = List.of("linear", "dynamic", "llama3");

    /** Reads {@code rope_scaling}; null when absent, null, or of type "default". */
    static RopeScaling read(ConfigReader config, int maxPositions) {
        ConfigReader r = config.objectOrNull("rope_scaling");
        if (r == null) {
            return null;
        }
        // transformers >= 4.43 writes "rope_type"; older configs "type".
        String name = r.has("rope_type") ? r.requiredString("rope_type") : r.optionalString("type", null);
        if (name == null) {
            throw r.missing("rope_type");
        }
        if (name.equals("default")) {
            return null;
        }
        if (!SUPPORTED.contains(name)) {
            throw r.invalid("key 'rope_scaling' type \"" + name + "\" is not supported (supported: "
                    + String.join(", ", SUPPORTED) + ")");
        }
        double factor = r.requiredDouble("factor", 0, 1024, true);
        if (name.equals("llama3")) {
            double low = r.requiredDouble("low_freq_factor", 0, 1e6, true);
            double high = r.requiredDouble("high_freq_factor", 0, 1e6, true);
            if (high <= low) {
                throw r.invalid("rope_scaling high_freq_factor " + high + " must exceed low_freq_factor " + low);
            }
            int original = r.requiredInt("original_max_position_embeddings", 1, maxPositions);
            return new RopeScaling(Type.LLAMA3, factor, low, high, original);
        }
        return new RopeScaling(name.equals("linear") ? Type.LINEAR : Type.DYNAMIC, factor, Double.NaN, Double.NaN, 0);
    }
}
