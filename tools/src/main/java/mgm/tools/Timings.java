package mgm.tools;

import java.util.Locale;
import mgm.model.ChatSession;

/** The one line of timings printed after an answer. */
final class Timings {
    private Timings() {}

    /** e.g. {@code timings: image 412 ms | prompt 613 tokens (37 new) at 812.4 tok/s | 48 tokens at 11.9 tok/s}. */
    static String line(ChatSession.Stats s) {
        StringBuilder sb = new StringBuilder("timings: ");
        if (s.imageEncodeNanos() > 0) {
            sb.append(String.format(Locale.ROOT, "image encode %.0f ms | ", s.imageEncodeNanos() / 1e6));
        }
        int fresh = s.promptTokens() - s.cachedTokens();
        sb.append("prompt ").append(s.promptTokens()).append(" tokens");
        if (s.cachedTokens() > 0) {
            sb.append(" (").append(s.cachedTokens()).append(" cached, ").append(fresh).append(" new)");
        }
        sb.append(String.format(Locale.ROOT, ", prefill %.1f tok/s | ", s.prefillTokensPerSecond()));
        sb.append("generated ").append(s.generatedTokens()).append(s.generatedTokens() == 1 ? " token" : " tokens");
        sb.append(String.format(Locale.ROOT, ", decode %.1f tok/s", s.decodeTokensPerSecond()));
        return sb.toString();
    }
}
