package mgm.tools;

import static mgm.tools.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizeCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A tiny BPE tokenizer.json: "a b" merges to "ab", "<s>" is a special token added as BOS. */
    static Path tinyModel(Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version":"1.0","added_tokens":[{"id":3,"content":"<s>","single_word":false,"lstrip":false,
                 "rstrip":false,"normalized":false,"special":true}],
                 "normalizer":null,"pre_tokenizer":null,
                 "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},
                   {"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[3],"tokens":["<s>"]}}},
                 "decoder":null,
                 "model":{"type":"BPE","dropout":null,"unk_token":null,"vocab":{"a":0,"b":1,"ab":2,"<s>":3},"merges":["a b"]}}
                """);
        return dir;
    }

    @Test
    void linesMapToLinesAtTheSamePosition(@TempDir Path tmp) throws Exception {
        Path model = tinyModel(Files.createDirectory(tmp.resolve("m")));
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, """
                {"text": "abab", "add_special_tokens": true}
                {"text": "abab", "add_special_tokens": false}
                {"text": "ba"}
                {"text": ""}
                """);
        Path out = tmp.resolve("out.jsonl");
        CliRun r = run("tokenize", "--model-path", model.toString(), "--input-jsonl", in.toString(), "--output-jsonl", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(List.of(
                "{\"ids\":[3,2,2],\"decoded\":\"<s> ab ab\"}",
                "{\"ids\":[2,2],\"decoded\":\"ab ab\"}",
                "{\"ids\":[3,1,0],\"decoded\":\"<s> b a\"}",
                "{\"ids\":[3],\"decoded\":\"<s>\"}"), lines);
    }

    @Test
    void usageErrorsExitWith2(@TempDir Path tmp) {
        CliRun r = run("tokenize", "--model-path", tmp.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--input-jsonl"), r.err());
        assertEquals(2, run().code());
        assertEquals(2, run("tokenize", "--model-path", tmp.toString(), "--input-jsonl", "a", "--output-jsonl", "b",
                "--prefer", "medium").code());
        assertEquals(2, run("no-such-command").code());
    }

    @Test
    void fileErrorsExitWith3AndWriteNothing(@TempDir Path tmp) throws Exception {
        Path model = tinyModel(Files.createDirectory(tmp.resolve("m")));
        Path out = tmp.resolve("out.jsonl");
        Files.writeString(out, "previous\n");
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"text\": \"ab\"}\n{\"text\": 5}\n");
        CliRun r = run("tokenize", "--model-path", model.toString(), "--input-jsonl", in.toString(), "--output-jsonl", out.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("line 2") && r.err().contains("\"text\" must be a string"), r.err());
        assertEquals("previous\n", Files.readString(out), "the old output is untouched");
        try (var files = Files.list(tmp)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary left behind");
        }

        Files.writeString(in, "{not json\n");
        r = run("tokenize", "--model-path", model.toString(), "--input-jsonl", in.toString(), "--output-jsonl", out.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("line 1: malformed JSON"), r.err());

        r = run("tokenize", "--model-path", tmp.resolve("nope").toString(), "--input-jsonl", in.toString(),
                "--output-jsonl", out.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("nope") && r.err().contains("does not exist"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());

        r = run("tokenize", "--model-path", model.toString(), "--input-jsonl", tmp.resolve("missing.jsonl").toString(),
                "--output-jsonl", out.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("missing.jsonl: does not exist"), r.err());

        Files.writeString(model.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        r = run("tokenize", "--model-path", model.toString(), "--input-jsonl", in.toString(), "--output-jsonl", out.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("tokenizer.json") && r.err().contains("WordPiece"), r.err());
    }

    /** The real LLaMA-2 tokenizer on its golden rows, when the shared reference folder is there. */
    @Test
    void goldenRowsThroughTheCommand(@TempDir Path tmp) throws Exception {
        Path dir = null;
        String prop = System.getProperty("mgm.shared.tokenizers", System.getenv("MGM_SHARED_TOKENIZERS"));
        if (prop != null) {
            dir = Path.of(prop, "llama2");
        } else {
            for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
                if (Files.isDirectory(d.resolve("shared/tokenizers/llama2"))) {
                    dir = d.resolve("shared/tokenizers/llama2");
                    break;
                }
            }
        }
        assumeTrue(dir != null && Files.isDirectory(dir),
                "shared/tokenizers/llama2 not found (next to the checkout or -Dmgm.shared.tokenizers): skipping");
        List<String> in = new ArrayList<>();
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("golden.public.jsonl"))) {
            JsonNode r = JSON.readTree(line);
            rows.add(r);
            in.add(JSON.writeValueAsString(JSON.createObjectNode().put("text", r.get("text").asText())
                    .put("add_special_tokens", r.get("add_special_tokens").asBoolean())));
        }
        Path inFile = tmp.resolve("in.jsonl");
        Files.write(inFile, in);
        Path out = tmp.resolve("out.jsonl");
        CliRun r = run("tokenize", "--model-path", dir.toString(), "--input-jsonl", inFile.toString(), "--output-jsonl", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> outLines = Files.readAllLines(out);
        assertEquals(rows.size(), outLines.size());
        for (int i = 0; i < rows.size(); i++) {
            JsonNode o = JSON.readTree(outLines.get(i));
            assertEquals(rows.get(i).get("ids"), o.get("ids"), "row " + i);
            assertEquals(rows.get(i).get("decoded").asText(), o.get("decoded").asText(), "row " + i);
        }
    }
}
