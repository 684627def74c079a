package mgm.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import mgm.loaders.chat.Conversation;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.chat.StopTokens;
import mgm.loaders.image.RgbImage;
import mgm.loaders.tokenizer.ImagePrompt;
import mgm.loaders.tokenizer.PythonStrings;
import mgm.loaders.tokenizer.StreamDecoder;
import mgm.model.generate.Generator;
import mgm.model.generate.SamplingParams;
import mgm.model.llm.KvCache;
import mgm.runtime.Tensor;

/**
 * A conversation with a model, as MGM's CLI holds it: the images are encoded once, every turn
 * renders the whole conversation with the template (so the text matches MGM byte for byte), and
 * the KV cache of the earlier turns is reused: only the tokens after the longest prefix shared with
 * what is already cached are run. Not thread-safe.
 */
public final class ChatSession implements AutoCloseable {
    /** Timings of one answer. */
    public record Stats(long imageEncodeNanos, int promptTokens, int cachedTokens, long prefillNanos,
                        int generatedTokens, long decodeNanos, Generator.StopReason stopReason) {
        public double prefillTokensPerSecond() {
            int run = promptTokens - cachedTokens;
            return prefillNanos == 0 ? 0 : run * 1e9 / prefillNanos;
        }

        public double decodeTokensPerSecond() {
            return decodeNanos == 0 ? 0 : Math.max(0, generatedTokens - 1) * 1e9 / decodeNanos;
        }
    }

    /** A finished answer: MGM's stripped text, the raw generated text and ids, and timings. */
    public record Reply(String text, String rawText, int[] tokens, String prompt, Stats stats) {}

    /** Receives streamed text as complete UTF-8 pieces; return false to stop generating. */
    public interface TextListener {
        boolean onText(String piece);
    }

    private final MgmModel model;
    private final Conversation conversation;
    private final List<RgbImage> images;
    private final List<Tensor> imageEmbeddings = new ArrayList<>();
    private final Set<Integer> stopTokens;
    private final KvCache cache;
    private final boolean ownsCache;
    private final Generator generator;
    /** What the cache holds, one entry per unit: a token id, or the image marker for a whole image. */
    private final List<Integer> cachedUnits = new ArrayList<>();
    private long pendingImageNanos;

    public ChatSession(MgmModel model, ConversationTemplate template, List<RgbImage> images) {
        this(model, template, images, null);
    }

    /**
     * A session that runs in {@code reusedCache} (emptied first, left open on {@link #close()}), so
     * that a server answering one request after another allocates the KV cache once, not per
     * request. Null allocates a cache for this session.
     */
    public ChatSession(MgmModel model, ConversationTemplate template, List<RgbImage> images, KvCache reusedCache) {
        if (!images.isEmpty() && !model.isMultimodal()) {
            throw new IllegalArgumentException("the model at " + model.modelPath() + " takes no images (its config names no vision tower)");
        }
        this.model = model;
        this.conversation = template.newConversation();
        this.images = List.copyOf(images);
        this.stopTokens = Arrays.stream(StopTokens.resolve(template, model.tokenizer())).boxed().collect(Collectors.toSet());
        if (reusedCache != null && reusedCache.maxLength() < model.contextLength()) {
            throw new IllegalArgumentException("a reused KV cache of " + reusedCache.maxLength()
                    + " positions is shorter than the context length " + model.contextLength());
        }
        this.ownsCache = reusedCache == null;
        this.cache = ownsCache ? model.decoder().newCache(model.contextLength(), model.kvDtype()) : reusedCache;
        this.cache.truncate(0);
        this.generator = new Generator(model.decoder());
    }

    public Conversation conversation() {
        return conversation;
    }

    /** Encodes the images now (otherwise the first turn does), e.g. to time it separately. */
    public void encodeImages() {
        if (imageEmbeddings.size() == images.size()) {
            return;
        }
        long t0 = System.nanoTime();
        for (RgbImage image : images) {
            imageEmbeddings.add(model.encodeImage(image));
        }
        pendingImageNanos += System.nanoTime() - t0;
    }

    /**
     * One turn: {@code userText} (the caller adds MGM's {@code <image>\n} on the first turn) is
     * appended, the answer is generated and streamed, stored in the conversation, and returned.
     */
    public Reply ask(String userText, SamplingParams sampling, int maxNewTokens, TextListener listener) {
        int messagesBefore = conversation.messages().size();
        try {
            return askOrThrow(userText, sampling, maxNewTokens, listener);
        } catch (RuntimeException | Error e) {
            // A turn that could not be answered leaves no trace: the next turn renders as if it never happened.
            conversation.truncate(Math.min(messagesBefore, conversation.messages().size()));
            throw e;
        }
    }

    private Reply askOrThrow(String userText, SamplingParams sampling, int maxNewTokens, TextListener listener) {
        encodeImages();
        conversation.user(userText);
        conversation.assistant(null);
        String prompt = conversation.prompt();
        int[] ids = model.tokenize(prompt);
        List<Integer> units = IntStream.of(ids).boxed().toList();
        int shared = sharedPrefix(units);
        int cachedPositions = positionsOf(units.subList(0, shared));
        int promptPositions = positionsOf(units);
        if (promptPositions >= cache.maxLength()) {
            throw new IllegalArgumentException("the prompt is " + promptPositions + " tokens but the context length is "
                    + cache.maxLength());
        }
        cache.truncate(cachedPositions);
        cachedUnits.subList(shared, cachedUnits.size()).clear();

        int[] newIds = ids.length > shared ? Arrays.copyOfRange(ids, shared, ids.length) : new int[0];
        List<Tensor> newImages = new ArrayList<>();
        int before = (int) units.subList(0, shared).stream().filter(u -> u == ImagePrompt.IMAGE_TOKEN_INDEX).count();
        for (int id : newIds) {
            if (id == ImagePrompt.IMAGE_TOKEN_INDEX) {
                if (before + newImages.size() >= imageEmbeddings.size()) {
                    throw new IllegalArgumentException("the conversation has more " + ImagePrompt.IMAGE_TOKEN
                            + " markers than images (" + imageEmbeddings.size() + ")");
                }
                newImages.add(imageEmbeddings.get(before + newImages.size()));
            }
        }
        int[] textIds = IntStream.of(ids).filter(i -> i >= 0).toArray();
        StreamDecoder stream = model.tokenizer().streamDecoder(true);
        Generator.Result result;
        try (Tensor embeddings = model.embed(newIds, newImages)) {
            result = generator.generate(cache, embeddings, textIds, sampling, stopTokens, maxNewTokens, token -> {
                String piece = stream.push(token);
                return piece.isEmpty() || listener.onText(piece);
            });
        }
        String tail = stream.finish();
        if (!tail.isEmpty()) {
            listener.onText(tail);
        }
        cachedUnits.addAll(units.subList(shared, units.size()));
        int fed = cache.length() - promptPositions;
        for (int i = 0; i < fed; i++) {
            cachedUnits.add(result.tokens()[i]);
        }
        String raw = model.tokenizer().decode(result.tokens(), true);
        String text = PythonStrings.strip(raw);
        conversation.setLastMessage(text);
        Stats stats = new Stats(pendingImageNanos, promptPositions, cachedPositions, result.prefillNanos(),
                result.tokens().length, result.decodeNanos(), result.reason());
        pendingImageNanos = 0;
        return new Reply(text, raw, result.tokens(), prompt, stats);
    }

    private int sharedPrefix(List<Integer> units) {
        int n = Math.min(units.size(), cachedUnits.size());
        int i = 0;
        while (i < n && units.get(i).equals(cachedUnits.get(i))) {
            i++;
        }
        // Keep at least one new unit so that the prefill yields the next token's logits.
        return i == units.size() ? i - 1 : i;
    }

    private int positionsOf(List<Integer> units) {
        int n = 0;
        for (int u : units) {
            n += u == ImagePrompt.IMAGE_TOKEN_INDEX ? model.tokensPerImage() : 1;
        }
        return n;
    }

    @Override
    public void close() {
        for (Tensor t : imageEmbeddings) {
            t.close();
        }
        imageEmbeddings.clear();
        if (ownsCache) {
            cache.close();
        }
        generator.close();
    }
}
