package mgm.loaders.tokenizer;

/** Python's str.strip/lstrip/rstrip with no argument (strip what str.isspace() calls whitespace). */
public final class PythonStrings {
    private PythonStrings() {}

    /** Python's str.isspace() for one code point: Unicode White_Space plus the separators U+001C..U+001F. */
    public static boolean isSpace(int cp) {
        return Chars.isWhiteSpace(cp) || (cp >= 0x1C && cp <= 0x1F);
    }

    public static String strip(String s) {
        return rstrip(lstrip(s));
    }

    public static String lstrip(String s) {
        int b = 0;
        while (b < s.length() && isSpace(s.codePointAt(b))) {
            b += Character.charCount(s.codePointAt(b));
        }
        return s.substring(b);
    }

    public static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && isSpace(s.codePointBefore(e))) {
            e -= Character.charCount(s.codePointBefore(e));
        }
        return s.substring(0, e);
    }
}
