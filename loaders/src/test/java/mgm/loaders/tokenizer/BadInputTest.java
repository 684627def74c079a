package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unusable tokenizer files give one-line TokenizerExceptions naming the file and the problem. */
class BadInputTest {
    static final Path HF = Path.of("src/test/resources/tokenizer/hf");
    static final Path SPM = Path.of("src/test/resources/tokenizer/spm");

    static TokenizerException fails(Path dir) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    static void assertMentions(TokenizerException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "\"" + e.getMessage() + "\" should mention " + p);
        }
    }

    static Path withJson(Path dir, String json) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), json);
        return dir;
    }

    @Test
    void missingThings(@TempDir Path tmp) {
        assertMentions(fails(tmp.resolve("absent")), "absent", "does not exist");
        assertMentions(fails(tmp), tmp.toString(), "neither tokenizer.json nor tokenizer.model");
    }

    @Test
    void malformedJson(@TempDir Path tmp) throws Exception {
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"BPE\", ")), "tokenizer.json", "malformed JSON");
        assertMentions(fails(withJson(tmp, "[1, 2]")), "tokenizer.json", "not a JSON object");
        assertMentions(fails(withJson(tmp, "")), "tokenizer.json");
        assertMentions(fails(withJson(tmp, "{\"version\": \"1.0\"}")), "tokenizer.json", "no \"model\"");
    }

    @Test
    void unsupportedModelTypes(@TempDir Path tmp) throws Exception {
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}")),
                "tokenizer.json", "WordPiece", "not supported");
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", -1.0]]}}")),
                "tokenizer.json", "Unigram", "not supported");
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}")), "WordLevel");
    }

    static final String TINY_MODEL = "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\"]}";

    @Test
    void unsupportedPipelinePieces(@TempDir Path tmp) throws Exception {
        assertMentions(fails(withJson(tmp, "{\"normalizer\": {\"type\": \"BertNormalizer\"}, " + TINY_MODEL + "}")),
                "normalizer type \"BertNormalizer\" is not supported");
        assertMentions(fails(withJson(tmp, "{\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, " + TINY_MODEL + "}")),
                "pre_tokenizer type \"BertPreTokenizer\"");
        assertMentions(fails(withJson(tmp, "{\"decoder\": {\"type\": \"WordPiece\"}, " + TINY_MODEL + "}")),
                "decoder type \"WordPiece\"");
        assertMentions(fails(withJson(tmp, "{\"post_processor\": {\"type\": \"Nope\"}, " + TINY_MODEL + "}")),
                "post_processor type \"Nope\"");
        assertMentions(fails(withJson(tmp, "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, "
                + "\"behavior\": \"Isolated\"}, " + TINY_MODEL + "}")), "regex \"(\" is not supported");
    }

    @Test
    void inconsistentVocabulary(@TempDir Path tmp) throws Exception {
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}")),
                "merge 1", "\"b\"", "not in the vocab");
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": []}}")),
                "non-integer id");
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2000000000}, \"merges\": []}}")),
                "not dense");
        assertMentions(fails(withJson(tmp, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"abc\"]}}")),
                "merge 1", "two tokens");
    }

    @Test
    void badConfigFiles(@TempDir Path tmp) throws Exception {
        withJson(tmp, "{" + TINY_MODEL + "}");
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"add_bos_token\": tru");
        assertMentions(fails(tmp), "tokenizer_config.json", "malformed JSON");
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"LlamaTokenizer\"}");
        assertMentions(fails(tmp), "add_bos_token is true but the bos_token is not set");
        Files.delete(tmp.resolve("tokenizer_config.json"));
        Files.writeString(tmp.resolve("added_tokens.json"), "[1]");
        assertMentions(fails(tmp), "added_tokens.json", "not a JSON object");
    }

    @Test
    void badTokenizerModels(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("tokenizer.model");
        Files.write(model, new byte[0]);
        assertMentions(fails(tmp), "tokenizer.model", "empty");
        Files.write(model, "this is not a protobuf at all".getBytes(StandardCharsets.US_ASCII));
        assertMentions(fails(tmp), "tokenizer.model", "not a usable SentencePiece model");
        byte[] good = Files.readAllBytes(SPM.resolve("bpe_identity_unk.model"));
        Files.write(model, java.util.Arrays.copyOf(good, good.length / 2));
        assertMentions(fails(tmp), "tokenizer.model", "runs past the end");
        Files.copy(SPM.resolve("unigram.model"), model, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertMentions(fails(tmp), "tokenizer.model", "UNIGRAM", "not supported");
    }

    /** Random byte flips and truncations of valid files: only clean errors or working tokenizers. */
    @Test
    void mutatedFilesFailCleanly(@TempDir Path tmp) throws Exception {
        Random rnd = new Random(42);
        byte[] json = Files.readAllBytes(HF.resolve("metaspace_first.tokenizer.json"));
        byte[] spm = Files.readAllBytes(SPM.resolve("bpe_identity_unk.model"));
        int loaded = 0;
        int refused = 0;
        for (int i = 0; i < 400; i++) {
            boolean useJson = i % 2 == 0;
            byte[] src = useJson ? json : spm;
            byte[] b = mutate(src, rnd);
            Path dir = Files.createDirectories(tmp.resolve("m" + i));
            Files.write(dir.resolve(useJson ? "tokenizer.json" : "tokenizer.model"), b);
            Tokenizer t;
            try {
                t = Tokenizers.load(dir);
            } catch (TokenizerException e) {
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                refused++;
                continue;
            }
            loaded++;
            try {
                for (String text : new String[] {"Hello world", "héllo 😀 [SP] <s>x</s>", ""}) {
                    int[] ids = t.encode(text, true);
                    t.decode(ids, false);
                    t.decode(ids, true);
                }
            } catch (TokenizerException e) {
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            }
        }
        System.out.println("mutated tokenizer files: " + loaded + " still load and work, " + refused + " refused cleanly");
        assertEquals(400, loaded + refused);
    }

    static byte[] mutate(byte[] src, Random rnd) {
        byte[] b = src.clone();
        switch (rnd.nextInt(3)) {
            case 0 -> {
                int flips = 1 + rnd.nextInt(8);
                for (int k = 0; k < flips; k++) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
            default -> {
                int at = rnd.nextInt(b.length);
                b[at] = (byte) rnd.nextInt(256);
                if (rnd.nextBoolean()) {
                    b = java.util.Arrays.copyOf(b, b.length - rnd.nextInt(Math.min(64, b.length)));
                }
            }
        }
        return b;
    }
}
