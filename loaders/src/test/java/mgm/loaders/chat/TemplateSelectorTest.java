package mgm.loaders.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import mgm.loaders.tokenizer.SharedTokenizers;
import mgm.loaders.tokenizer.Tokenizer;
import mgm.loaders.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

class TemplateSelectorTest {
    @Test
    void mgmRulesByName() {
        assertEquals("mistral_instruct", TemplateSelector.autoMode("YanweiLi/MGM-8x7B-HD", null));
        assertEquals("chatml_direct", TemplateSelector.autoMode("/models/MGM-34B/", null));
        assertEquals("gemma", TemplateSelector.autoMode("MGM-2B", null));
        assertEquals("vicuna_v1", TemplateSelector.autoMode("MGM-7B-HD", null));
        assertEquals("vicuna_v1", TemplateSelector.autoMode("MGM-8B", null)); // MGM's own rule misses LLaMA-3
    }

    @Test
    void modelNameAsMgmComputesIt() {
        assertEquals("MGM-13B", TemplateSelector.modelName("/data/MGM-13B/"));
        assertEquals("MGM-8B_checkpoint-500", TemplateSelector.modelName("work/MGM-8B/checkpoint-500"));
    }

    @Test
    void llama3IsDetectedFromItsTokenizer() {
        Tokenizer llama3 = SharedTokenizers.load("llama3");
        assertEquals("llama_3", TemplateSelector.autoMode("/ckpt/MGM-8B-HD", llama3));
        Tokenizer llama2 = SharedTokenizers.load("llama2");
        assertEquals("vicuna_v1", TemplateSelector.autoMode("/ckpt/MGM-7B", llama2));
    }

    @Test
    void explicitModeWinsWithMgmsWarning() {
        TemplateSelector.Selection s = TemplateSelector.select("MGM-7B", "llama_3", null);
        assertEquals("llama_3", s.template().name());
        assertEquals("vicuna_v1", s.auto());
        assertEquals("[WARNING] the auto inferred conversation mode is vicuna_v1, while `--conv-mode` is llama_3, using llama_3",
                s.warning());
        assertNull(TemplateSelector.select("MGM-2B", "gemma", null).warning());
    }

    @Test
    void stopTokensResolveAgainstTheTokenizer() {
        Tokenizer llama3 = SharedTokenizers.load("llama3");
        assertArrayEquals(new int[] {128001, 128009}, StopTokens.resolve(ConversationTemplates.LLAMA_3, llama3));
        Tokenizer llama2 = SharedTokenizers.load("llama2");
        assertArrayEquals(new int[] {2}, StopTokens.resolve(ConversationTemplates.VICUNA_V1, llama2));
        Tokenizer mistral = SharedTokenizers.load("mistral");
        assertArrayEquals(new int[] {2}, StopTokens.resolve(ConversationTemplates.MISTRAL_INSTRUCT, mistral));
        Tokenizer gemma = SharedTokenizers.load("gemma3");
        int eot = gemma.tokenToId("<end_of_turn>");
        assertEquals(106, eot);
        // Gemma-3's config already names <end_of_turn> as eos
        assertArrayEquals(new int[] {106}, StopTokens.resolve(ConversationTemplates.GEMMA, gemma));
    }
}
