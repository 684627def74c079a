package mgm.loaders.tokenizer;

/** Character classes with the exact Unicode meaning the Rust reference uses. */
final class Chars {
    private Chars() {}

    /** Unicode White_Space (what Rust's char::is_whitespace and regex {@code \s} test). */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** Regex {@code \w} in Unicode mode: alphabetic, marks, decimal digits, connector punctuation, joiners. */
    static boolean isWordChar(int cp) {
        if (Character.isAlphabetic(cp) || Character.isDigit(cp)) {
            return true;
        }
        int t = Character.getType(cp);
        return t == Character.NON_SPACING_MARK || t == Character.ENCLOSING_MARK
                || t == Character.COMBINING_SPACING_MARK || t == Character.CONNECTOR_PUNCTUATION
                || cp == 0x200C || cp == 0x200D;
    }
}
