package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Small tokenizer.json files covering Metaspace (prepend_scheme first/always, split on/off),
 * ByteLevel with and without the GPT-2 regex, LLaMA-3's regex, the Split behaviours, Digits,
 * Whitespace, added tokens with lstrip/rstrip/single_word/normalized, byte fallback, fused unk,
 * NFKC/regex Replace normalizers and the Metaspace/ByteLevel/Strip decoders. The expected ids,
 * word boundaries and decodes come from the Rust tokenizers library (make_hf_fixtures.js).
 */
class HfPipelineTest {
    static final Path DIR = Path.of("src/test/resources/tokenizer/hf");

    @Test
    void everyFixtureRowMatchesTheRustLibrary() throws Exception {
        ObjectMapper m = new ObjectMapper();
        Map<String, HfTokenizer> toks = new HashMap<>();
        List<String> bad = new ArrayList<>();
        int rows = 0;
        for (String line : Files.readAllLines(DIR.resolve("expected.jsonl"))) {
            JsonNode r = m.readTree(line);
            String cfg = r.get("config").asText();
            HfTokenizer tok = toks.computeIfAbsent(cfg,
                    c -> HfTokenizer.load(DIR.resolve(c + ".tokenizer.json"), TokenizerConfig.EMPTY));
            String text = r.get("text").asText();
            boolean add = r.get("add_special_tokens").asBoolean();
            String where = cfg + " " + OnigRegex.quote(text) + " add=" + add;
            rows++;
            int[] want = SharedTokenizers.ids(r.get("ids"));
            int[] got = tok.encode(text, add);
            if (!Arrays.equals(want, got)) {
                bad.add(where + ": ids want " + Arrays.toString(want) + " got " + Arrays.toString(got));
            }
            if (r.get("words").isArray()) {
                List<String> wantWords = new ArrayList<>();
                for (JsonNode w : r.get("words")) {
                    wantWords.add(Arrays.toString(SharedTokenizers.ids(w)));
                }
                List<String> gotWords = tok.encodeWords(text).stream().map(Arrays::toString).toList();
                if (!wantWords.equals(gotWords)) {
                    bad.add(where + ": words want " + wantWords + " got " + gotWords);
                }
            }
            String dec = tok.decode(want, false);
            if (!dec.equals(r.get("decoded").asText())) {
                bad.add(where + ": decode want " + OnigRegex.quote(r.get("decoded").asText()) + " got " + OnigRegex.quote(dec));
            }
            String skip = tok.decode(want, true);
            if (!skip.equals(r.get("decoded_skip_special").asText())) {
                bad.add(where + ": decode(skip) want " + OnigRegex.quote(r.get("decoded_skip_special").asText())
                        + " got " + OnigRegex.quote(skip));
            }
        }
        System.out.println("tokenizer.json fixtures: " + rows + " rows, " + bad.size() + " mismatches");
        bad.stream().limit(60).forEach(b -> System.out.println("  " + b));
        assertEquals(List.of(), bad.stream().limit(8).toList());
    }
}
