package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inputs that are one huge BPE word (no spaces: SentencePiece-style files have no pre-tokenizer
 * boundary to cut at) round-trip; the merge loop is O(n log n), so 300k characters take well under
 * a second where a quadratic loop would take minutes.
 */
class LongInputTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama2", "gemma3", "llama3"})
    void hugeSingleWordRoundTrips(String family) {
        Tokenizer tok = SharedTokenizers.load(family);
        Random rnd = new Random(3);
        StringBuilder sb = new StringBuilder();
        String alphabet = "abcdefghijklmnopqrstuvwxyzäöü日本語";
        while (sb.length() < 300_000) {
            sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
        String text = sb.toString();
        int[] ids = tok.encode(text, false);
        assertEquals(text, tok.decode(ids, false));
    }
}
