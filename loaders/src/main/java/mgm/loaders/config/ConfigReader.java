package mgm.loaders.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mgm.loaders.JsonFiles;

/**
 * Typed, validated access to one JSON object of a config file. Every getter names the key (with
 * its path, e.g. {@code vision_config.hidden_size}) and the file when a value is missing, of the
 * wrong type or outside its sane range. JSON {@code null} counts as absent, as in HF configs.
 */
final class ConfigReader {
    final Path file;
    final JsonNode node;
    private final String path;

    private ConfigReader(Path file, JsonNode node, String path) {
        this.file = file;
        this.node = node;
        this.path = path;
    }

    static ConfigReader of(Path file, JsonNode root) {
        if (!root.isObject()) {
            throw new ConfigException(file, "config must be a JSON object, not " + JsonFiles.typeOf(root));
        }
        return new ConfigReader(file, root, "");
    }

    static ConfigReader read(Path file) {
        return of(file, JsonFiles.read(file, "config"));
    }

    /** The same object, with keys reported under {@code prefix} (e.g. "vision_config."). */
    ConfigReader nested(String prefix) {
        return new ConfigReader(file, node, prefix);
    }

    /** The full name of {@code key} for messages. */
    String name(String key) {
        return path + key;
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    JsonNode raw(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    /** A nested object, or null when absent. */
    ConfigReader objectOrNull(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType(key, v, "an object");
        }
        return new ConfigReader(file, v, name(key) + ".");
    }

    ConfigReader object(String key) {
        ConfigReader r = objectOrNull(key);
        if (r == null) {
            throw missing(key);
        }
        return r;
    }

    // ------------------------------------------------------------------ integers

    int requiredInt(String key, long min, long max) {
        if (!has(key)) {
            throw missing(key);
        }
        return intValue(key, raw(key), min, max);
    }

    int optionalInt(String key, int fallback, long min, long max) {
        return has(key) ? intValue(key, raw(key), min, max) : fallback;
    }

    Integer nullableInt(String key, long min, long max) {
        return has(key) ? intValue(key, raw(key), min, max) : null;
    }

    private int intValue(String key, JsonNode v, long min, long max) {
        if (!v.isIntegralNumber() && !(v.isNumber() && v.canConvertToExactIntegral())) {
            throw wrongType(key, v, "an integer");
        }
        if (!v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw outOfRange(key, v, "[" + min + ", " + max + "]");
        }
        return (int) v.longValue();
    }

    /** An id or a list of ids (HF's {@code eos_token_id} may be either), each in [0, limit). */
    List<Integer> ids(String key, List<Integer> fallback, int limit) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        if (v.isNull()) {
            return List.of();
        }
        List<Integer> out = new ArrayList<>();
        if (v.isArray()) {
            for (JsonNode i : v) {
                out.add(intValue(key, i, 0, limit - 1L));
            }
        } else {
            out.add(intValue(key, v, 0, limit - 1L));
        }
        return List.copyOf(out);
    }

    // ------------------------------------------------------------------ floating point

    double requiredDouble(String key, double min, double max, boolean minExclusive) {
        if (!has(key)) {
            throw missing(key);
        }
        return doubleValue(key, raw(key), min, max, minExclusive);
    }

    double optionalDouble(String key, double fallback, double min, double max, boolean minExclusive) {
        return has(key) ? doubleValue(key, raw(key), min, max, minExclusive) : fallback;
    }

    Double nullableDouble(String key, double min, double max) {
        return has(key) ? doubleValue(key, raw(key), min, max, false) : null;
    }

    double doubleValue(String key, JsonNode v, double min, double max, boolean minExclusive) {
        if (!v.isNumber()) {
            throw wrongType(key, v, "a number");
        }
        double d = v.doubleValue();
        if (!Double.isFinite(d) || d > max || (minExclusive ? d <= min : d < min)) {
            throw outOfRange(key, v, (minExclusive ? "(" : "[") + min + ", " + max + "]");
        }
        return d;
    }

    // ------------------------------------------------------------------ others

    boolean optionalBool(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = raw(key);
        if (!v.isBoolean()) {
            throw wrongType(key, v, "true or false");
        }
        return v.booleanValue();
    }

    String requiredString(String key) {
        if (!has(key)) {
            throw missing(key);
        }
        return stringValue(key, raw(key));
    }

    String optionalString(String key, String fallback) {
        return has(key) ? stringValue(key, raw(key)) : fallback;
    }

    String stringValue(String key, JsonNode v) {
        if (!v.isTextual()) {
            throw wrongType(key, v, "a string");
        }
        return v.textValue();
    }

    /** One of {@code allowed}, or {@code fallback} when absent. */
    String choice(String key, String fallback, List<String> allowed) {
        String s = optionalString(key, fallback);
        if (s != null && !allowed.contains(s)) {
            throw new ConfigException(file, "key '" + name(key) + "' = \"" + s + "\" is not supported (supported: "
                    + String.join(", ", allowed) + ")");
        }
        return s;
    }

    /** A list of exactly {@code count} finite numbers, or {@code fallback} when absent. */
    List<Double> numbers(String key, List<Double> fallback, int count, double min, double max, boolean minExclusive) {
        JsonNode v = raw(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isArray() || v.size() != count) {
            throw wrongType(key, v, "a list of " + count + " numbers");
        }
        List<Double> out = new ArrayList<>();
        for (JsonNode n : v) {
            out.add(doubleValue(key, n, min, max, minExclusive));
        }
        return List.copyOf(out);
    }

    ConfigException missing(String key) {
        return new ConfigException(file, "key '" + name(key) + "' is missing");
    }

    ConfigException wrongType(String key, JsonNode v, String expected) {
        return new ConfigException(file, "key '" + name(key) + "' must be " + expected + ", not " + JsonFiles.typeOf(v)
                + " (" + clip(v.toString()) + ")");
    }

    ConfigException outOfRange(String key, JsonNode v, String range) {
        return new ConfigException(file, "key '" + name(key) + "' = " + clip(v.toString()) + " is outside the sane range " + range);
    }

    ConfigException invalid(String problem) {
        return new ConfigException(file, problem);
    }

    private static String clip(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
