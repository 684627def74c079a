package mgm.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AnswerTextTest {
    /** What OpenAI + MGM define: cut at the earliest stop sequence, then strip. */
    private static String reference(String raw, List<String> stops) {
        int cut = raw.length();
        for (String s : stops) {
            int at = raw.indexOf(s);
            if (at >= 0 && at < cut) {
                cut = at;
            }
        }
        return raw.substring(0, cut).strip();
    }

    private static String streamed(AnswerText a, List<String> pieces) {
        StringBuilder out = new StringBuilder();
        for (String p : pieces) {
            out.append(a.push(p));
            if (a.stopped()) {
                break;
            }
        }
        out.append(a.finish());
        return out.toString();
    }

    @Test
    void stopSequenceSplitAcrossPiecesIsCutAndNeverStreamed() {
        AnswerText a = new AnswerText(List.of("STOP"));
        assertEquals("Hello", a.push("  Hello"));
        assertEquals("", a.push(" ST"), "a possible stop start and the space before it are held back");
        assertEquals("", a.push("O"));
        assertEquals("", a.push("P and more"));
        assertTrue(a.stopped());
        assertEquals("", a.finish());
        assertEquals("Hello", a.text());
    }

    @Test
    void heldTextThatIsNotAStopIsReleased() {
        AnswerText a = new AnswerText(List.of("STOP"));
        assertEquals("a", a.push("a ST"));
        assertEquals(" STAR", a.push("AR"));
        assertFalse(a.stopped());
        assertEquals("", a.finish());
        assertEquals("a STAR", a.text());
    }

    @Test
    void trailingWhitespaceIsDroppedAtTheEnd() {
        AnswerText a = new AnswerText(List.of());
        assertEquals("", a.push("\n "));
        assertEquals("x", a.push("x \n"));
        assertEquals(" \n y", a.push(" y"), "held whitespace is released once text follows it");
        assertEquals("", a.push("\n\n"));
        assertEquals("", a.finish());
        assertEquals("x \n y", a.text());
    }

    @Test
    void randomPiecesAlwaysAddUpToTheReference() {
        Random r = new Random(7);
        String alphabet = "ab \n</s>#";
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder raw = new StringBuilder();
            int n = r.nextInt(30);
            for (int i = 0; i < n; i++) {
                raw.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            List<String> stops = switch (trial % 4) {
                case 0 -> List.of();
                case 1 -> List.of("</s>");
                case 2 -> List.of("ab", "b#");
                default -> List.of("\n\n", "a a", "#");
            };
            List<String> pieces = new java.util.ArrayList<>();
            for (int i = 0; i < raw.length(); ) {
                int len = 1 + r.nextInt(4);
                pieces.add(raw.substring(i, Math.min(raw.length(), i + len)));
                i += len;
            }
            AnswerText a = new AnswerText(stops);
            String expected = reference(raw.toString(), stops);
            assertEquals(expected, streamed(a, pieces), "raw=" + raw + " stops=" + stops);
            assertEquals(expected, a.text());
        }
    }
}
