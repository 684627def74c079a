package mgm.loaders.tokenizer;

/** transformers' clean_up_tokenization: removes the space before punctuation and English contractions. */
final class CleanUp {
    private CleanUp() {}

    static String apply(String s) {
        return s.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }
}
