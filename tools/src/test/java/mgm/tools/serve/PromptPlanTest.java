package mgm.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import mgm.loaders.chat.ConversationTemplates;
import org.junit.jupiter.api.Test;

/** Rendered prompts written out by hand from MGM's templates (mgm/conversation.py). */
class PromptPlanTest {
    private static final ChatRequest.Image IMAGE = new ChatRequest.Image(new byte[] {1}, "img");

    private static ChatRequest.Message m(ChatRequest.Role role, String text, ChatRequest.Image... images) {
        return new ChatRequest.Message(role, text, List.of(images), "messages[0]");
    }

    private static ChatRequest.Message system(String t) {
        return m(ChatRequest.Role.SYSTEM, t);
    }

    private static ChatRequest.Message user(String t, ChatRequest.Image... images) {
        return m(ChatRequest.Role.USER, t, images);
    }

    private static ChatRequest.Message assistant(String t) {
        return m(ChatRequest.Role.ASSISTANT, t);
    }

    private static String render(String template, ChatRequest.Message... messages) {
        return PromptPlan.of(List.of(messages), ConversationTemplates.get(template)).render();
    }

    @Test
    void vicunaOneTurnWithAnImageIsMgmsPrompt() {
        assertEquals("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
                + "detailed, and polite answers to the user's questions. USER: <image>\nWhat is it? ASSISTANT:",
                render("vicuna_v1", user("What is it?", IMAGE)));
    }

    @Test
    void systemMessageReplacesTheTemplatesSystemPrompt() {
        assertEquals("Be brief. USER: Hi ASSISTANT: Hello</s>USER: Again ASSISTANT:",
                render("vicuna_v1", system("Be brief."), user("Hi"), assistant("Hello"), user("Again")));
        assertEquals("<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>system<|end_header_id|>\n\n",
                render("llama_3", system("Be brief."), user("Hi")));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|><|im_start|>user\nHi<|im_end|><|im_start|>assistant\n",
                render("chatml_direct", system("Be brief."), user("Hi")));
        assertEquals("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]",
                render("mistral_instruct", system("Be brief."), user("Hi")));
    }

    @Test
    void gemmaHasNoSystemSlotSoTheSystemTextLeadsTheFirstUserMessage() {
        assertEquals("<start_of_turn>user\n<image>\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n",
                render("gemma", system("Be brief."), user("Hi", IMAGE)));
    }

    @Test
    void imagesOfEveryUserMessageGoToTheFirstMessageWithAnImageNumbered() {
        String p = render("vicuna_v1", user("Hi"), assistant("Hello"), user("Compare", IMAGE), assistant("Ok"),
                user("And this?", IMAGE));
        assertTrue(p.endsWith("USER: Hi ASSISTANT: Hello</s>USER: Image 1:<image>\nImage 2:<image>\nCompare ASSISTANT: Ok"
                + "</s>USER: And this? ASSISTANT:"), p);
        PromptPlan plan = PromptPlan.of(List.of(user("a", IMAGE, IMAGE)), ConversationTemplates.VICUNA_V1);
        assertEquals(2, plan.images().size());
        assertEquals("Image 1:<image>\nImage 2:<image>\na", plan.lastUser());
    }

    @Test
    void consecutiveMessagesOfOneRoleAreJoined() {
        PromptPlan plan = PromptPlan.of(List.of(user("one"), user("two"), assistant("x"), assistant("y"), user("three")),
                ConversationTemplates.VICUNA_V1);
        assertEquals(List.of("one\ntwo", "x\ny"), plan.history());
        assertEquals("three", plan.lastUser());
    }

    @Test
    void badConversationsAreRefusedWithTheReason() {
        List<List<ChatRequest.Message>> bad = new ArrayList<>();
        bad.add(List.of(assistant("hi")));
        bad.add(List.of(user("hi"), assistant("hello")));
        bad.add(List.of(system("s")));
        bad.add(List.of(user("hi"), system("late")));
        bad.add(List.of(user("")));
        for (List<ChatRequest.Message> messages : bad) {
            ApiError e = assertThrows(ApiError.class, () -> PromptPlan.of(messages, ConversationTemplates.VICUNA_V1));
            assertEquals(400, e.status);
        }
    }
}
