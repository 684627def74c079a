package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random texts (all scripts, spaces, controls, special-token literals) and random id sequences
 * through the real tokenizer.json files, against the Rust tokenizers library
 * (resources/tokenizer/differential/make_differential.js). The tokenizer.json is loaded without its
 * tokenizer_config.json, as the library itself reads it (no transformers clean-up).
 */
class DifferentialTest {
    static final Path DIR = Path.of("src/test/resources/tokenizer/differential");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama2", "mistral", "llama3", "llama3_bos", "gemma3"})
    void randomInputsMatchTheRustLibrary(String family) throws Exception {
        Path dir = SharedTokenizers.family(family);
        HfTokenizer tok = HfTokenizer.load(dir.resolve("tokenizer.json"), TokenizerConfig.EMPTY);
        ObjectMapper m = new ObjectMapper();
        List<String> bad = new ArrayList<>();
        int rows = 0;
        for (String line : Files.readAllLines(DIR.resolve(family + ".jsonl"))) {
            JsonNode r = m.readTree(line);
            rows++;
            int[] ids = SharedTokenizers.ids(r.get("ids"));
            String where;
            if (r.get("kind").asText().equals("encode")) {
                String text = r.get("text").asText();
                where = "encode " + OnigRegex.quote(text);
                int[] got = tok.encode(text, r.get("add_special_tokens").asBoolean());
                if (!Arrays.equals(ids, got)) {
                    bad.add(where + ": want " + Arrays.toString(ids) + " got " + Arrays.toString(got));
                }
            } else {
                where = "decode " + Arrays.toString(ids);
            }
            String dec = tok.decode(ids, false);
            if (!dec.equals(r.get("decoded").asText())) {
                bad.add(where + ": decode want " + OnigRegex.quote(r.get("decoded").asText()) + " got " + OnigRegex.quote(dec));
            }
            String skip = tok.decode(ids, true);
            if (!skip.equals(r.get("decoded_skip_special").asText())) {
                bad.add(where + ": decode(skip) want " + OnigRegex.quote(r.get("decoded_skip_special").asText())
                        + " got " + OnigRegex.quote(skip));
            }
        }
        System.out.println(family + " differential: " + rows + " rows, " + bad.size() + " mismatches");
        bad.stream().limit(30).forEach(b -> System.out.println("  " + b));
        assertEquals(List.of(), bad.stream().limit(5).toList());
    }
}
