package mgm.tools.serve;

import static mgm.tools.serve.ApiClient.assertError;
import static mgm.tools.serve.ApiClient.parse;
import static mgm.tools.serve.ApiClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Refusals and cancellation: 413, 401, 429 with Retry-After, and clients that go away. */
class ServeLimitsTest {
    private MgmServer server;

    @org.junit.jupiter.api.BeforeEach
    void debug() {
        MgmServer.debug = true;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        ChatCompletions.heartbeatNanos = TimeUnit.SECONDS.toNanos(2);
    }

    @Test
    void bodiesAndImagesOverTheLimitsAre413() throws Exception {
        server = TinyServer.start(ServerConfig.local("MGM-tiny").withLimits(1 << 20, 100 << 10, 10_000));
        ApiClient api = new ApiClient(server);
        assertError(api.chat(request("x".repeat(1100 << 10), null)), 413, null, "request_too_large");
        JsonNode bytes = assertError(api.chat(request("hi", TinyServer.photoBytes())), 413,
                "messages[0].content[1].image_url.url", "image_too_large");
        assertTrue(bytes.get("message").asText().contains("--max-image-bytes"), bytes.toString());
        JsonNode pixels = assertError(api.chat(request("hi", png(200, 100))), 413, "messages[0].content[1].image_url",
                "image_too_large");
        assertTrue(pixels.get("message").asText().contains("200x100") && pixels.get("message").asText()
                .contains("--max-image-pixels"), pixels.toString());
        assertEquals(200, api.chat(request("hi", png(100, 100)).put("max_tokens", 2)).statusCode(),
                "an image within the limits passes");
    }

    /** A small PNG file of a large-ish grey image. */
    static byte[] png(int width, int height) throws java.io.IOException {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(width, height,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    @Test
    void fileUrlsOnlyWithAllowLocalFiles() {
        ObjectNode req = request("What is it?", null);
        com.fasterxml.jackson.databind.node.ArrayNode parts = ((ObjectNode) req.get("messages").get(0)).putArray("content");
        parts.addObject().put("type", "text").put("text", "What is it?");
        parts.addObject().put("type", "image_url").putObject("image_url").put("url", TinyServer.photo().toUri().toString());
        req.put("max_tokens", 4);
        server = TinyServer.start(ServerConfig.local("MGM-tiny"));
        assertError(new ApiClient(server).chat(req), 400, "messages[0].content[1].image_url.url", "invalid_image_url");
        server.close();
        server = TinyServer.start(ServerConfig.local("MGM-tiny").withAllowLocalFiles(true));
        ApiClient api = new ApiClient(server);
        HttpResponse<String> fromFile = api.chat(req);
        assertEquals(200, fromFile.statusCode(), fromFile.body());
        HttpResponse<String> inline = api.chat(request("What is it?", TinyServer.photoBytes()).put("max_tokens", 4));
        assertEquals(parse(inline.body()).get("choices"), parse(fromFile.body()).get("choices"), "the same image either way");
    }

    @Test
    void anApiKeyGuardsTheApiButNotHealthOrThePage() {
        server = TinyServer.start(ServerConfig.local("MGM-tiny").withApiKey("s3cret"));
        ApiClient anonymous = new ApiClient(server);
        HttpResponse<String> missing = anonymous.get("/v1/models");
        assertError(missing, 401, null, "invalid_api_key");
        assertEquals("Bearer", missing.headers().firstValue("WWW-Authenticate").orElse(""));
        assertError(new ApiClient(server, "wrong").get("/v1/models"), 401, null, "invalid_api_key");
        // A refused request with a large body (an image) still gets its answer, not a reset connection.
        assertError(anonymous.chat(request("hi", TinyServer.photoBytes())), 401, null, "invalid_api_key");
        assertError(anonymous.get("/metrics"), 401, null, "invalid_api_key");
        assertEquals(200, anonymous.get("/health").statusCode());
        assertEquals(200, anonymous.get("/").statusCode());
        ApiClient keyed = new ApiClient(server, "s3cret");
        assertEquals(200, keyed.get("/v1/models").statusCode());
        assertEquals(200, keyed.get("/metrics").statusCode());
        assertEquals(200, keyed.chat(request("hi", null).put("max_tokens", 2)).statusCode());
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        server = TinyServer.start(ServerConfig.local("MGM-tiny").withQueue(1));
        ApiClient api = new ApiClient(server);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Object> blocker = server.queue().call(() -> release.await(60, TimeUnit.SECONDS));
        try {
            ObjectNode req = request("hi", null).put("max_tokens", 2);
            CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> api.chat(req));
            CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> api.chat(req));
            waitFor(() -> server.queue().waiting() == 2, "two requests admitted");
            HttpResponse<String> third = api.chat(request("hi", TinyServer.photoBytes())); // a large body, unread
            assertError(third, 429, null, "rate_limit_exceeded");
            long retryAfter = Long.parseLong(third.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retryAfter >= 1, "Retry-After " + retryAfter);
            release.countDown();
            assertEquals(200, first.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, second.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, api.chat(req).statusCode(), "the queue is free again");
        } finally {
            release.countDown();
            blocker.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void aClientThatLeavesMidStreamCancelsItsGeneration() throws Exception {
        server = TinyServer.start(ServerConfig.local("MGM-tiny"));
        ApiClient api = new ApiClient(server);
        // Greedy answers to this prompt run to max_tokens (checked: finish_reason length), i.e. for a long time.
        ObjectNode req = request("Tell me a story.", null).put("max_tokens", 1500).put("stream", true);
        long generatedBefore = metric(api, "mgm_generated_tokens_total");
        HttpResponse<InputStream> r = api.openStream(req);
        assertEquals(200, r.statusCode());
        InputStream body = r.body();
        BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        int contentChunks = 0;
        while (contentChunks < 3) {
            String line = lines.readLine();
            if (line != null && line.startsWith("data: ") && line.contains("\"content\":\"") && !line.contains("\"role\"")) {
                contentChunks++;
            }
        }
        body.close(); // the client goes away
        waitFor(() -> metric(api, "mgm_completions_total{finish_reason=\"cancelled\"}") == 1, "the generation is cancelled");
        long generated = metric(api, "mgm_generated_tokens_total") - generatedBefore;
        assertTrue(generated < 1500, "stopped early: " + generated + " tokens");
        waitFor(() -> metric(api, "mgm_http_requests_total{route=\"/v1/chat/completions\",status=\"499\"}") == 1,
                "counted as a client that went away");
        HttpResponse<String> next = api.chat(request("hi", null).put("max_tokens", 2));
        assertEquals(200, next.statusCode(), "the model is free for the next request");
    }

    @Test
    void aStreamingClientThatLeavesTheQueueIsNeverRun() throws Exception {
        ChatCompletions.heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(100);
        server = TinyServer.start(ServerConfig.local("MGM-tiny"));
        ApiClient api = new ApiClient(server);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Object> blocker = server.queue().call(() -> release.await(60, TimeUnit.SECONDS));
        try {
            HttpResponse<InputStream> r = api.openStream(request("hi", null).put("max_tokens", 4).put("stream", true));
            BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
            String first = lines.readLine();
            assertTrue(first.startsWith("data: ") && first.contains("\"role\":\"assistant\""), first);
            assertEquals("", lines.readLine());
            assertEquals(": waiting", lines.readLine(), "a waiting stream gets comment lines");
            r.body().close();
            waitFor(() -> metric(api, "mgm_http_requests_total{route=\"/v1/chat/completions\",status=\"499\"}") == 1,
                    "the departure is noticed while waiting");
        } finally {
            release.countDown();
            blocker.get(60, TimeUnit.SECONDS);
        }
        waitFor(() -> server.queue().waiting() == 0 && !server.queue().busy(), "the queue empties");
        assertEquals(0, metric(new ApiClient(server), "mgm_generated_tokens_total"), "the abandoned request never ran");
    }

    static long metric(ApiClient api, String series) {
        String text = api.get("/metrics").body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }
}
