package mgm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.chat.ConversationTemplates;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.ImageException;
import mgm.loaders.image.RgbImage;
import mgm.model.generate.SamplingParams;
import mgm.model.testing.TestBackends;
import mgm.model.testing.TinyModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The user's path end to end on the tiny checkpoints: MgmModel loads the folder, a ChatSession
 * renders MGM's template around "&lt;image&gt;\nWhat is the cat doing?", tokenises it, encodes
 * chelsea.png, splices and generates greedily; the prompt and the tokens must be the reference's
 * (fixtures/mgm, from reference_mgm.py). Gemma, the other template with its own tokens, is covered
 * stage by stage in MgmPipelineReferenceTest.
 */
class MgmModelChatTest {

    @ParameterizedTest(name = "{0} ({1})")
    @CsvSource({"MGM-tiny-mixtral, mistral_instruct"})
    void firstTurnMatchesTheReference(String model, String templateName) throws IOException, ImageException {
        JsonNode fixture = new ObjectMapper().readTree(TinyModels.fixture("mgm/" + model + "/prompt.json").toFile());
        int[] greedy = new ObjectMapper().treeToValue(fixture.get("greedy"), int[].class);
        RgbImage image = new ImageDecoder().decode(TinyModels.resource("images/chelsea.png"));
        ConversationTemplate template = ConversationTemplates.get(templateName);
        try (MgmModel m = MgmModel.load(MgmModel.Options.defaults(TinyModels.model(model), TestBackends.fastest()));
             ChatSession chat = new ChatSession(m, template, List.of(image))) {
            ChatSession.Reply reply = chat.ask("<image>\nWhat is the cat doing?", SamplingParams.GREEDY, greedy.length,
                    text -> true);
            assertEquals(fixture.get("text").asText(), reply.prompt(), "rendered prompt");
            assertArrayEquals(greedy, reply.tokens(), model + ": greedy answer");
            assertEquals(fixture.get("image_tokens").asInt() + fixture.get("ids").size() - 1, reply.stats().promptTokens());
        }
    }
}
