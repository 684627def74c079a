package mgm.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A tokenizer.json "pre_tokenizer": splits a normalized piece into words, each BPE-encoded alone. */
interface PreTokenizer {
    /** Appends the non-empty words of {@code piece} to {@code out}. */
    void split(Piece piece, List<Piece> out);

    /** GPT-2's split regex, used by ByteLevel with use_regex. */
    String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    static PreTokenizer fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return (p, out) -> {
                if (!p.text().isEmpty()) {
                    out.add(p);
                }
            };
        }
        String type = Json.text(node, "type");
        switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> parts = new ArrayList<>();
                for (JsonNode n : Json.array(node, "pretokenizers")) {
                    parts.add(fromJson(n));
                }
                return (p, out) -> {
                    List<Piece> cur = List.of(p);
                    for (PreTokenizer pt : parts) {
                        List<Piece> next = new ArrayList<>();
                        for (Piece c : cur) {
                            pt.split(c, next);
                        }
                        cur = next;
                    }
                    out.addAll(cur);
                };
            }
            case "Metaspace" -> {
                return metaspace(node);
            }
            case "ByteLevel" -> {
                boolean addPrefixSpace = Json.bool(node, "add_prefix_space", true);
                boolean useRegex = Json.bool(node, "use_regex", true);
                Pattern re = useRegex ? OnigRegex.compile(GPT2_REGEX) : null;
                return (p, out) -> {
                    String s = p.text();
                    if (addPrefixSpace && !s.startsWith(" ")) {
                        s = " " + s;
                    }
                    List<Piece> words = new ArrayList<>();
                    if (re != null) {
                        splitByPattern(new Piece(s, p.atOrigin()), re, null, SplitBehavior.ISOLATED, false, words);
                    } else if (!s.isEmpty()) {
                        words.add(new Piece(s, p.atOrigin()));
                    }
                    for (Piece w : words) {
                        out.add(new Piece(ByteLevel.encode(w.text()), w.atOrigin()));
                    }
                };
            }
            case "Split" -> {
                JsonNode pattern = Json.object(node, "pattern");
                SplitBehavior behavior = SplitBehavior.fromJson(Json.text(node, "behavior"));
                boolean invert = Json.bool(node, "invert", false);
                if (pattern.has("Regex")) {
                    Pattern re = OnigRegex.compile(pattern.get("Regex").asText());
                    return (p, out) -> splitByPattern(p, re, null, behavior, invert, out);
                }
                if (pattern.has("String")) {
                    String literal = pattern.get("String").asText();
                    return (p, out) -> splitByPattern(p, null, literal, behavior, invert, out);
                }
                throw new IllegalArgumentException("Split pattern must be {\"String\": ...} or {\"Regex\": ...}");
            }
            case "WhitespaceSplit" -> {
                Pattern ws = OnigRegex.compile("\\s+");
                return (p, out) -> splitByPattern(p, ws, null, SplitBehavior.REMOVED, false, out);
            }
            case "Whitespace" -> {
                Pattern words = OnigRegex.compile("\\w+|[^\\w\\s]+");
                return (p, out) -> splitByPattern(p, words, null, SplitBehavior.REMOVED, true, out);
            }
            case "Digits" -> {
                boolean individual = Json.bool(node, "individual_digits", false);
                Pattern digit = OnigRegex.compile("\\p{N}");
                SplitBehavior b = individual ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS;
                return (p, out) -> splitByPattern(p, digit, null, b, false, out);
            }
            default -> throw new IllegalArgumentException("pre_tokenizer type " + OnigRegex.quote(type)
                    + " is not supported (supported: Sequence, Metaspace, ByteLevel, Split, Whitespace,"
                    + " WhitespaceSplit, Digits)");
        }
    }

    private static PreTokenizer metaspace(JsonNode node) {
        String rep = Json.text(node, "replacement");
        if (rep.codePointCount(0, rep.length()) != 1) {
            throw new IllegalArgumentException("Metaspace replacement must be one character, got " + OnigRegex.quote(rep));
        }
        PrependScheme scheme = PrependScheme.fromJson(node);
        boolean split = Json.bool(node, "split", true);
        return (p, out) -> {
            String s = p.text().replace(" ", rep);
            boolean prepend = switch (scheme) {
                case ALWAYS -> !s.startsWith(rep);
                case FIRST -> !s.startsWith(rep) && p.atOrigin();
                case NEVER -> false;
            };
            if (prepend) {
                s = rep + s;
            }
            if (split) {
                splitByPattern(new Piece(s, p.atOrigin()), null, rep, SplitBehavior.MERGED_WITH_NEXT, false, out);
            } else if (!s.isEmpty()) {
                out.add(new Piece(s, p.atOrigin()));
            }
        };
    }

    /** Metaspace's prepend_scheme, read the way tokenizers reads old (add_prefix_space) and new files. */
    enum PrependScheme {
        ALWAYS, FIRST, NEVER;

        static PrependScheme fromJson(JsonNode node) {
            String s = Json.optText(node, "prepend_scheme");
            Boolean addPrefixSpace = Json.optBool(node, "add_prefix_space");
            PrependScheme scheme = s == null ? ALWAYS : switch (s) {
                case "always" -> ALWAYS;
                case "first" -> FIRST;
                case "never" -> NEVER;
                default -> throw new IllegalArgumentException("Metaspace prepend_scheme " + OnigRegex.quote(s)
                        + " is not one of always, first, never");
            };
            if (Boolean.FALSE.equals(addPrefixSpace)) {
                scheme = NEVER;
            }
            return scheme;
        }
    }

    /** How a Split keeps the matched delimiters (tokenizers' SplitDelimiterBehavior). */
    enum SplitBehavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

        static SplitBehavior fromJson(String s) {
            return switch (s) {
                case "Removed" -> REMOVED;
                case "Isolated" -> ISOLATED;
                case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
                case "MergedWithNext" -> MERGED_WITH_NEXT;
                case "Contiguous" -> CONTIGUOUS;
                default -> throw new IllegalArgumentException("Split behavior " + OnigRegex.quote(s) + " is not supported");
            };
        }
    }

    /**
     * Splits {@code piece} on the matches of a regex or a literal, keeping the delimiters as
     * {@code behavior} says; with {@code invert} the matches are the words and the rest delimiters.
     */
    static void splitByPattern(Piece piece, Pattern re, String literal, SplitBehavior behavior, boolean invert,
                               List<Piece> out) {
        String s = piece.text();
        if (s.isEmpty()) {
            return;
        }
        if (behavior == SplitBehavior.ISOLATED && !invert && re != null) {
            // the common case (GPT-2 / LLaMA-3 regexes): every match and every gap is a word
            Matcher m = re.matcher(s);
            int prev = 0;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue;
                }
                if (prev != m.start()) {
                    out.add(new Piece(s.substring(prev, m.start()), piece.atOrigin() && prev == 0));
                }
                out.add(new Piece(s.substring(m.start(), m.end()), piece.atOrigin() && m.start() == 0));
                prev = m.end();
            }
            if (prev != s.length()) {
                out.add(new Piece(s.substring(prev), piece.atOrigin() && prev == 0));
            }
            return;
        }
        // 1. (start, end, isMatch) spans that cover s.
        List<int[]> spans = new ArrayList<>();
        int prev = 0;
        if (re != null) {
            Matcher m = re.matcher(s);
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue; // empty matches delimit nothing
                }
                if (prev != m.start()) {
                    spans.add(new int[] {prev, m.start(), 0});
                }
                spans.add(new int[] {m.start(), m.end(), 1});
                prev = m.end();
            }
        } else if (!literal.isEmpty()) {
            int at;
            while ((at = s.indexOf(literal, prev)) >= 0) {
                if (prev != at) {
                    spans.add(new int[] {prev, at, 0});
                }
                spans.add(new int[] {at, at + literal.length(), 1});
                prev = at + literal.length();
            }
        }
        if (prev != s.length()) {
            spans.add(new int[] {prev, s.length(), 0});
        }
        if (invert) {
            for (int[] sp : spans) {
                sp[2] ^= 1;
            }
        }
        // 2. Group them by behavior; [start, end, remove].
        List<int[]> parts = new ArrayList<>();
        switch (behavior) {
            case ISOLATED -> {
                for (int[] sp : spans) {
                    parts.add(new int[] {sp[0], sp[1], 0});
                }
            }
            case REMOVED -> {
                for (int[] sp : spans) {
                    parts.add(new int[] {sp[0], sp[1], sp[2]});
                }
            }
            case CONTIGUOUS -> {
                boolean prevMatch = false;
                for (int[] sp : spans) {
                    boolean match = sp[2] == 1;
                    if (match == prevMatch && !parts.isEmpty()) {
                        parts.get(parts.size() - 1)[1] = sp[1];
                    } else {
                        parts.add(new int[] {sp[0], sp[1], 0});
                    }
                    prevMatch = match;
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean prevMatch = false;
                for (int[] sp : spans) {
                    boolean match = sp[2] == 1;
                    if (match && !prevMatch && !parts.isEmpty()) {
                        parts.get(parts.size() - 1)[1] = sp[1];
                    } else {
                        parts.add(new int[] {sp[0], sp[1], 0});
                    }
                    prevMatch = match;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean prevMatch = false;
                List<int[]> rev = new ArrayList<>();
                for (int i = spans.size() - 1; i >= 0; i--) {
                    int[] sp = spans.get(i);
                    boolean match = sp[2] == 1;
                    if (match && !prevMatch && !rev.isEmpty()) {
                        rev.get(rev.size() - 1)[0] = sp[0];
                    } else {
                        rev.add(new int[] {sp[0], sp[1], 0});
                    }
                    prevMatch = match;
                }
                for (int i = rev.size() - 1; i >= 0; i--) {
                    parts.add(rev.get(i));
                }
            }
        }
        for (int[] part : parts) {
            if (part[2] == 0 && part[1] > part[0]) {
                out.add(new Piece(s.substring(part[0], part[1]), piece.atOrigin() && part[0] == 0));
            }
        }
    }
}
