package mgm.runtime;

/**
 * JSON string literals and key order as the writers whose files we reproduce byte for byte: Rust's
 * serde_json (safetensors headers, tokenizer.json), Python's {@code json.dumps} (configs with
 * {@code ensure_ascii=False}, shard indexes with the default {@code ensure_ascii=True}) and our
 * Chrome trace files. They agree on the short escapes ({@code \" \\ \n \r \t \b \f}) and on writing
 * other controls as a backslash, {@code u} and four hex digits; they differ only in whether
 * characters beyond ASCII are escaped.
 * (A JSON library is used wherever files are read; writing goes through here because the byte-exact
 * forms are what is being reproduced.)
 */
public final class JsonStrings {
    private JsonStrings() {}

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** {@code s} as a literal with controls escaped and everything else raw (serde_json; Python with ensure_ascii=False). */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        quote(b, s, false);
        return b.toString();
    }

    /** {@code s} as a literal with everything outside {@code ' '..'~'} escaped (Python's default ensure_ascii=True). */
    public static String quoteAscii(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        quote(b, s, true);
        return b.toString();
    }

    /**
     * Appends {@code s} as a literal; with {@code asciiOnly} every character outside {@code ' '..'~'}
     * is escaped as well (a character above U+FFFF as its two surrogates' escapes, as Python does).
     */
    public static void quote(StringBuilder b, String s, boolean asciiOnly) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || asciiOnly && c > 0x7e) {
                        b.append("\\u").append(HEX[c >> 12]).append(HEX[c >> 8 & 15]).append(HEX[c >> 4 & 15]).append(HEX[c & 15]);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /**
     * Python's str order, which {@code sort_keys=True} uses: by code point (Java's
     * {@code compareTo} orders UTF-16 units, which differs above U+FFFF).
     */
    public static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
