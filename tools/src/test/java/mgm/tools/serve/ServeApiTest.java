package mgm.tools.serve;

import static mgm.tools.serve.ApiClient.assertError;
import static mgm.tools.serve.ApiClient.parse;
import static mgm.tools.serve.ApiClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.RgbImage;
import mgm.model.ChatSession;
import mgm.model.MgmModel;
import mgm.tools.SamplingOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The API over real HTTP (JDK HttpClient) on a tiny checkpoint: answers are compared with the same
 * model driven in-process through {@link ChatSession} (greedy), so a server that garbles, reorders
 * or drops text, images or turns fails.
 */
class ServeApiTest {
    static final String QUESTION = "What is in the picture?";
    static MgmServer server;
    static ApiClient api;

    @BeforeAll
    static void start() {
        server = TinyServer.start(ServerConfig.local("MGM-tiny"));
        api = new ApiClient(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The greedy reply of the shared model, computed on the server's generation thread (the model is single-threaded). */
    static ChatSession.Reply inProcess(ConversationTemplate template, List<RgbImage> images, List<String> history, String last,
                                       int maxTokens) throws Exception {
        MgmModel model = TinyServer.model();
        return server.queue().call(() -> {
            try (ChatSession s = new ChatSession(model, template, images)) {
                for (int i = 0; i < history.size(); i++) {
                    if (i % 2 == 0) {
                        s.conversation().user(history.get(i));
                    } else {
                        s.conversation().assistant(history.get(i));
                    }
                }
                return s.ask(last, SamplingOptions.params(model.modelPath(), 0f, null, null, 0L), maxTokens, p -> true);
            }
        }).get();
    }

    static RgbImage photo() throws Exception {
        return new ImageDecoder().decode(TinyServer.photo());
    }

    @Test
    void healthModelsAndThePage() {
        HttpResponse<String> health = api.get("/health");
        assertEquals(200, health.statusCode());
        assertEquals("ok", parse(health.body()).get("status").asText());
        JsonNode models = parse(api.get("/v1/models").body());
        assertEquals("list", models.get("object").asText());
        assertEquals("MGM-tiny", models.get("data").get(0).get("id").asText());
        assertEquals("model", parse(api.get("/v1/models/MGM-tiny").body()).get("object").asText());
        assertError(api.get("/v1/models/gpt-4"), 404, "model", "model_not_found");
        HttpResponse<String> page = api.get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("<script src=\"app.js\">"), page.body());
        assertTrue(api.get("/app.js").body().contains("v1/chat/completions"));
        assertEquals(200, api.get("/style.css").statusCode());
        assertError(api.get("/nothing/here"), 404, null, "unknown_url");
        assertError(api.post("/health", "{}"), 405, null, null);
        assertError(api.get("/v1/chat/completions"), 405, null, null);
    }

    @Test
    void answerAboutAnImageIsTheModelsAnswer() throws Exception {
        ObjectNode req = request(QUESTION, TinyServer.photoBytes());
        req.put("max_tokens", 12);
        HttpResponse<String> r = api.chat(req);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = parse(r.body());
        ChatSession.Reply expected = inProcess(TinyServer.template(), List.of(photo()), List.of(), "<image>\n" + QUESTION, 12);

        assertEquals("chat.completion", body.get("object").asText());
        assertTrue(body.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("MGM-tiny", body.get("model").asText());
        JsonNode choice = body.get("choices").get(0);
        assertEquals(0, choice.get("index").asInt());
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertEquals(expected.text(), choice.get("message").get("content").asText());
        assertEquals(expected.stats().generatedTokens() == 12 ? "length" : "stop", choice.get("finish_reason").asText());
        JsonNode usage = body.get("usage");
        assertEquals(expected.stats().promptTokens(), usage.get("prompt_tokens").asInt());
        assertTrue(usage.get("prompt_tokens").asInt() > TinyServer.model().tokensPerImage(), "image tokens are counted");
        assertEquals(expected.tokens().length, usage.get("completion_tokens").asInt());
        assertEquals(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt(),
                usage.get("total_tokens").asInt());
        JsonNode t = body.get("mgm_timings");
        assertTrue(t.get("image_encode_ms").asDouble() > 0, t.toString());
        assertEquals(usage.get("prompt_tokens").asInt(), t.get("prompt_tokens").asInt());
        assertTrue(t.get("total_ms").asDouble() >= t.get("prefill_ms").asDouble() + t.get("decode_ms").asDouble());
    }

    @Test
    void streamedChunksAddUpToTheSameAnswer() throws Exception {
        ObjectNode req = request(QUESTION, TinyServer.photoBytes());
        req.put("max_tokens", 12);
        String whole = parse(api.chat(req).body()).get("choices").get(0).get("message").get("content").asText();
        req.put("stream", true);
        req.putObject("stream_options").put("include_usage", true);
        ApiClient.Events events = api.stream(req);

        List<JsonNode> chunks = events.chunks();
        assertEquals("[DONE]", events.data().get(events.data().size() - 1), "the stream ends with [DONE]");
        assertEquals(1, events.data().stream().filter("[DONE]"::equals).count());
        assertEquals(whole, events.content());
        Set<String> ids = new java.util.HashSet<>();
        int finals = 0;
        int contentChunks = 0;
        for (int i = 0; i < chunks.size(); i++) {
            JsonNode c = chunks.get(i);
            ids.add(c.get("id").asText());
            assertEquals("chat.completion.chunk", c.get("object").asText());
            assertEquals("MGM-tiny", c.get("model").asText());
            if (i == chunks.size() - 1) {
                assertEquals(0, c.get("choices").size(), "the usage chunk has no choices");
                assertEquals(c.get("usage").get("prompt_tokens").asInt() + c.get("usage").get("completion_tokens").asInt(),
                        c.get("usage").get("total_tokens").asInt());
                continue;
            }
            assertTrue(c.get("usage").isNull(), "usage is null in every chunk but the last");
            JsonNode choice = c.get("choices").get(0);
            if (i == 0) {
                assertEquals("assistant", choice.get("delta").get("role").asText());
            } else {
                assertFalse(choice.get("delta").has("role"));
            }
            if (!choice.get("finish_reason").isNull()) {
                finals++;
                assertEquals(chunks.size() - 2, i, "the finish reason comes in the last choice chunk");
                assertTrue(c.get("mgm_timings").get("decode_tokens_per_second").isNumber());
            } else if (choice.get("delta").has("content") && i > 0) {
                contentChunks++;
                assertFalse(choice.get("delta").get("content").asText().isEmpty());
            }
        }
        assertEquals(1, ids.size(), "one id for the whole stream");
        assertEquals(1, finals);
        assertTrue(contentChunks > 1, "the answer is streamed in pieces: " + contentChunks);
    }

    @Test
    void stopSequencesCutTheAnswerAndMaxTokensEndsWithLength() throws Exception {
        ObjectNode req = request("Tell me a story.", null);
        req.put("max_tokens", 24);
        JsonNode plain = parse(api.chat(req).body());
        String answer = plain.get("choices").get(0).get("message").get("content").asText();
        assertTrue(answer.length() > 12, "the tiny model says enough to cut: '" + answer + "'");
        String stop = answer.substring(answer.length() / 2, answer.length() / 2 + 3);
        String expected = answer.substring(0, answer.indexOf(stop)).strip();

        req.putArray("stop").add(stop).add("never-generated");
        JsonNode cut = parse(api.chat(req).body());
        assertEquals(expected, cut.get("choices").get(0).get("message").get("content").asText());
        assertEquals("stop", cut.get("choices").get(0).get("finish_reason").asText());
        req.put("stream", true);
        assertEquals(expected, api.stream(req).content());

        ObjectNode three = request("Tell me a story.", null);
        three.put("max_tokens", 3);
        JsonNode shortAnswer = parse(api.chat(three).body());
        assertEquals("length", shortAnswer.get("choices").get(0).get("finish_reason").asText());
        assertEquals(3, shortAnswer.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void aSeedMakesSamplingRepeatable() {
        ObjectNode req = request("Tell me a story.", null);
        req.put("temperature", 1.5).put("max_tokens", 16).put("seed", 1234);
        String a = parse(api.chat(req).body()).get("choices").get(0).get("message").get("content").asText();
        String b = parse(api.chat(req).body()).get("choices").get(0).get("message").get("content").asText();
        assertEquals(a, b);
        List<String> others = new ArrayList<>();
        for (int seed = 1; seed <= 3; seed++) {
            req.put("seed", seed);
            others.add(parse(api.chat(req).body()).get("choices").get(0).get("message").get("content").asText());
        }
        assertTrue(others.stream().anyMatch(o -> !o.equals(a)), "other seeds sample other answers: " + others);
    }

    @Test
    void aConversationWithSystemAndEarlierTurnsIsRenderedServerSide() throws Exception {
        ObjectNode req = ApiClient.JSON.createObjectNode();
        req.put("model", "MGM-tiny").put("temperature", 0).put("max_tokens", 10);
        ArrayNode m = req.putArray("messages");
        m.addObject().put("role", "system").put("content", "Answer briefly.");
        ObjectNode first = m.addObject().put("role", "user");
        ArrayNode parts = first.putArray("content");
        parts.addObject().put("type", "text").put("text", "Hi");
        parts.addObject().put("type", "image_url").putObject("image_url").put("url", ApiClient.dataUri(TinyServer.photoBytes()));
        m.addObject().put("role", "assistant").put("content", "Hello there");
        m.addObject().put("role", "user").put("content", "What now?");
        HttpResponse<String> r = api.chat(req);
        assertEquals(200, r.statusCode(), r.body());

        ConversationTemplate t = TinyServer.template();
        ConversationTemplate withSystem = new ConversationTemplate(t.name(), "Answer briefly.", t.roles(), t.style(), t.sep(),
                t.sep2(), t.version(), t.endOfTurn());
        ChatSession.Reply expected = inProcess(withSystem, List.of(photo()), List.of("<image>\nHi", "Hello there"),
                "What now?", 10);
        assertEquals(expected.text(), parse(r.body()).get("choices").get(0).get("message").get("content").asText());
        assertEquals(expected.stats().promptTokens(), parse(r.body()).get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void badRequestsGetOpenAiErrorsNamingTheProblem() {
        assertError(api.post("/v1/chat/completions", "{\"model\": \"x\", \"messages\": [}"), 400, null, "invalid_json");
        assertError(api.post("/v1/chat/completions", "not json at all"), 400, null, "invalid_json");
        ObjectNode unknown = request("hi", null);
        unknown.put("temprature", 0.1);
        assertError(api.chat(unknown), 400, "temprature", null);
        ObjectNode wrongType = request("hi", null);
        wrongType.put("max_tokens", "ten");
        assertError(api.chat(wrongType), 400, "max_tokens", "invalid_type");

        ObjectNode notAnImage = request("hi", "hello, not an image".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        JsonNode e = assertError(api.chat(notAnImage), 400, "messages[0].content[1].image_url", "invalid_image");
        assertTrue(e.get("message").asText().contains("not a supported image"), e.toString());

        ObjectNode tooLong = request("word ".repeat(3000), null);
        assertError(api.chat(tooLong), 400, "messages", "context_length_exceeded");
        ObjectNode tooMany = request("hi", null);
        tooMany.put("max_tokens", 100_000);
        assertError(api.chat(tooMany), 400, "max_tokens", "context_length_exceeded");
        // Nothing of a refused request occupies the queue.
        assertEquals(0, server.queue().waiting());
    }
}
