package mgm.loaders.tokenizer;

/**
 * Text to token ids and back, as the model's reference tokenizer does it. Implementations are
 * immutable and safe to use from several threads.
 */
public interface Tokenizer {
    /** Token ids of {@code text}; with {@code addSpecialTokens} the tokenizer's BOS/EOS template is applied. */
    int[] encode(String text, boolean addSpecialTokens);

    /**
     * Text of {@code ids}; with {@code skipSpecialTokens} special tokens are left out. An id outside
     * the vocabulary is skipped by the tokenizer.json implementation (as the Rust library does) and
     * rejected with IllegalArgumentException by the tokenizer.model one (as sentencepiece does).
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** Number of ids, including added tokens (the largest id + 1). */
    int vocabSize();

    /** Id of a token string (added tokens included), or -1. */
    int tokenToId(String token);

    /** Token string of an id, or null when the id is unknown. */
    String idToToken(int id);

    /** Whether {@code id} is a special token (skipped by {@code decode(ids, true)}). */
    boolean isSpecial(int id);

    /** BOS/EOS/UNK/PAD as configured for this checkpoint. */
    SpecialTokens specialTokens();

    /** A decoder for streaming generation that only emits complete text. */
    default StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens);
    }
}
