package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * tokenizer.model against the real sentencepiece library: two small BPE models trained by
 * src/test/resources/tokenizer/spm/make_spm_fixtures.py (ids and decodes it recorded), and the
 * LLaMA-2 tokenizer.model of the shared folder with its golden ids.
 */
class SentencePieceModelTest {
    static final Path SPM = Path.of("src/test/resources/tokenizer/spm");

    static List<JsonNode> expected() throws Exception {
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(SPM.resolve("expected.jsonl"))) {
            rows.add(m.readTree(line));
        }
        return rows;
    }

    @Test
    void trainedModelsMatchSentencepiece() throws Exception {
        List<String> bad = new ArrayList<>();
        int n = 0;
        for (JsonNode r : expected()) {
            SentencePieceModel sp = SentencePieceModel.load(SPM.resolve(r.get("model").asText() + ".model"));
            switch (r.get("kind").asText()) {
                case "encode" -> {
                    n++;
                    int[] want = SharedTokenizers.ids(r.get("ids"));
                    int[] got = sp.encode(r.get("text").asText());
                    if (!Arrays.equals(want, got)) {
                        bad.add(r.get("model").asText() + " encode " + OnigRegex.quote(r.get("text").asText()) + " want "
                                + Arrays.toString(want) + " got " + Arrays.toString(got));
                    }
                    String dec = sp.decode(want);
                    if (!dec.equals(r.get("decoded").asText())) {
                        bad.add(r.get("model").asText() + " decode of " + OnigRegex.quote(r.get("text").asText()) + " want "
                                + OnigRegex.quote(r.get("decoded").asText()) + " got " + OnigRegex.quote(dec));
                    }
                }
                case "decode" -> {
                    n++;
                    String dec = sp.decode(SharedTokenizers.ids(r.get("ids")));
                    if (!dec.equals(r.get("decoded").asText())) {
                        bad.add(r.get("model").asText() + " decode " + r.get("ids") + " want "
                                + OnigRegex.quote(r.get("decoded").asText()) + " got " + OnigRegex.quote(dec));
                    }
                }
                case "info" -> {
                    assertEquals(r.get("size").asInt(), sp.size());
                    assertEquals(r.get("unk").asInt(), sp.unkId());
                    assertEquals(r.get("bos").asInt(), sp.bosId());
                    assertEquals(r.get("eos").asInt(), sp.eosId());
                    for (int i = 0; i < sp.size(); i++) {
                        assertEquals(r.get("pieces").get(i).asText(), sp.idToPiece(i), "piece " + i);
                        assertEquals(r.get("scores").get(i).floatValue(), sp.score(i), "score " + i);
                    }
                    for (JsonNode c : r.get("control")) {
                        assertTrue(sp.isControl(c.asInt()));
                    }
                    for (JsonNode c : r.get("byte")) {
                        assertTrue(sp.isByte(c.asInt()));
                    }
                }
                default -> throw new AssertionError(r);
            }
        }
        System.out.println("trained sentencepiece models: " + (n - bad.size()) + "/" + n + " rows match");
        bad.forEach(b -> System.out.println("  " + b));
        assertEquals(List.of(), bad);
    }

    @Test
    void llama2TokenizerModelMatchesGolden() {
        Path dir = SharedTokenizers.family("llama2-spm");
        SentencePieceModel sp = SentencePieceModel.load(dir.resolve("tokenizer.model"));
        Tokenizer slow = Tokenizers.load(dir); // tokenizer_config.json: LlamaTokenizer, legacy=false
        List<String> bad = new ArrayList<>();
        List<JsonNode> rows = SharedTokenizers.golden(dir);
        for (JsonNode r : rows) {
            String text = r.get("text").asText();
            int[] want = SharedTokenizers.ids(r.get("ids"));
            int[] got = sp.encode(text);
            int[] withBos = new int[got.length + 1];
            withBos[0] = sp.bosId();
            System.arraycopy(got, 0, withBos, 1, got.length);
            if (!Arrays.equals(want, withBos)) {
                bad.add("sp encode " + OnigRegex.quote(text) + " want " + Arrays.toString(want) + " got " + Arrays.toString(withBos));
            }
            if (!Arrays.equals(want, slow.encode(text, true))) {
                bad.add("slow encode " + OnigRegex.quote(text) + " want " + Arrays.toString(want) + " got "
                        + Arrays.toString(slow.encode(text, true)));
            }
            String dec = sp.decode(Arrays.copyOfRange(want, 1, want.length));
            if (!dec.equals(r.get("decoded_skip_special").asText())) {
                bad.add("sp decode " + OnigRegex.quote(text) + " want " + OnigRegex.quote(r.get("decoded_skip_special").asText())
                        + " got " + OnigRegex.quote(dec));
            }
        }
        System.out.println("llama2-spm: " + rows.size() + " rows, " + bad.size() + " mismatches");
        bad.stream().limit(30).forEach(b -> System.out.println("  " + b));
        assertEquals(List.of(), bad.stream().limit(5).toList());
    }

    @Test
    void unigramModelIsRefusedByName() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> SentencePieceModel.load(SPM.resolve("unigram.model")));
        assertTrue(e.getMessage().contains("unigram.model") && e.getMessage().contains("UNIGRAM"), e.getMessage());
    }

    @Test
    void pieceLookups() {
        SentencePieceModel sp = SentencePieceModel.load(SPM.resolve("bpe_identity_unk.model"));
        assertEquals(sp.unkId(), sp.pieceToId("no such piece"));
        assertArrayEquals(new int[0], sp.encode(""));
    }
}
