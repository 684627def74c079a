package mgm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import mgm.loaders.chat.ConversationTemplates;
import mgm.model.generate.SamplingParams;
import mgm.model.testing.TestBackends;
import mgm.model.testing.TinyModels;
import org.junit.jupiter.api.Test;

/** A turn that cannot be answered (here: longer than the context) leaves the conversation as it was. */
class ChatSessionFailedTurnTest {

    @Test
    void aRefusedTurnLeavesNoTrace() {
        MgmModel.Options o = MgmModel.Options.defaults(TinyModels.model("MGM-tiny-vicuna"), TestBackends.fastest());
        o = new MgmModel.Options(o.modelPath(), null, null, o.format(), o.backend(), 128, o.kvDtype(), o.maxChunk(), false,
                o.progress());
        try (MgmModel m = MgmModel.load(o);
             ChatSession s = new ChatSession(m, ConversationTemplates.get("vicuna_v1"), List.of())) {
            ChatSession.Reply first = s.ask("hello", SamplingParams.GREEDY, 4, piece -> true);
            int messages = s.conversation().messages().size();
            String tooLong = "word ".repeat(400);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.ask(tooLong, SamplingParams.GREEDY, 4, piece -> true));
            assertTrue(e.getMessage().contains("context length is 128"), e.getMessage());
            assertEquals(messages, s.conversation().messages().size(), "the refused turn is not kept");

            ChatSession.Reply second = s.ask("again", SamplingParams.GREEDY, 4, piece -> true);
            assertTrue(second.prompt().endsWith("USER: hello ASSISTANT: " + first.text() + "</s>USER: again ASSISTANT:"),
                    second.prompt());
        }
    }
}
