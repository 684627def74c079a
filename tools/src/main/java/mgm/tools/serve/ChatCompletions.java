package mgm.tools.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/**
 * {@code POST /v1/chat/completions}: takes a queue slot (or 429), reads and checks the request
 * (400/413), queues it for the generation thread, and writes the answer as one
 * {@code chat.completion} or as server-sent events ({@code data: {chunk}} lines ending with
 * {@code data: [DONE]}). A streaming client that goes away cancels its generation at the next
 * token; while a streamed request waits, an SSE comment line is sent every few seconds, which
 * also notices a client that left the queue.
 */
final class ChatCompletions {
    /** How often a waiting stream gets a comment line (tests shorten it). */
    static volatile long heartbeatNanos = TimeUnit.SECONDS.toNanos(2);

    /** The client closed the connection; nothing more can be written. */
    static final class ClientGone extends IOException {
        private static final long serialVersionUID = 1L;

        ClientGone(Throwable cause) {
            super("the client closed the connection", cause);
        }
    }

    private final ServerConfig config;
    private final GenerationQueue queue;
    private final Metrics metrics;
    private final ChatRequestParser parser;

    ChatCompletions(ServerConfig config, GenerationQueue queue, Metrics metrics) {
        this.config = config;
        this.queue = queue;
        this.metrics = metrics;
        this.parser = new ChatRequestParser(config.allowLocalFiles(), config.maxImageBytes());
    }

    /** Answers the request; returns the status (for the metrics) or throws an {@link ApiError} before anything is written. */
    int handle(Request request, Response response, ChatModel model) throws IOException {
        Job job = queue.admit();
        ChatRequest chat;
        try {
            JsonNode tree = JsonBodies.parse(JsonBodies.read(request, config.maxBodyBytes()));
            chat = parser.parse(tree);
            ChatModel.Prepared prepared = model.prepare(chat);
            queue.start(job, () -> model.run(job, prepared, metrics));
        } catch (IOException | RuntimeException | Error e) {
            queue.abandon(job);
            throw e;
        }
        try {
            return chat.stream() ? stream(response, job, chat) : whole(response, job);
        } catch (InterruptedException e) {
            job.cancel(Job.CancelReason.SHUTDOWN);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while answering", e);
        } catch (IOException | RuntimeException | Error e) {
            job.cancel(Job.CancelReason.CLIENT_GONE);
            throw e;
        }
    }

    private int whole(Response response, Job job) throws IOException, InterruptedException {
        while (true) {
            Job.Event e = job.next(heartbeatNanos);
            if (e instanceof Job.Finished f) {
                String id = OpenAiJson.completionId();
                ObjectNode body = OpenAiJson.completion(id, now(), config.modelId(), f.outcome());
                Http.sendJson(response, 200, body);
                metrics.requestDuration(System.nanoTime() - job.admittedNanos);
                return 200;
            }
            if (e instanceof Job.Failed f) {
                throw f.error();
            }
        }
    }

    private int stream(Response response, Job job, ChatRequest chat) throws IOException, InterruptedException {
        String id = OpenAiJson.completionId();
        long created = now();
        String model = config.modelId();
        boolean usage = chat.includeUsage();
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        response.getHeaders().put("X-Accel-Buffering", "no"); // nginx: pass events on as they come
        event(response, OpenAiJson.chunk(id, created, model, "assistant", "", null, usage));
        while (true) {
            Job.Event e = job.next(heartbeatNanos);
            switch (e) {
                case null -> write(response, false, ": waiting\n\n");
                case Job.Started s -> { }
                case Job.Text t -> event(response, OpenAiJson.chunk(id, created, model, null, t.delta(), null, usage));
                case Job.Finished f -> {
                    event(response, OpenAiJson.finalChunk(id, created, model, f.outcome(), usage));
                    if (usage) {
                        event(response, OpenAiJson.usageChunk(id, created, model, f.outcome()));
                    }
                    write(response, true, "data: [DONE]\n\n");
                    metrics.requestDuration(System.nanoTime() - job.admittedNanos);
                    return 200;
                }
                case Job.Failed f -> {
                    // The status line is sent: the error travels as an event, as OpenAI's API does mid-stream.
                    write(response, true, "data: " + new String(Http.json(f.error().toJson()),
                            java.nio.charset.StandardCharsets.UTF_8) + "\n\n");
                    return f.error().status;
                }
            }
        }
    }

    private static void event(Response response, ObjectNode chunk) throws IOException {
        write(response, false, "data: " + new String(Http.json(chunk), java.nio.charset.StandardCharsets.UTF_8) + "\n\n");
    }

    private static void write(Response response, boolean last, String text) throws IOException {
        try {
            Content.Sink.write(response, last, Http.utf8(text));
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
