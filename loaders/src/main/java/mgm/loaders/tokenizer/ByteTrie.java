package mgm.loaders.tokenizer;

import java.util.HashMap;
import java.util.Map;

/** A trie over UTF-8 bytes for the user-defined symbols (matched whole, never normalized or split). */
final class ByteTrie {
    private final Map<Integer, ByteTrie> children = new HashMap<>();
    private boolean terminal;

    void add(byte[] key) {
        ByteTrie t = this;
        for (byte b : key) {
            t = t.children.computeIfAbsent(b & 0xFF, x -> new ByteTrie());
        }
        t.terminal = true;
    }

    int longestMatch(byte[] in, int pos) {
        if (children.isEmpty()) {
            return 0;
        }
        ByteTrie t = this;
        int best = 0;
        for (int i = pos; i < in.length; i++) {
            t = t.children.get(in[i] & 0xFF);
            if (t == null) {
                break;
            }
            if (t.terminal) {
                best = i - pos + 1;
            }
        }
        return best;
    }
}
