package mgm.loaders.tokenizer;

import java.util.Arrays;

/**
 * Streaming detokenizer: feed ids as the model produces them and get back only text that later ids
 * cannot change. The concatenation of everything returned by {@link #push} and {@link #finish}
 * equals {@code tokenizer.decode(allIds, skipSpecialTokens)}.
 *
 * <p>Each step decodes the whole sequence (microseconds, next to milliseconds for a model step) and
 * holds back: a trailing run of byte tokens ({@code <0xXX>}) until a normal token closes it, trailing
 * U+FFFD (an incomplete byte-level sequence), and where the tokenizer cleans up spaces, the text from
 * a space among the last four characters (a " n't"-style rule may still rewrite it).
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private final boolean cleansUp;
    private int[] ids = new int[64];
    private int n;
    private final StringBuilder emitted = new StringBuilder();

    public StreamDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
        this.cleansUp = tokenizer instanceof HfTokenizer hf && hf.cleansUpSpaces()
                || tokenizer instanceof SentencePieceTokenizer sp && sp.cleansUpSpaces();
    }

    /** Adds one id and returns the newly stable text (possibly empty). */
    public String push(int id) {
        if (n == ids.length) {
            ids = Arrays.copyOf(ids, n * 2);
        }
        ids[n++] = id;
        int k = stableIdCount();
        String full = tokenizer.decode(Arrays.copyOf(ids, k), skipSpecial);
        int end = stableLength(full);
        return emit(full, end);
    }

    /** Returns whatever was held back; call once when generation stops. */
    public String finish() {
        String full = tokenizer.decode(Arrays.copyOf(ids, n), skipSpecial);
        return emit(full, full.length());
    }

    /** All ids pushed so far. */
    public int[] ids() {
        return Arrays.copyOf(ids, n);
    }

    private String emit(String full, int end) {
        int done = emitted.length();
        if (end <= done || !full.startsWith(emitted.toString())) {
            return "";
        }
        String out = full.substring(done, end);
        emitted.append(out);
        return out;
    }

    /**
     * Ids up to the start of the trailing run of byte tokens ({@code <0xXX>}; skipped special tokens
     * inside the run do not end it). The reference ByteFallback decoder turns a whole run into U+FFFD
     * when any byte of it is invalid, so even a valid run can change until a normal token closes it.
     */
    private int stableIdCount() {
        int r = n;
        boolean sawByte = false;
        while (r > 0) {
            int id = ids[r - 1];
            if (TokenDecoder.byteToken(String.valueOf(tokenizer.idToToken(id))) >= 0) {
                sawByte = true;
            } else if (!(skipSpecial && tokenizer.isSpecial(id))) {
                break;
            }
            r--;
        }
        return sawByte ? r : n;
    }

    private int stableLength(String full) {
        int done = emitted.length();
        int end = full.length();
        while (end > done && full.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        if (cleansUp) {
            for (int i = end - 1; i >= Math.max(done, end - 4); i--) {
                if (full.charAt(i) == ' ') {
                    end = i;
                    break;
                }
            }
        }
        if (end > done && Character.isHighSurrogate(full.charAt(end - 1))) {
            end--;
        }
        return end;
    }
}
