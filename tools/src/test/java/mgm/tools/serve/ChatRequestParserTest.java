package mgm.tools.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatRequestParserTest {
    private final ChatRequestParser parser = new ChatRequestParser(false, 1000);

    private ChatRequest parse(String json) {
        return parser.parse(JsonBodies.parse(json.getBytes(StandardCharsets.UTF_8)));
    }

    private ApiError refused(String json) {
        return assertThrows(ApiError.class, () -> parse(json));
    }

    private static String withMessages(String extra) {
        return "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]" + extra + "}";
    }

    @Test
    void everySupportedFieldIsRead() {
        ChatRequest r = parse("{\"model\": \"x\", \"messages\": [{\"role\": \"developer\", \"content\": \"s\"}, "
                + "{\"role\": \"user\", \"name\": \"ann\", \"content\": [{\"type\": \"text\", \"text\": \"a\"}, "
                + "{\"type\": \"text\", \"text\": \"b\"}]}], \"stream\": true, \"stream_options\": {\"include_usage\": true}, "
                + "\"temperature\": 0.5, \"top_p\": 0.9, \"top_k\": 5, \"max_tokens\": 7, \"stop\": \"END\", \"seed\": -3, "
                + "\"n\": 1, \"user\": \"u\", \"frequency_penalty\": 0, \"presence_penalty\": 0, \"logprobs\": false, "
                + "\"tools\": null}");
        assertEquals("x", r.model());
        assertEquals(ChatRequest.Role.SYSTEM, r.messages().get(0).role());
        assertEquals("a\nb", r.messages().get(1).text());
        assertTrue(r.stream() && r.includeUsage());
        assertEquals(0.5f, r.temperature());
        assertEquals(0.9f, r.topP());
        assertEquals(5, r.topK());
        assertEquals(7, r.maxTokens());
        assertEquals(List.of("END"), r.stop());
        assertEquals(-3L, r.seed());
    }

    @Test
    void absentAndNullFieldsLeaveTheDefaults() {
        ChatRequest r = parse(withMessages(", \"temperature\": null, \"stop\": null, \"max_completion_tokens\": 9"));
        assertNull(r.temperature());
        assertEquals(List.of(), r.stop());
        assertEquals(9, r.maxTokens());
    }

    @Test
    void imagePartsAreDecodedFromDataUris() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
        String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
        ChatRequest r = parse("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                + "\"image_url\": {\"url\": \"" + url + "\", \"detail\": \"high\"}}, {\"type\": \"text\", \"text\": \"q\"}]}]}");
        assertArrayEquals(png, r.messages().get(0).images().get(0).bytes());
        assertEquals("messages[0].content[0].image_url", r.messages().get(0).images().get(0).param());
    }

    @Test
    void localFilesOnlyWhenAllowed(@TempDir Path dir) throws Exception {
        Path f = Files.write(dir.resolve("a.png"), new byte[] {1, 2, 3});
        String json = "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                + "\"image_url\": {\"url\": \"" + f.toUri() + "\"}}]}]}";
        ApiError e = refused(json);
        assertTrue(e.getMessage().contains("--allow-local-files"), e.getMessage());
        ChatRequest r = new ChatRequestParser(true, 1000).parse(JsonBodies.parse(json.getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals(new byte[] {1, 2, 3}, r.messages().get(0).images().get(0).bytes());
        ApiError big = assertThrows(ApiError.class, () -> new ChatRequestParser(true, 2).parse(JsonBodies.parse(
                json.getBytes(StandardCharsets.UTF_8))));
        assertEquals(413, big.status);
    }

    @Test
    void wrongRequestsNameTheParameter() {
        record Case(String json, String param, String fragment) {}
        List<Case> cases = List.of(
                new Case(withMessages(", \"temperature\": \"hot\""), "temperature", "must be a number"),
                new Case(withMessages(", \"temperature\": 3"), "temperature", "between 0 and 2"),
                new Case(withMessages(", \"top_p\": 1.5"), "top_p", "between 0 and 1"),
                new Case(withMessages(", \"max_tokens\": 1.5"), "max_tokens", "integer"),
                new Case(withMessages(", \"max_tokens\": 0"), "max_tokens", ">= 1"),
                new Case(withMessages(", \"n\": 2"), "n", "n must be 1"),
                new Case(withMessages(", \"stream\": 1"), "stream", "boolean"),
                new Case(withMessages(", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]"), "stop", "at most 4"),
                new Case(withMessages(", \"stop\": [1]"), "stop[0]", "string"),
                new Case(withMessages(", \"seed\": 1e3"), "seed", "integer"),
                new Case(withMessages(", \"colour\": 1"), "colour", "Unrecognized request argument supplied: colour"),
                new Case(withMessages(", \"tools\": []"), "tools", "not supported"),
                new Case(withMessages(", \"stream_options\": {\"include_usage\": true}"), "stream_options", "only allowed"),
                new Case(withMessages(", \"presence_penalty\": 1"), "presence_penalty", "not supported"),
                new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "model", "model parameter"),
                new Case("{\"model\": \"m\"}", "messages", "messages"),
                new Case("{\"model\": \"m\", \"messages\": []}", "messages", "must not be empty"),
                new Case("{\"model\": \"m\", \"messages\": {}}", "messages", "an array"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", "messages[0].role",
                        "robot"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}", "messages[0].role",
                        "not supported"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\"}]}", "messages[0].content", "content"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": 5}]}", "messages[0].content",
                        "a string or an array"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"see <image>\"}]}",
                        "messages[0].content", "<image>"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"audio\"}]}]}",
                        "messages[0].content[0].type", "not supported"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"assistant\", \"content\": [{\"type\": \"image_url\", "
                        + "\"image_url\": {\"url\": \"data:image/png;base64,AAAA\"}}]}]}", "messages[0].content[0]",
                        "only user messages"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                        + "\"image_url\": {\"url\": \"https://example.com/cat.jpg\"}}]}]}",
                        "messages[0].content[0].image_url.url", "does not download"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                        + "\"image_url\": {\"url\": \"data:image/png;base64,@@@@\"}}]}]}",
                        "messages[0].content[0].image_url.url", "not valid base64"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                        + "\"image_url\": {\"url\": \"data:text/plain;base64,AAAA\"}}]}]}",
                        "messages[0].content[0].image_url.url", "not an image"),
                new Case("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"x\", \"tool_calls\": []}]}",
                        "messages[0].tool_calls", "not supported"));
        for (Case c : cases) {
            ApiError e = refused(c.json());
            assertEquals(400, e.status, c.json());
            assertEquals(c.param(), e.param, c.json() + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(c.fragment()), c.json() + ": " + e.getMessage());
            assertEquals("invalid_request_error", e.type);
        }
    }

    @Test
    void imagesOverTheByteLimitAre413() {
        String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(new byte[1500]);
        ApiError e = refused("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                + "\"image_url\": {\"url\": \"" + url + "\"}}]}]}");
        assertEquals(413, e.status);
        assertEquals("image_too_large", e.code);
    }

    @Test
    void malformedJsonIsA400WithItsPosition() {
        for (String bad : new String[] {"{", "{\"model\": }", "[1] x", "{\"a\": 1, \"a\": 2}", ""}) {
            ApiError e = assertThrows(ApiError.class, () -> JsonBodies.parse(bad.getBytes(StandardCharsets.UTF_8)));
            assertEquals(400, e.status, bad);
            assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("\tat "), e.getMessage());
        }
        ApiError notObject = assertThrows(ApiError.class, () -> parse("[1]"));
        assertTrue(notObject.getMessage().contains("JSON object"));
    }
}
