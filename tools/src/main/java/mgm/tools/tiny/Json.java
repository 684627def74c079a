package mgm.tools.tiny;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import mgm.runtime.JsonStrings;

/**
 * Writes JSON the way Python's {@code json.dumps(obj, indent=2, ensure_ascii=False)} does (what
 * transformers uses for config files): two-space indentation, {@code ": "} after keys, floats in
 * Python's repr ({@code 1e-05}, {@code 10000.0}). Values are maps (insertion order kept unless
 * sorted), lists, strings, numbers, booleans and null.
 */
final class Json {
    private Json() {}

    /** Pretty JSON text ending with a newline; {@code sortKeys} sorts every map's keys as Python does. */
    static String write(Object value, boolean sortKeys) {
        StringBuilder b = new StringBuilder();
        append(b, value, 0, sortKeys);
        return b.append('\n').toString();
    }

    private static void append(StringBuilder b, Object v, int depth, boolean sortKeys) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String s) {
            JsonStrings.quote(b, s, false);
        } else if (v instanceof Boolean x) {
            b.append(x ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            b.append(pythonFloat(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
            b.append(n.longValue());
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            List<String> keys = new ArrayList<>();
            for (Object k : m.keySet()) {
                keys.add((String) k);
            }
            if (sortKeys) {
                keys.sort(JsonStrings::compareCodePoints);
            }
            b.append('{');
            for (int i = 0; i < keys.size(); i++) {
                b.append(i == 0 ? "\n" : ",\n");
                indent(b, depth + 1);
                JsonStrings.quote(b, keys.get(i), false);
                b.append(": ");
                append(b, m.get(keys.get(i)), depth + 1, sortKeys);
            }
            b.append('\n');
            indent(b, depth);
            b.append('}');
        } else if (v instanceof Collection<?> c) {
            if (c.isEmpty()) {
                b.append("[]");
                return;
            }
            b.append('[');
            int i = 0;
            for (Object x : c) {
                b.append(i++ == 0 ? "\n" : ",\n");
                indent(b, depth + 1);
                append(b, x, depth + 1, sortKeys);
            }
            b.append('\n');
            indent(b, depth);
            b.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getSimpleName() + " as JSON");
        }
    }

    private static void indent(StringBuilder b, int depth) {
        b.append("  ".repeat(depth));
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
    static String pythonFloat(double d) {
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException("JSON has no " + d);
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = exact.abs().toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

}
