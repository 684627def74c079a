package mgm.tools.serve;

import static mgm.tools.serve.ApiClient.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mgm.tools.tiny.TinyCheckpoints;
import mgm.tools.tiny.TinyFamily;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar mgm-run.jar serve} as a user runs it (the shaded jar: Jetty, the page, the
 * logging setup): it announces its address, answers the API and the page, and stops cleanly on
 * SIGTERM.
 */
class ServeIT {
    private static final Pattern SERVING = Pattern.compile("serving (\\S+) at (http://127\\.0\\.0\\.1:\\d+)/v1");

    @TempDir
    Path root;

    @Test
    void theJarServesTheApiAndThePageAndStopsOnSigterm() throws Exception {
        Path model = TinyCheckpoints.write(TinyCheckpoints.Options.of(TinyFamily.GEMMA, root)).model();
        Path jar = Path.of(System.getProperty("mgm.run.jar", "target/mgm-run.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "the shaded jar " + jar + " is built in package, before integration tests");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-jar", jar.toString(), "serve", "--model-path", model.toString(), "--port", "0", "--device", "cpu",
                "--threads", "2", "--api-key", "k", "--conv-mode", "gemma"))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        StringBuilder err = new StringBuilder();
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (err) {
                        err.append(line).append('\n');
                    }
                    Matcher m = SERVING.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(2));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            url.complete(null);
        });
        try {
            String base = url.get(180, TimeUnit.SECONDS);
            assertTrue(base != null, "the server announces its address: " + err);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(page.body().contains("MGM chat"), page.body());
            String body = "{\"model\": \"MGM-tiny-gemma\", \"max_tokens\": 6, \"messages\": [{\"role\": \"user\", \"content\": "
                    + "[{\"type\": \"text\", \"text\": \"What is it?\"}, {\"type\": \"image_url\", \"image_url\": {\"url\": \""
                    + ApiClient.dataUri(Files.readAllBytes(Path.of("src/main/resources/mgm/tools/demo/chelsea.png")))
                    + "\"}}]}]}";
            HttpRequest.Builder chat = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            assertEquals(401, http.send(chat.build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            HttpResponse<String> answer = http.send(chat.header("Authorization", "Bearer k").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), answer.body());
            JsonNode json = parse(answer.body());
            assertEquals("MGM-tiny-gemma", json.get("model").asText());
            assertTrue(json.get("usage").get("prompt_tokens").asInt() > 576, answer.body());
        } finally {
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server stops on SIGTERM");
            reader.join(10_000);
        }
        String log;
        synchronized (err) {
            log = err.toString();
        }
        assertFalse(log.contains("\tat ") || log.contains("Exception"), "no stack trace: " + log);
        assertTrue(log.contains("conversation template gemma"), log);
    }
}
