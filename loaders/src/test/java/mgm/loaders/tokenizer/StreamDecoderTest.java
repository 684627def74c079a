package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Streaming decode emits only settled text and adds up to the full decode. */
class StreamDecoderTest {
    static String stream(Tokenizer tok, int[] ids, boolean skip, boolean noReplacementMidway) {
        StreamDecoder d = tok.streamDecoder(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String piece = d.push(id);
            if (noReplacementMidway) {
                assertFalse(piece.contains("\uFFFD"), "emitted an incomplete character: " + OnigRegex.quote(piece));
            }
            sb.append(piece);
        }
        sb.append(d.finish());
        return sb.toString();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama2", "llama3", "gemma3"})
    void goldenRowsStreamToTheFullDecode(String family) {
        Path dir = SharedTokenizers.family(family);
        Tokenizer tok = SharedTokenizers.load(family);
        for (JsonNode r : SharedTokenizers.golden(dir)) {
            int[] ids = SharedTokenizers.ids(r.get("ids"));
            if (ids.length > 400) {
                continue; // each push decodes the whole prefix: keep the test quick
            }
            for (boolean skip : new boolean[] {false, true}) {
                String full = tok.decode(ids, skip);
                assertEquals(full, stream(tok, ids, skip, !full.contains("\uFFFD")), r.get("id").asText());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama2", "llama3"})
    void randomIdSequencesStreamToTheFullDecode(String family) {
        SharedTokenizers.family(family);
        Tokenizer tok = SharedTokenizers.load(family);
        Random rnd = new Random(7);
        // a pool rich in byte tokens, multi-byte characters and clean-up-sensitive punctuation
        IntList pool = new IntList();
        for (String s : new String[] {"😀 é ü 日本 👨‍👩‍👧", " . , ! ? ' n't 's 've 're 'm", "word words ", " a ' b "}) {
            pool.addAll(tok.encode(s, false));
        }
        for (int b = 0; b < 256; b += 7) {
            int id = tok.tokenToId(String.format("<0x%02X>", b));
            if (id >= 0) {
                pool.add(id);
            }
        }
        for (int trial = 0; trial < 400; trial++) {
            int[] ids = new int[1 + rnd.nextInt(24)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(tok.vocabSize()) : pool.get(rnd.nextInt(pool.size()));
            }
            String full = tok.decode(ids, true);
            assertEquals(full, stream(tok, ids, true, false), java.util.Arrays.toString(ids));
        }
    }

    @Test
    void sentencePieceWithByteFallback() {
        SentencePieceTokenizer tok = SentencePieceTokenizer.load(
                Path.of("src/test/resources/tokenizer/spm/bpe_nfkc_bytefallback.model"), TokenizerConfig.EMPTY);
        int[] ids = tok.encode("Emoji 😀👍🏽 and 日本語 text", true);
        assertEquals(tok.decode(ids, true), stream(tok, ids, true, true));
    }
}
