package mgm.tools.serve;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.ImageException;
import mgm.loaders.image.RgbImage;
import mgm.model.ChatSession;
import mgm.model.llm.KvCache;
import mgm.model.MgmModel;
import mgm.model.generate.Generator;
import mgm.model.generate.SamplingParams;
import mgm.tools.SamplingOptions;

/**
 * The model as the server uses it. {@link #prepare} checks a request completely on the request's
 * own thread (template, tokens against the context, every image decoded once) so that a request
 * that will fail is refused with 400/413 before it waits; {@link #run} answers it on the generation
 * thread with a fresh {@link ChatSession} built from the request's messages. Nothing of one
 * request is kept for the next, except the KV cache's memory, which the next request overwrites.
 */
final class ChatModel {
    /** Image decodes running at once on request threads (each may hold a large RGB buffer). */
    private static final int PARALLEL_DECODES = 2;

    /** A request ready to run: the conversation, the sampler, the token budget and the stop sequences. */
    record Prepared(PromptPlan plan, SamplingParams sampling, int maxNewTokens, List<String> stops, int promptTokens) {}

    private final MgmModel model;
    private final ConversationTemplate template;
    private final Path modelDir;
    private final ServerConfig config;
    private final ImageDecoder decoder;
    private final Semaphore decodes = new Semaphore(PARALLEL_DECODES, true);
    /** One KV cache for every request (they run one at a time on the generation thread); made on first use. */
    private KvCache cache;

    ChatModel(MgmModel model, ConversationTemplate template, ServerConfig config) {
        this.model = model;
        this.template = template;
        this.modelDir = model.modelPath();
        this.config = config;
        this.decoder = new ImageDecoder(Math.min(config.maxImagePixels(), Integer.MAX_VALUE / 3));
    }

    /** Releases the shared KV cache; call on the generation thread, after the last request. */
    void close() {
        if (cache != null) {
            cache.close();
            cache = null;
        }
    }

    ConversationTemplate template() {
        return template;
    }

    int contextLength() {
        return model.contextLength();
    }

    Prepared prepare(ChatRequest request) {
        PromptPlan plan = PromptPlan.of(request.messages(), template);
        if (!plan.images().isEmpty() && !model.isMultimodal()) {
            throw ApiError.badRequest("the model " + config.modelId() + " takes no images (its config.json names no "
                    + "vision tower)", plan.images().get(0).param());
        }
        int context = model.contextLength();
        String prompt;
        try {
            prompt = plan.render();
        } catch (IllegalStateException e) {
            throw ApiError.badRequest("messages: " + e.getMessage(), "messages");
        }
        int promptTokens = model.sequenceLength(model.tokenize(prompt));
        if (promptTokens >= context) {
            throw ApiError.badRequest("This model's maximum context length is " + context + " tokens. However, your "
                    + "messages resulted in " + promptTokens + " tokens (images included). Please reduce the length of "
                    + "the messages or the number of images.", "messages", "context_length_exceeded");
        }
        int maxNew;
        if (request.maxTokens() != null) {
            if ((long) promptTokens + request.maxTokens() > context) {
                throw ApiError.badRequest("This model's maximum context length is " + context + " tokens. However, you "
                        + "requested " + ((long) promptTokens + request.maxTokens()) + " tokens (" + promptTokens
                        + " in the messages, " + request.maxTokens() + " in the completion). Please reduce the length of "
                        + "the messages or completion.", "max_tokens", "context_length_exceeded");
            }
            maxNew = request.maxTokens();
        } else {
            maxNew = Math.min(config.defaultMaxTokens(), context - promptTokens);
        }
        for (ChatRequest.Image image : plan.images()) {
            decode(image); // refused now rather than after waiting; decoded again when it runs (memory stays bounded)
        }
        float temperature = request.temperature() != null ? request.temperature() : config.defaultTemperature();
        Float topP = request.topP() == null ? null : Math.max(request.topP(), Float.MIN_NORMAL); // 0 = the top token only
        long seed = request.seed() != null ? request.seed() : System.nanoTime() ^ Double.doubleToLongBits(Math.random());
        SamplingParams sampling = SamplingOptions.params(modelDir, temperature, topP, request.topK(), seed);
        List<String> stops = new ArrayList<>(request.stop());
        String templateStop = template.workerStopString();
        if (templateStop != null && !templateStop.isEmpty() && !stops.contains(templateStop)) {
            stops.add(templateStop); // MGM's model worker cuts the answer at the template's separator too
        }
        return new Prepared(plan, sampling, maxNew, stops, promptTokens);
    }

    private RgbImage decode(ChatRequest.Image image) {
        decodes.acquireUninterruptibly();
        try {
            return decoder.decode(image.bytes(), image.param());
        } catch (ImageException e) {
            if (e.getMessage().contains("pixels, above the limit")) {
                throw ApiError.tooLarge(e.getMessage() + " (--max-image-pixels)", image.param(), "image_too_large");
            }
            // The decoder quotes a non-image's first bytes; with file:// URLs those would come from any file on the server.
            String message = e.getMessage().replaceFirst("; it starts with [0-9a-f ]+$", "");
            throw ApiError.badRequest(message, image.param(), "invalid_image");
        } finally {
            decodes.release();
        }
    }

    /** Answers a prepared request on the generation thread, posting its events to {@code job}. */
    void run(Job job, Prepared p, Metrics metrics) {
        long start = System.nanoTime();
        long queueNanos = start - job.queuedNanos;
        metrics.queueWait(queueNanos);
        job.post(new Job.Started(queueNanos));
        try {
            List<RgbImage> images = new ArrayList<>();
            for (ChatRequest.Image image : p.plan().images()) {
                images.add(decode(image));
            }
            long imageDecodeNanos = System.nanoTime() - start;
            AnswerText answer = new AnswerText(p.stops());
            long[] firstToken = {0};
            ChatSession.Reply reply;
            if (cache == null) {
                cache = model.decoder().newCache(model.contextLength(), model.kvDtype());
            }
            try (ChatSession session = new ChatSession(model, p.plan().template(), images, cache)) {
                List<String> history = p.plan().history();
                for (int i = 0; i < history.size(); i++) {
                    if (i % 2 == 0) {
                        session.conversation().user(history.get(i));
                    } else {
                        session.conversation().assistant(history.get(i));
                    }
                }
                reply = session.ask(p.plan().lastUser(), p.sampling(), p.maxNewTokens(), piece -> {
                    if (firstToken[0] == 0) {
                        firstToken[0] = System.nanoTime() - job.admittedNanos;
                        metrics.firstToken(firstToken[0]);
                    }
                    String delta = answer.push(piece);
                    if (!delta.isEmpty()) {
                        job.post(new Job.Text(delta));
                    }
                    return !job.isCancelled() && !answer.stopped();
                });
            }
            String tail = answer.finish();
            if (!tail.isEmpty()) {
                job.post(new Job.Text(tail));
            }
            ChatSession.Stats s = reply.stats();
            metrics.tokens(s.promptTokens(), s.generatedTokens(), s.decodeNanos(), s.decodeTokensPerSecond(),
                    s.prefillTokensPerSecond());
            if (job.isCancelled()) {
                metrics.completion("cancelled");
                if (job.cancelReason() == Job.CancelReason.SHUTDOWN) {
                    job.post(new Job.Failed(ApiError.unavailable("the server is stopping")));
                }
                return;
            }
            String finish = answer.stopped() || s.stopReason() == Generator.StopReason.STOP_TOKEN ? "stop" : "length";
            metrics.completion(finish);
            Outcome.Timings t = new Outcome.Timings(queueNanos, imageDecodeNanos, s.imageEncodeNanos(), s.prefillNanos(),
                    s.promptTokens(), s.decodeNanos(), System.nanoTime() - job.admittedNanos, s.decodeTokensPerSecond(),
                    firstToken[0]);
            job.post(new Job.Finished(new Outcome(answer.text(), finish, s.promptTokens(), s.generatedTokens(), t)));
        } catch (ApiError e) {
            metrics.completion("error");
            job.post(new Job.Failed(e));
        } catch (IllegalArgumentException e) {
            metrics.completion("error");
            job.post(new Job.Failed(ApiError.badRequest(e.getMessage(), "messages")));
        } catch (RuntimeException | Error e) {
            metrics.completion("error");
            System.err.println("mgm-run serve: generation failed: " + e);
            if (MgmServer.debug) {
                e.printStackTrace();
            }
            job.post(new Job.Failed(ApiError.internal("generation failed: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()))));
        }
    }
}
