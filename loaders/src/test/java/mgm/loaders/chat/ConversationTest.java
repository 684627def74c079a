package mgm.loaders.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Expected prompts written out by hand from MGM's Conversation.get_prompt (mgm/conversation.py):
 * one image turn, a reply, a second question, and the open assistant turn that requests generation.
 */
class ConversationTest {
    static final String VICUNA_SYS = "A chat between a curious user and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the user's questions.";
    static final String LLAVA_SYS = "You are a helpful language and vision assistant. You are able to understand the "
            + "visual content that the user provides, and assist the user with a variety of tasks using natural language.";

    static String twoTurns(String mode) {
        return ConversationTemplates.get(mode).newConversation()
                .user("<image>\nWhat is this?").assistant("A cat.")
                .user("What color?").assistant(null)
                .prompt();
    }

    @Test
    void vicunaV1() {
        assertEquals(VICUNA_SYS + " USER: <image>\nWhat is this? ASSISTANT: A cat.</s>USER: What color? ASSISTANT:",
                twoTurns("vicuna_v1"));
        assertEquals(VICUNA_SYS + " USER: Hi ASSISTANT:",
                ConversationTemplates.get("v1").newConversation().user("Hi").assistant(null).prompt());
    }

    @Test
    void llama3UsesTheSystemHeaderForTheAssistant() {
        assertEquals("<|start_header_id|>system<|end_header_id|>\n\n" + LLAVA_SYS + "<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat is this?<|eot_id|>"
                        + "<|start_header_id|>system<|end_header_id|>\n\nA cat.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWhat color?<|eot_id|>"
                        + "<|start_header_id|>system<|end_header_id|>\n\n",
                twoTurns("llama_3"));
    }

    @Test
    void gemmaPutsEosAfterModelTurns() {
        assertEquals("<start_of_turn>user\n<image>\nWhat is this?<end_of_turn>\n"
                        + "<start_of_turn>model\nA cat.<end_of_turn>\n<eos>"
                        + "<start_of_turn>user\nWhat color?<end_of_turn>\n"
                        + "<start_of_turn>model\n",
                twoTurns("gemma"));
    }

    @Test
    void mistralInstructDropsTheLeadingBos() {
        assertEquals("[INST] <image>\nWhat is this? [/INST] A cat. </s><s>[INST] What color? [/INST]",
                twoTurns("mistral_instruct"));
    }

    @Test
    void chatmlDirectHasNoNewlineAfterImEnd() {
        assertEquals("<|im_start|>system\nAnswer the questions.<|im_end|>"
                        + "<|im_start|>user\n<image>\nWhat is this?<|im_end|>"
                        + "<|im_start|>assistant\nA cat.<|im_end|>"
                        + "<|im_start|>user\nWhat color?<|im_end|>"
                        + "<|im_start|>assistant\n",
                twoTurns("chatml_direct"));
        assertEquals(twoTurns("chatml_direct"), twoTurns("mistral_direct"));
    }

    @Test
    void llavaLlama2WrapsTheSystemPrompt() {
        assertEquals("[INST] <<SYS>>\n" + LLAVA_SYS + "\n<</SYS>>\n\n<image>\nWhat is this? [/INST] A cat. </s>"
                + "<s>[INST] What color? [/INST]", twoTurns("llava_llama_2"));
    }

    @Test
    void plainIsTheBareMessage() {
        assertEquals("<image>\nWhat is this?\n",
                ConversationTemplates.get("plain").newConversation().user("<image>\nWhat is this?").assistant(null).prompt());
        // MGM itself fails here (message + None); we say why instead
        assertThrows(IllegalStateException.class, () -> twoTurns("plain"));
    }

    @Test
    void imageMessageMovesTheImageToTheFront() {
        Conversation c = ConversationTemplates.get("vicuna_v1").newConversation();
        c.appendWithImage("USER", "  What is this?\n<image>  ");
        c.assistant(null);
        assertEquals(VICUNA_SYS + " USER: <image>\nWhat is this? ASSISTANT:", c.prompt());
    }

    @Test
    void emptyMessageIsAnOpenTurnAndSetLastMessageFillsIt() {
        Conversation c = ConversationTemplates.get("gemma").newConversation().user("Hi").assistant("");
        assertEquals("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", c.prompt());
        c.setLastMessage("Hello");
        assertEquals("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n<eos>", c.prompt());
    }

    @Test
    void llama2StyleNeedsAUserFirst() {
        assertThrows(IllegalStateException.class,
                () -> ConversationTemplates.get("mistral_instruct").newConversation().assistant("x").prompt());
        assertThrows(IllegalStateException.class,
                () -> ConversationTemplates.get("mistral_instruct").newConversation().user("").prompt());
    }

    @Test
    void lstripRemovesAnyLeadingSeparatorCharacters() {
        assertEquals("[x", Conversation.lstripChars("<s>s<[x", "<s>"));
    }

    @Test
    void unknownModeListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConversationTemplates.get("nope"));
        assertEquals(true, e.getMessage().contains("vicuna_v1") && e.getMessage().contains("llama_3"));
    }

    @Test
    void workerStopStrings() {
        assertEquals("</s>", ConversationTemplates.VICUNA_V1.workerStopString());
        assertEquals("<|im_end|>", ConversationTemplates.CHATML_DIRECT.workerStopString());
        assertEquals("<eos>", ConversationTemplates.GEMMA.workerStopString());
        assertEquals("</s>", ConversationTemplates.MISTRAL_INSTRUCT.workerStopString());
    }
}
