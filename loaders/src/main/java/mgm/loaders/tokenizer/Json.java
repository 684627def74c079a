package mgm.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/** Small typed accessors over Jackson trees that fail with a message naming the missing key. */
final class Json {
    private Json() {}

    static String text(JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("\"" + key + "\" must be a string"
                    + (v == null ? " (missing)" : ", got " + v.getNodeType()));
        }
        return v.asText();
    }

    static String optText(JsonNode node, String key) {
        JsonNode v = node == null ? null : node.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    static boolean bool(JsonNode node, String key, boolean dflt) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("\"" + key + "\" must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    static Boolean optBool(JsonNode node, String key) {
        JsonNode v = node == null ? null : node.get(key);
        return v == null || !v.isBoolean() ? null : v.asBoolean();
    }

    static JsonNode array(JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.isArray()) {
            throw new IllegalArgumentException("\"" + key + "\" must be an array"
                    + (v == null ? " (missing)" : ", got " + v.getNodeType()));
        }
        return v;
    }

    static JsonNode object(JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.isObject()) {
            throw new IllegalArgumentException("\"" + key + "\" must be an object"
                    + (v == null ? " (missing)" : ", got " + v.getNodeType()));
        }
        return v;
    }
}
