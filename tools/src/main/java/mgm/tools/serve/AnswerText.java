package mgm.tools.serve;

import java.util.List;
import mgm.loaders.tokenizer.PythonStrings;

/**
 * The answer as streamed pieces arrive: cut at the first stop sequence (which is not part of the
 * answer, as in OpenAI's API) and stripped of surrounding whitespace (as MGM strips its output).
 * {@link #push} returns only text that can no longer change: text that might be the start of a
 * stop sequence, and trailing whitespace, are held back. So the streamed deltas always add up to
 * the final {@link #text()}.
 */
final class AnswerText {
    private final List<String> stops;
    private final int longestStop;
    private final StringBuilder raw = new StringBuilder();
    /** Characters of {@code raw} known to be free of any stop sequence's start. */
    private int searched;
    /** End of the answer in {@code raw} once a stop sequence was found, else -1. */
    private int stoppedAt = -1;
    /** Characters of the final text handed out so far. */
    private int emitted;

    AnswerText(List<String> stops) {
        this.stops = List.copyOf(stops);
        this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Whether a stop sequence has been generated (generation should end). */
    boolean stopped() {
        return stoppedAt >= 0;
    }

    /** Adds generated text; returns the new part of the answer that is certain now. */
    String push(String piece) {
        if (stopped()) {
            return "";
        }
        raw.append(piece);
        int from = Math.max(0, searched - longestStop + 1);
        int best = -1;
        for (String s : stops) {
            int at = raw.indexOf(s, from);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        if (best >= 0) {
            stoppedAt = best;
            return take(best);
        }
        int safe = raw.length() - heldForStop();
        searched = raw.length();
        return take(safe);
    }

    /** The rest of the answer when generation is over. */
    String finish() {
        return take(stopped() ? stoppedAt : raw.length());
    }

    /** The whole answer: stripped, cut at a stop sequence. */
    String text() {
        return PythonStrings.strip(raw.substring(0, stopped() ? stoppedAt : raw.length()));
    }

    /** Length of the longest end of {@code raw} that begins some stop sequence. */
    private int heldForStop() {
        int max = Math.min(raw.length(), longestStop - 1);
        for (int n = max; n > 0; n--) {
            for (String s : stops) {
                if (s.length() > n && CharSequence.compare(raw.subSequence(raw.length() - n, raw.length()), s.substring(0, n)) == 0) {
                    return n;
                }
            }
        }
        return 0;
    }

    /** The final text's characters up to {@code end} of raw that were not handed out yet. */
    private String take(int end) {
        // The stripped prefix of raw is a prefix of the stripped whole: trailing whitespace is held back until
        // something follows it (or dropped at the end).
        String certain = PythonStrings.strip(raw.substring(0, end));
        if (certain.length() <= emitted) {
            return "";
        }
        String out = certain.substring(emitted);
        emitted = certain.length();
        return out;
    }
}
