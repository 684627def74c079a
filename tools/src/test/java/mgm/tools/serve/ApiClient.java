package mgm.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The JDK HttpClient against a test server, with OpenAI request builders and an SSE reader. */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final String base;
    final String apiKey;

    ApiClient(MgmServer server) {
        this(server, null);
    }

    ApiClient(MgmServer server, String apiKey) {
        this.base = server.url();
        this.apiKey = apiKey;
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT);
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    HttpResponse<String> post(String path, String body) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    HttpResponse<String> chat(JsonNode body) {
        return post("/v1/chat/completions", body.toString());
    }

    HttpResponse<String> send(HttpRequest r) {
        try {
            return http.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Opens a streamed chat completion; the caller reads (and may close) the body. */
    HttpResponse<InputStream> openStream(JsonNode body) throws IOException, InterruptedException {
        return http.send(request("/v1/chat/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** The events of a finished stream: each {@code data:} payload in order ("[DONE]" included), comments counted. */
    record Events(List<String> data, int comments) {
        List<JsonNode> chunks() {
            List<JsonNode> out = new ArrayList<>();
            for (String d : data) {
                if (!d.equals("[DONE]")) {
                    out.add(parse(d));
                }
            }
            return out;
        }

        String content() {
            StringBuilder sb = new StringBuilder();
            for (JsonNode c : chunks()) {
                JsonNode choices = c.get("choices");
                if (choices != null && !choices.isEmpty() && choices.get(0).get("delta").hasNonNull("content")) {
                    sb.append(choices.get(0).get("delta").get("content").asText());
                }
            }
            return sb.toString();
        }
    }

    /** Reads server-sent events line by line as they arrive: {@code data: X} lines, blank separators, comments. */
    static Events readEvents(InputStream body) throws IOException {
        List<String> data = new ArrayList<>();
        int comments = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String line;
            boolean expectBlank = false;
            while ((line = r.readLine()) != null) {
                if (expectBlank) {
                    assertEquals("", line, "each event ends with a blank line");
                    expectBlank = false;
                    continue;
                }
                if (line.startsWith(":")) {
                    comments++;
                    expectBlank = true;
                    continue;
                }
                assertTrue(line.startsWith("data: "), "an SSE data line: " + line);
                data.add(line.substring(6));
                expectBlank = true;
            }
        }
        return new Events(data, comments);
    }

    Events stream(JsonNode body) {
        try {
            HttpResponse<InputStream> r = openStream(body);
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            return readEvents(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode parse(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {"model": "tiny", "messages": [{"role": "user", "content": text or [text, image]}], "temperature": 0}. */
    static ObjectNode request(String text, byte[] image) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", "tiny");
        ArrayNode messages = root.putArray("messages");
        ObjectNode user = messages.addObject();
        user.put("role", "user");
        if (image == null) {
            user.put("content", text);
        } else {
            ArrayNode parts = user.putArray("content");
            parts.addObject().put("type", "text").put("text", text);
            parts.addObject().put("type", "image_url").putObject("image_url").put("url", dataUri(image));
        }
        root.put("temperature", 0);
        return root;
    }

    static String dataUri(byte[] image) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(image);
    }

    /** An OpenAI error object: status, the four fields, no stack trace; returns the "error" node. */
    static JsonNode assertError(HttpResponse<String> r, int status, String param, String code) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode e = parse(r.body()).get("error");
        for (String field : new String[] {"message", "type", "param", "code"}) {
            assertTrue(e.has(field), "error." + field + " in " + r.body());
        }
        assertFalse(r.body().contains("\tat ") || r.body().contains("Exception"), r.body());
        if (param != null) {
            assertEquals(param, e.get("param").asText(), r.body());
        }
        if (code != null) {
            assertEquals(code, e.get("code").asText(), r.body());
        }
        return e;
    }
}
