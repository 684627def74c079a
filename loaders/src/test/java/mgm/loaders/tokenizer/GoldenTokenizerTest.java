package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every row of each family's golden.public.jsonl (ids from the reference implementation) must match
 * exactly: encode honouring add_special_tokens, decode with and without special tokens.
 */
class GoldenTokenizerTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama2", "mistral", "llama3", "llama3_bos", "gemma3"})
    void everyGoldenRowMatches(String family) {
        Path dir = SharedTokenizers.family(family);
        Tokenizer tok = SharedTokenizers.load(family);
        List<JsonNode> rows = SharedTokenizers.golden(dir);
        List<String> mismatches = new ArrayList<>();
        int checks = 0;
        for (JsonNode r : rows) {
            String text = r.get("text").asText();
            boolean add = r.get("add_special_tokens").asBoolean();
            int[] want = SharedTokenizers.ids(r.get("ids"));
            int[] got = tok.encode(text, add);
            checks++;
            if (!Arrays.equals(want, got)) {
                mismatches.add("encode " + r.get("id").asText() + " add=" + add + " " + OnigRegex.quote(abbrev(text))
                        + "\n    want " + abbrev(Arrays.toString(want)) + "\n    got  " + abbrev(Arrays.toString(got)));
            }
            checks += 2;
            String dec = tok.decode(want, false);
            if (!dec.equals(r.get("decoded").asText())) {
                mismatches.add("decode " + r.get("id").asText() + " want " + OnigRegex.quote(abbrev(r.get("decoded").asText()))
                        + " got " + OnigRegex.quote(abbrev(dec)));
            }
            String skip = tok.decode(want, true);
            if (!skip.equals(r.get("decoded_skip_special").asText())) {
                mismatches.add("decode(skip) " + r.get("id").asText() + " want "
                        + OnigRegex.quote(abbrev(r.get("decoded_skip_special").asText())) + " got " + OnigRegex.quote(abbrev(skip)));
            }
        }
        String summary = family + ": " + rows.size() + " rows, " + (checks - mismatches.size()) + "/" + checks
                + " checks match";
        System.out.println(summary);
        mismatches.stream().limit(40).forEach(m -> System.out.println("  " + m));
        assertEquals(List.of(), mismatches.stream().limit(10).toList(), summary);
    }

    static String abbrev(String s) {
        return s.length() > 160 ? s.substring(0, 160) + "..." : s;
    }
}
