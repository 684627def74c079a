package mgm.loaders.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text, leftmost-longest (as tokenizers' Aho-Corasick does), honouring
 * single_word, lstrip and rstrip. A trie keyed by UTF-16 chars; a bitmap of first chars keeps the
 * common case (no token starts here) to one array read.
 */
final class AddedTokenMatcher {
    private static final class Node {
        Map<Character, Node> children;
        AddedToken token;
    }

    private final Node root = new Node();
    private final boolean[] firstCharBmp = new boolean[65536];
    private final boolean empty;

    AddedTokenMatcher(List<AddedToken> tokens, java.util.function.UnaryOperator<String> contentForm) {
        boolean any = false;
        for (AddedToken t : tokens) {
            String key = contentForm.apply(t.content());
            if (key.isEmpty()) {
                continue;
            }
            any = true;
            Node n = root;
            for (int i = 0; i < key.length(); i++) {
                if (n.children == null) {
                    n.children = new HashMap<>();
                }
                n = n.children.computeIfAbsent(key.charAt(i), c -> new Node());
            }
            if (n.token == null) {
                n.token = t; // first declaration wins, as the reference keeps the first pattern id
            }
            firstCharBmp[key.charAt(0)] = true;
        }
        empty = !any;
    }

    boolean isEmpty() {
        return empty;
    }

    /** A match: the token and the span it takes (widened by lstrip/rstrip). */
    record Match(AddedToken token, int start, int end) {}

    /** The longest added token starting at {@code i} of {@code s} (its bare span, no strip), or null. */
    private Match longestAt(String s, int i) {
        Node node = root;
        AddedToken best = null;
        int bestEnd = -1;
        for (int j = i; j < s.length(); j++) {
            node = node.children == null ? null : node.children.get(s.charAt(j));
            if (node == null) {
                break;
            }
            if (node.token != null) {
                best = node.token;
                bestEnd = j + 1;
            }
        }
        return best == null ? null : new Match(best, i, bestEnd);
    }

    /** Leftmost-longest split with no strip or single-word rules: (token or null, text) in order. */
    void splitPlain(String s, java.util.function.BiConsumer<AddedToken, String> sink) {
        int startOffset = 0;
        int i = 0;
        int n = s.length();
        while (i < n) {
            if (!firstCharBmp[s.charAt(i)]) {
                i++;
                continue;
            }
            Match found = longestAt(s, i);
            if (found == null) {
                i++;
                continue;
            }
            AddedToken best = found.token();
            int bestEnd = found.end();
            if (startOffset < i) {
                sink.accept(null, s.substring(startOffset, i));
            }
            sink.accept(best, s.substring(i, bestEnd));
            startOffset = bestEnd;
            i = bestEnd;
        }
        if (startOffset < n) {
            sink.accept(null, s.substring(startOffset));
        }
    }

    /** Splits {@code s} into text pieces (token null) and added-token matches, covering all of it. */
    void split(String s, java.util.function.Consumer<Match> sink) {
        int startOffset = 0;
        int i = 0;
        int n = s.length();
        while (i < n) {
            if (!firstCharBmp[s.charAt(i)]) {
                i++;
                continue;
            }
            Match found = longestAt(s, i);
            if (found == null) {
                i++;
                continue;
            }
            AddedToken best = found.token();
            int bestEnd = found.end();
            int start = i;
            int stop = bestEnd;
            if (best.singleWord()) {
                boolean startSpace = start == 0 || !Chars.isWordChar(s.codePointBefore(start));
                boolean stopSpace = stop == n || !Chars.isWordChar(s.codePointAt(stop));
                if (!startSpace || !stopSpace) {
                    i = bestEnd; // the reference's matcher resumes after a discarded match
                    continue;
                }
            }
            if (best.lstrip()) {
                int ns = start;
                while (ns > 0 && Chars.isWhiteSpace(s.codePointBefore(ns))) {
                    ns -= Character.charCount(s.codePointBefore(ns));
                }
                start = Math.max(ns, startOffset);
            }
            if (best.rstrip()) {
                while (stop < n && Chars.isWhiteSpace(s.codePointAt(stop))) {
                    stop += Character.charCount(s.codePointAt(stop));
                }
            }
            i = bestEnd; // the reference resumes after the token itself, not after stripped spaces
            if (start < startOffset) {
                continue; // overlaps the spaces a previous rstrip took
            }
            if (startOffset < start) {
                sink.accept(new Match(null, startOffset, start));
            }
            sink.accept(new Match(best, start, stop));
            startOffset = stop;
        }
        if (startOffset < n) {
            sink.accept(new Match(null, startOffset, n));
        }
    }
}
