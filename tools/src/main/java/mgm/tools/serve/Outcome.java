package mgm.tools.serve;

/**
 * A finished answer and what it cost.
 *
 * @param finishReason     OpenAI's: {@code stop} (end of turn or a stop sequence) or {@code length}
 * @param promptTokens     positions the prompt took, image tokens included
 * @param completionTokens tokens generated
 */
record Outcome(String text, String finishReason, int promptTokens, int completionTokens, Timings timings) {

    /**
     * Where the time went, in nanoseconds; sent to clients as {@code mgm_timings}. {@code queueNanos}
     * is the wait for the model; {@code totalNanos} and {@code firstTokenNanos} count from the moment
     * the request was admitted (reading and checking it included).
     */
    record Timings(long queueNanos, long imageDecodeNanos, long imageEncodeNanos, long prefillNanos, int prefillTokens,
                   long decodeNanos, long totalNanos, double decodeTokensPerSecond, long firstTokenNanos) {
        double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : prefillTokens * 1e9 / prefillNanos;
        }
    }
}
