package mgm.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import mgm.model.generate.SamplingParams;
import picocli.CommandLine.Option;

/**
 * How answers are generated, with MGM's defaults (temperature 0.2, 512 new tokens). As in MGM,
 * which passes only the temperature to HF {@code generate}, top-p, top-k and the repetition
 * penalty come from the checkpoint's {@code generation_config.json} when it has them, otherwise
 * from HF's defaults (top-k 50, top-p 1, no penalty); the flags override them.
 */
public final class SamplingOptions {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.2",
            description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P",
            description = "Nucleus sampling mass in (0, 1] (default: generation_config.json's, else 1).")
    Float topP;

    @Option(names = "--top-k", paramLabel = "K",
            description = "Keep the K most likely tokens; 0 = all (default: generation_config.json's, else 50 as HF).")
    Integer topK;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the sampler (default: a new one each run).")
    Long seed;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "512",
            description = "Most tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    SamplingOptions() {}

    SamplingOptions(float temperature, int maxNewTokens) {
        this.temperature = temperature;
        this.maxNewTokens = maxNewTokens;
    }

    void validate() {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw MgmRun.CommandFailure.usage("--temperature must be >= 0, got " + temperature);
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw MgmRun.CommandFailure.usage("--top-p must be in (0, 1], got " + topP);
        }
        if (topK != null && topK < 0) {
            throw MgmRun.CommandFailure.usage("--top-k must be >= 0, got " + topK);
        }
        if (maxNewTokens < 1) {
            throw MgmRun.CommandFailure.usage("--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
    }

    /** The sampler settings for a checkpoint folder (reads its generation_config.json when present). */
    SamplingParams params(Path modelDir) {
        long s = seed != null ? seed : System.nanoTime() ^ Double.doubleToLongBits(Math.random());
        return params(modelDir, temperature, topP, topK, s);
    }

    /**
     * The sampler settings for a checkpoint folder: {@code topP} and {@code topK} when given (null:
     * generation_config.json's, else HF's defaults), the repetition penalty from the config.
     */
    public static SamplingParams params(Path modelDir, float temperature, Float topP, Integer topK, long seed) {
        JsonNode gen = generationConfig(modelDir);
        float p = topP != null ? topP : (float) number(gen, "top_p", 1.0);
        int k = topK != null ? topK : (int) number(gen, "top_k", 50);
        float penalty = (float) number(gen, "repetition_penalty", 1.0);
        if (!(p > 0 && p <= 1)) {
            p = 1f;
        }
        if (!(penalty > 0) || Float.isInfinite(penalty)) {
            penalty = 1f;
        }
        return new SamplingParams(temperature, Math.max(0, k), p, penalty, seed);
    }

    private static JsonNode generationConfig(Path dir) {
        Path f = dir.resolve("generation_config.json");
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(f.toFile());
            return n != null && n.isObject() ? n : null;
        } catch (IOException e) {
            return null; // HF ignores an unreadable generation config too, with a warning
        }
    }

    private static double number(JsonNode gen, String key, double fallback) {
        JsonNode v = gen == null ? null : gen.get(key);
        return v != null && v.isNumber() ? v.asDouble() : fallback;
    }
}
