package mgm.tools.serve;

import static mgm.tools.serve.ApiClient.parse;
import static mgm.tools.serve.ApiClient.request;
import static mgm.tools.serve.ServeLimitsTest.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A bounded load test on loopback: 50 requests at once (half streamed, some with an image) against
 * a server that holds 1 generating + 4 waiting. Every request must end, within a timeout, either
 * answered (200, a complete answer) or refused (429 with Retry-After); the counters must agree,
 * and the heap must come back near where it was.
 */
class ServeLoadTest {
    private static final int REQUESTS = 50;
    private static final int QUEUE = 4;

    record Result(int status, String detail) {}

    @Test
    void fiftyConcurrentRequestsAllEndAnsweredOrRefused() throws Exception {
        MgmServer server = TinyServer.start(ServerConfig.local("MGM-tiny").withQueue(QUEUE));
        try {
            ApiClient api = new ApiClient(server);
            byte[] photo = TinyServer.photoBytes();
            for (int i = 0; i < 2; i++) { // warm up (class loading, JIT, buffers) before the heap baseline
                assertEquals(200, api.chat(request("warm up", i == 0 ? photo : null).put("max_tokens", 4)).statusCode());
            }
            long baseline = usedHeapAfterGc();

            CountDownLatch go = new CountDownLatch(1);
            List<Future<Result>> futures = new ArrayList<>();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < REQUESTS; i++) {
                    int n = i;
                    futures.add(clients.submit(() -> {
                        go.await();
                        return one(api, n, n % 10 == 0 ? photo : null);
                    }));
                }
                go.countDown();
                int ok = 0;
                int refused = 0;
                for (Future<Result> f : futures) {
                    Result r = f.get(180, TimeUnit.SECONDS); // nothing hangs
                    if (r.status() == 200) {
                        ok++;
                    } else {
                        assertEquals(429, r.status(), r.detail());
                        refused++;
                    }
                }
                assertEquals(REQUESTS, ok + refused);
                System.out.println("load: " + ok + " answered, " + refused + " refused with 429");
                assertTrue(ok >= QUEUE + 1, "every slot was used: " + ok + " answered");
                assertTrue(refused > 0, "50 requests at once overflow 5 slots: " + refused + " refused");
                assertEquals(ok + 2, metric(api, "mgm_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"}"));
                assertEquals(refused, metric(api, "mgm_http_requests_total{route=\"/v1/chat/completions\",status=\"429\"}"));
            }
            assertEquals(0, server.queue().waiting());
            assertEquals(0, metric(new ApiClient(server), "mgm_queue_length"));

            long after = usedHeapAfterGc();
            System.out.println("load: " + REQUESTS + " requests, heap after GC " + (baseline >> 20) + " MiB before, "
                    + (after >> 20) + " MiB after");
            assertTrue(after < baseline + (48L << 20), "heap after the load " + (after >> 20) + " MiB, baseline "
                    + (baseline >> 20) + " MiB");
        } finally {
            server.close();
        }
    }

    private static Result one(ApiClient api, int n, byte[] image) throws Exception {
        ObjectNode req = request("Request " + n + ": tell me something.", image);
        req.put("max_tokens", 8).put("temperature", 0.7).put("seed", n);
        if (n % 2 == 1) {
            req.put("stream", true);
            HttpResponse<InputStream> r = api.openStream(req);
            if (r.statusCode() != 200) {
                String body = new String(r.body().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                return refusal(r.statusCode(), r.headers().firstValue("Retry-After").orElse(null), body);
            }
            ApiClient.Events events = ApiClient.readEvents(r.body());
            assertEquals("[DONE]", events.data().get(events.data().size() - 1), "a complete stream");
            return new Result(200, events.content());
        }
        HttpResponse<String> r = api.chat(req);
        if (r.statusCode() != 200) {
            return refusal(r.statusCode(), r.headers().firstValue("Retry-After").orElse(null), r.body());
        }
        assertTrue(parse(r.body()).get("choices").get(0).get("message").has("content"));
        return new Result(200, r.body());
    }

    private static Result refusal(int status, String retryAfter, String body) {
        if (status == 429) {
            assertTrue(retryAfter != null && Long.parseLong(retryAfter) >= 1, "Retry-After on 429");
            assertTrue(parse(body).get("error").get("code").asText().equals("rate_limit_exceeded"), body);
        }
        return new Result(status, body);
    }

    static long usedHeapAfterGc() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
