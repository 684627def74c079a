package mgm.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A tokenizer.json "decoder": turns token strings back into text pieces (tokenizers' decode_chain). */
interface TokenDecoder {
    List<String> decodeChain(List<String> tokens);

    TokenDecoder NONE = tokens -> tokens;

    static TokenDecoder fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return null; // the caller joins tokens with spaces, as the reference does without a decoder
        }
        String type = Json.text(node, "type");
        switch (type) {
            case "Sequence" -> {
                List<TokenDecoder> parts = new ArrayList<>();
                for (JsonNode n : Json.array(node, "decoders")) {
                    TokenDecoder d = fromJson(n);
                    parts.add(d == null ? NONE : d);
                }
                return tokens -> {
                    for (TokenDecoder d : parts) {
                        tokens = d.decodeChain(tokens);
                    }
                    return tokens;
                };
            }
            case "Replace" -> {
                String content = Json.text(node, "content");
                JsonNode pattern = Json.object(node, "pattern");
                if (pattern.has("String")) {
                    String lit = pattern.get("String").asText();
                    return tokens -> lit.isEmpty() ? tokens : map(tokens, t -> t.replace(lit, content));
                }
                if (pattern.has("Regex")) {
                    Pattern re = OnigRegex.compile(pattern.get("Regex").asText());
                    String rep = Matcher.quoteReplacement(content);
                    return tokens -> map(tokens, t -> re.matcher(t).replaceAll(rep));
                }
                throw new IllegalArgumentException("Replace pattern must be {\"String\": ...} or {\"Regex\": ...}");
            }
            case "ByteFallback" -> {
                return TokenDecoder::byteFallback;
            }
            case "Fuse" -> {
                return tokens -> List.of(String.join("", tokens));
            }
            case "Strip" -> {
                String content = Json.text(node, "content");
                if (content.codePointCount(0, content.length()) != 1) {
                    throw new IllegalArgumentException("Strip content must be one character");
                }
                int c = content.codePointAt(0);
                int start = node.path("start").asInt(0);
                int stop = node.path("stop").asInt(0);
                return tokens -> map(tokens, t -> strip(t, c, start, stop));
            }
            case "ByteLevel" -> {
                return TokenDecoder::byteLevel;
            }
            case "Metaspace" -> {
                String rep = Json.text(node, "replacement");
                int r = rep.codePointAt(0);
                boolean dropFirst = PreTokenizer.PrependScheme.fromJson(node) != PreTokenizer.PrependScheme.NEVER;
                return tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        String t = tokens.get(i);
                        StringBuilder sb = new StringBuilder(t.length());
                        for (int k = 0; k < t.length(); ) {
                            int cp = t.codePointAt(k);
                            k += Character.charCount(cp);
                            if (cp == r) {
                                if (!(i == 0 && dropFirst)) {
                                    sb.append(' ');
                                }
                            } else {
                                sb.appendCodePoint(cp);
                            }
                        }
                        out.add(sb.toString());
                    }
                    return out;
                };
            }
            default -> throw new IllegalArgumentException("decoder type " + OnigRegex.quote(type)
                    + " is not supported (supported: Sequence, Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace)");
        }
    }

    private static List<String> map(List<String> tokens, java.util.function.UnaryOperator<String> f) {
        List<String> out = new ArrayList<>(tokens.size());
        for (String t : tokens) {
            out.add(f.apply(t));
        }
        return out;
    }

    /** Strips up to {@code start} leading and {@code stop} trailing {@code c}. */
    static String strip(String t, int c, int start, int stop) {
        int[] cps = t.codePoints().toArray();
        int b = 0;
        for (int i = 0; i < Math.min(start, cps.length); i++) {
            if (cps[i] != c) {
                break;
            }
            b = i + 1;
        }
        int e = cps.length;
        for (int i = 0; i < stop; i++) {
            int idx = cps.length - i - 1;
            if (idx < b || cps[idx] != c) {
                break;
            }
            e = idx;
        }
        return new String(cps, b, Math.max(0, e - b));
    }

    /** Runs of {@code <0xXX>} tokens become their UTF-8 text; an invalid run becomes one U+FFFD per byte. */
    static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = byteToken(t);
            if (b >= 0) {
                run.write(b);
                continue;
            }
            flushBytes(run, out);
            out.add(t);
        }
        flushBytes(run, out);
        return out;
    }

    private static void flushBytes(ByteArrayOutputStream run, List<String> out) {
        if (run.size() == 0) {
            return;
        }
        byte[] bytes = run.toByteArray();
        String s = Utf8.decodeStrict(bytes, 0, bytes.length);
        if (s != null) {
            out.add(s);
        } else {
            for (int i = 0; i < bytes.length; i++) {
                out.add(Utf8.REPLACEMENT);
            }
        }
        run.reset();
    }

    /** The byte of a {@code <0xXX>} token, or -1. */
    static int byteToken(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(t.charAt(3), 16);
        int lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** Maps byte-level chars back to bytes (a token with any other char keeps its own UTF-8), then decodes lossily. */
    static List<String> byteLevel(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            boolean mapped = true;
            for (int i = 0; i < t.length(); i++) {
                if (ByteLevel.charToByte(t.charAt(i)) < 0) {
                    mapped = false;
                    break;
                }
            }
            if (mapped) {
                for (int i = 0; i < t.length(); i++) {
                    bytes.write(ByteLevel.charToByte(t.charAt(i)));
                }
            } else {
                bytes.writeBytes(t.getBytes(StandardCharsets.UTF_8));
            }
        }
        return List.of(Utf8.decodeLossy(bytes.toByteArray()));
    }
}
