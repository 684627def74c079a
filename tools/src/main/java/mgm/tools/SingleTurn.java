package mgm.tools;

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
import mgm.loaders.tokenizer.PythonStrings;
import mgm.model.MgmModel;
import mgm.model.generate.Generator;
import mgm.model.generate.SamplingParams;
import mgm.model.llm.KvCache;
import mgm.runtime.Tensor;

/**
 * One-question conversations, one after another, as MGM's eval scripts run them (a fresh
 * template copy per question, user message + open assistant turn); the KV cache and the
 * generator's buffers are allocated once and reused.
 */
final class SingleTurn implements AutoCloseable {
    /** The rendered prompt, MGM's stripped answer, and the generation result. */
    record Answer(String prompt, String text, Generator.Result result) {}

    private final MgmModel model;
    private final ConversationTemplate template;
    private final Set<Integer> stopTokens;
    private final KvCache cache;
    private final Generator generator;

    SingleTurn(MgmModel model, ConversationTemplate template) {
        this.model = model;
        this.template = template;
        this.stopTokens = Arrays.stream(StopTokens.resolve(template, model.tokenizer())).boxed().collect(Collectors.toSet());
        this.cache = model.decoder().newCache(model.contextLength(), model.kvDtype());
        this.generator = new Generator(model.decoder());
    }

    /** Answers {@code userText} (which carries its own {@code <image>} markers) about {@code images}. */
    Answer ask(String userText, List<RgbImage> images, SamplingParams sampling, int maxNewTokens) {
        Conversation c = template.newConversation();
        c.user(userText);
        c.assistant(null);
        String prompt = c.prompt();
        int[] ids = model.tokenize(prompt);
        int positions = model.sequenceLength(ids);
        if (positions >= cache.maxLength()) {
            throw new IllegalArgumentException("the prompt is " + positions + " tokens but the context length is "
                    + cache.maxLength());
        }
        List<Tensor> encoded = new ArrayList<>();
        try {
            for (RgbImage image : images) {
                encoded.add(model.encodeImage(image));
            }
            int[] textIds = IntStream.of(ids).filter(i -> i >= 0).toArray();
            cache.truncate(0);
            Generator.Result result;
            try (Tensor embeddings = model.embed(ids, encoded)) {
                result = generator.generate(cache, embeddings, textIds, sampling, stopTokens, maxNewTokens, t -> true);
            }
            String text = PythonStrings.strip(model.tokenizer().decode(result.tokens(), true));
            return new Answer(prompt, text, result);
        } finally {
            encoded.forEach(Tensor::close);
        }
    }

    @Override
    public void close() {
        cache.close();
        generator.close();
    }
}
