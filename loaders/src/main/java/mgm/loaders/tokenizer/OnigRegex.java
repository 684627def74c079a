package mgm.loaders.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles the Oniguruma-syntax regexes found in tokenizer.json with java.util.regex, keeping
 * their Unicode meaning: {@code \s}, {@code \w}, {@code \d} and {@code \b} are Unicode-aware in
 * Oniguruma, which in Java needs UNICODE_CHARACTER_CLASS; {@code \h} is a hex digit there (horizontal
 * space in Java); a bare script or property name such as {@code \p{Han}} needs Java's "Is" prefix.
 */
final class OnigRegex {
    private OnigRegex() {}

    static Pattern compile(String onig) {
        try {
            return Pattern.compile(translate(onig), Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("regex " + quote(onig) + " is not supported: "
                    + e.getDescription());
        }
    }

    static String translate(String p) {
        StringBuilder out = new StringBuilder(p.length() + 16);
        int i = 0;
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c != '\\' || i + 1 >= p.length()) {
                out.append(c);
                i++;
                continue;
            }
            char n = p.charAt(i + 1);
            if (n == 'h') {
                out.append("[0-9a-fA-F]");
                i += 2;
            } else if (n == 'H') {
                out.append("[^0-9a-fA-F]");
                i += 2;
            } else if ((n == 'p' || n == 'P') && i + 2 < p.length() && p.charAt(i + 2) == '{') {
                int close = p.indexOf('}', i + 3);
                if (close < 0) {
                    out.append(p, i, p.length());
                    break;
                }
                String name = p.substring(i + 3, close);
                boolean negate = name.startsWith("^");
                if (negate) {
                    name = name.substring(1);
                }
                char kind = negate ? (n == 'p' ? 'P' : 'p') : n;
                out.append('\\').append(kind).append('{').append(javaPropertyName(name)).append('}');
                i = close + 1;
            } else {
                out.append(c).append(n);
                i += 2;
            }
        }
        return out.toString();
    }

    /** General categories (L, Lu, N, ...) and explicit key=value forms pass; other names get "Is". */
    private static String javaPropertyName(String name) {
        if (name.length() <= 2 || name.contains("=") || name.startsWith("Is") || name.startsWith("In")) {
            return name;
        }
        return "Is" + name;
    }

    /** {@code s} as error messages show it: a JSON string literal, controls escaped. */
    static String quote(String s) {
        return mgm.runtime.JsonStrings.quote(s);
    }
}
