package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings from tokenizer_config.json that change ids or text. */
class TokenizerConfigTest {
    @Test
    void cleanUpTokenizationSpacesFollowsTheConfig(@TempDir Path tmp) throws Exception {
        Tokenizer llama3 = SharedTokenizers.load("llama3"); // clean_up_tokenization_spaces: true
        int[] ids = llama3.encode("Hello , world ! I do n't know ' you 're right .", false);
        // transformers' clean_up_tokenization removes the space before , ! n't 're . and around ' '
        assertEquals("Hello, world! I don't know'you're right.", llama3.decode(ids, false));

        // the same tokenizer.json without a config: the tokenizers library does no clean-up
        Files.copy(SharedTokenizers.family("llama3").resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
        Tokenizer bare = Tokenizers.load(tmp);
        assertEquals("Hello , world ! I do n't know ' you 're right .", bare.decode(ids, false));
    }

    @Test
    void addBosAndEosFlagsRewriteTheLlamaTemplate(@TempDir Path tmp) throws Exception {
        Files.copy(SharedTokenizers.family("llama2").resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
        Files.writeString(tmp.resolve("tokenizer_config.json"), """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": false, "add_eos_token": true,
                 "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}""");
        Tokenizer tok = Tokenizers.load(tmp);
        assertArrayEquals(new int[] {15043, 2}, tok.encode("Hello", true)); // ▁Hello = 15043, </s> = 2
        assertArrayEquals(new int[] {15043}, tok.encode("Hello", false));
        assertEquals(2, tok.specialTokens().eosId());
        assertEquals(1, tok.specialTokens().bosId());
    }

    @Test
    void specialTokensMapAndAddedTokensJsonAreRead(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("special_tokens_map.json"), """
                {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "additional_special_tokens": ["<x>"]}""");
        Files.writeString(tmp.resolve("added_tokens.json"), "{\"<y>\": 7}");
        TokenizerConfig cfg = TokenizerConfig.load(tmp);
        assertEquals("<s>", cfg.bosToken());
        assertEquals("</s>", cfg.eosToken());
        assertEquals(java.util.List.of("<x>"), cfg.additionalSpecialTokens());
        assertEquals(7, cfg.addedTokensJson().get("<y>"));
    }

    @Test
    void slowPreferenceUsesTokenizerModelWhenBothExist(@TempDir Path tmp) throws Exception {
        Files.copy(SharedTokenizers.family("llama2").resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
        Files.copy(SharedTokenizers.family("llama2-spm").resolve("tokenizer.model"), tmp.resolve("tokenizer.model"));
        Files.writeString(tmp.resolve("tokenizer_config.json"), """
                {"tokenizer_class": "LlamaTokenizer", "legacy": false, "bos_token": "<s>", "eos_token": "</s>",
                 "unk_token": "<unk>"}""");
        Tokenizer fast = Tokenizers.load(tmp);
        Tokenizer slow = Tokenizers.load(tmp, Tokenizers.Prefer.SLOW);
        assertEquals(HfTokenizer.class, fast.getClass());
        assertEquals(SentencePieceTokenizer.class, slow.getClass());
        // after </s>: the fast file prepends "▁" (▁USER = 3148 1001), the slow non-legacy rule does not (USER = 11889)
        assertArrayEquals(new int[] {2, 3148, 1001}, fast.encode("</s>USER", false));
        assertArrayEquals(new int[] {2, 11889}, slow.encode("</s>USER", false));
    }
}
