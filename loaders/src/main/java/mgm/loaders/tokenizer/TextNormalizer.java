package mgm.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A tokenizer.json "normalizer": rewrites the text of one piece (between added tokens) before splitting. */
interface TextNormalizer {
    String normalize(String s);

    /** Builds the normalizer described by {@code node}; null or JSON null gives the identity. */
    static TextNormalizer fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return s -> s;
        }
        String type = Json.text(node, "type");
        switch (type) {
            case "Sequence" -> {
                List<TextNormalizer> parts = new ArrayList<>();
                for (JsonNode n : Json.array(node, "normalizers")) {
                    parts.add(fromJson(n));
                }
                return s -> {
                    for (TextNormalizer p : parts) {
                        s = p.normalize(s);
                    }
                    return s;
                };
            }
            case "Prepend" -> {
                String prepend = Json.text(node, "prepend");
                return s -> s.isEmpty() ? s : prepend + s;
            }
            case "Append" -> {
                String append = Json.text(node, "append");
                return s -> s.isEmpty() ? s : s + append;
            }
            case "Replace" -> {
                return replacer(node);
            }
            case "NFC" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            }
            case "NFD" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            }
            case "NFKC" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            }
            case "NFKD" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            }
            case "Lowercase" -> {
                return s -> s.toLowerCase(Locale.ROOT);
            }
            case "Strip" -> {
                boolean left = Json.bool(node, "strip_left", true);
                boolean right = Json.bool(node, "strip_right", true);
                return s -> strip(s, left, right);
            }
            case "StripAccents" -> {
                return s -> s.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK)
                        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                        .toString();
            }
            case "Precompiled" -> {
                String b64 = Json.text(node, "precompiled_charsmap");
                PrecompiledCharsMap map = PrecompiledCharsMap.parse(Base64.getDecoder().decode(b64));
                return map::normalize;
            }
            default -> throw new IllegalArgumentException("normalizer type " + OnigRegex.quote(type)
                    + " is not supported (supported: Sequence, Prepend, Append, Replace, NFC, NFD, NFKC, NFKD,"
                    + " Lowercase, Strip, StripAccents, Precompiled)");
        }
    }

    private static TextNormalizer replacer(JsonNode node) {
        String content = Json.text(node, "content");
        JsonNode pattern = Json.object(node, "pattern");
        if (pattern.has("String")) {
            String literal = pattern.get("String").asText();
            if (literal.isEmpty()) {
                return s -> s;
            }
            return s -> s.replace(literal, content);
        }
        if (pattern.has("Regex")) {
            Pattern re = OnigRegex.compile(pattern.get("Regex").asText());
            String quoted = Matcher.quoteReplacement(content);
            return s -> re.matcher(s).replaceAll(quoted);
        }
        throw new IllegalArgumentException("Replace pattern must be {\"String\": ...} or {\"Regex\": ...}");
    }

    static String strip(String s, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        if (left) {
            while (b < e) {
                int cp = s.codePointAt(b);
                if (!Chars.isWhiteSpace(cp)) {
                    break;
                }
                b += Character.charCount(cp);
            }
        }
        if (right) {
            while (e > b) {
                int cp = s.codePointBefore(e);
                if (!Chars.isWhiteSpace(cp)) {
                    break;
                }
                e -= Character.charCount(cp);
            }
        }
        return s.substring(b, e);
    }
}
