package mgm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.chat.ConversationTemplates;
import mgm.model.generate.SamplingParams;
import mgm.model.llm.KvCache;
import mgm.model.testing.TestBackends;
import mgm.model.testing.TinyModels;
import org.junit.jupiter.api.Test;

/**
 * Sessions that run one after another in one borrowed KV cache answer as sessions with their own
 * (the second question runs in the cache the first borrowed session used and closed: it must still
 * be open, and emptied).
 */
class ChatSessionReusedCacheTest {

    @Test
    void aReusedCacheGivesTheSameAnswersAndStaysOpen() {
        MgmModel.Options o = MgmModel.Options.defaults(TinyModels.model("MGM-tiny-vicuna"), TestBackends.fastest());
        o = new MgmModel.Options(o.modelPath(), null, null, o.format(), o.backend(), 256, o.kvDtype(), o.maxChunk(), false,
                o.progress());
        ConversationTemplate t = ConversationTemplates.get("vicuna_v1");
        try (MgmModel m = MgmModel.load(o); KvCache shared = m.decoder().newCache(m.contextLength(), m.kvDtype())) {
            for (String question : List.of("hello there", "what is the weather like")) {
                int[] fresh;
                try (ChatSession own = new ChatSession(m, t, List.of())) {
                    fresh = own.ask(question, SamplingParams.GREEDY, 6, piece -> true).tokens();
                }
                try (ChatSession borrowed = new ChatSession(m, t, List.of(), shared)) {
                    assertArrayEquals(fresh, borrowed.ask(question, SamplingParams.GREEDY, 6, piece -> true).tokens(),
                            question);
                }
            }
        }
    }
}
