package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonStrings} against the writers it reproduces. The expected literals were printed by
 * Python 3's {@code json.dumps(s)} and {@code json.dumps(s, ensure_ascii=False)} for the string
 * below (serde_json escapes the same characters as the latter), and the order by Python's
 * {@code sorted}.
 */
class JsonStringsTest {
    /** Quote, backslash, the short-escape controls, two other controls, DEL, non-ASCII in and beyond the BMP. */
    private static final String S = "a\"b\\c\n\r\t\b\f\u0001\u001f\u007f \u00e9\u20ac\uD83D\uDE00~ ";

    @Test
    void controlsOnlyAsPythonWithoutEnsureAsciiAndSerdeJson() {
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u007f \u00e9\u20ac\uD83D\uDE00~ \"", JsonStrings.quote(S));
    }

    @Test
    void asciiOnlyAsPythonsDefault() {
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f \\u00e9\\u20ac\\ud83d\\ude00~ \"", JsonStrings.quoteAscii(S));
    }

    @Test
    void appendsToABuilder() {
        StringBuilder b = new StringBuilder("x=");
        JsonStrings.quote(b, "\u0000", false);
        assertEquals("x=\"\\u0000\"", b.toString());
    }

    @Test
    void sortsByCodePointAsPython() {
        List<String> keys = new ArrayList<>(List.of("\uffff", "\uD83D\uDE00", "b", "a", "ab"));
        keys.sort(JsonStrings::compareCodePoints);
        assertEquals(List.of("a", "ab", "b", "\uffff", "\uD83D\uDE00"), keys);
        assertTrue("\uD83D\uDE00".compareTo("\uffff") < 0, "UTF-16 order differs here, which is why the code-point order exists");
    }
}
