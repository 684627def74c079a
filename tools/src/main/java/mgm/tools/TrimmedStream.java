package mgm.tools;

/**
 * Streams an answer as MGM prints its final text ({@code outputs.strip()}): leading whitespace is
 * dropped, and a run of whitespace is held back until something follows it, so that trailing
 * whitespace never reaches the screen.
 */
final class TrimmedStream {
    private final StringBuilder held = new StringBuilder();
    private boolean started;

    /** The part of {@code piece} (with what was held) that can be printed now. */
    String push(String piece) {
        String s = piece;
        if (!started) {
            int i = 0;
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            s = s.substring(i);
            if (s.isEmpty()) {
                return "";
            }
            started = true;
        }
        held.append(s);
        int end = held.length();
        while (end > 0 && Character.isWhitespace(held.charAt(end - 1))) {
            end--;
        }
        String ready = held.substring(0, end);
        held.delete(0, end);
        return ready;
    }
}
