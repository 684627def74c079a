package mgm.tools.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.SecureRandom;

/**
 * OpenAI's response objects: {@code chat.completion}, {@code chat.completion.chunk}, model lists,
 * plus our {@code mgm_timings} extension field in the last chunk and in the completion.
 */
final class OpenAiJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private OpenAiJson() {}

    /** {@code chatcmpl-} and 24 random letters and digits, as OpenAI's ids look. */
    static String completionId() {
        StringBuilder sb = new StringBuilder("chatcmpl-");
        for (int i = 0; i < 24; i++) {
            sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }

    static ObjectNode completion(String id, long created, String model, Outcome o) {
        ObjectNode root = header(id, "chat.completion", created, model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", o.text());
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", o.finishReason());
        root.set("usage", usage(o));
        root.set("mgm_timings", timings(o));
        return root;
    }

    /** A streamed piece: {@code role} only in the first chunk, {@code content} null for none. */
    static ObjectNode chunk(String id, long created, String model, String role, String content, String finishReason,
                            boolean withUsageField) {
        ObjectNode root = header(id, "chat.completion.chunk", created, model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (role != null) {
            delta.put("role", role);
        }
        if (content != null) {
            delta.put("content", content);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        if (withUsageField) {
            root.putNull("usage"); // OpenAI sends "usage": null in every chunk but the last when usage is asked for
        }
        return root;
    }

    /** The chunk that ends the answer: an empty delta, the finish reason and {@code mgm_timings}. */
    static ObjectNode finalChunk(String id, long created, String model, Outcome o, boolean withUsageField) {
        ObjectNode root = chunk(id, created, model, null, null, o.finishReason(), withUsageField);
        root.set("mgm_timings", timings(o));
        return root;
    }

    /** The extra chunk {@code stream_options.include_usage} asks for: no choices, the usage. */
    static ObjectNode usageChunk(String id, long created, String model, Outcome o) {
        ObjectNode root = header(id, "chat.completion.chunk", created, model);
        root.putArray("choices");
        root.set("usage", usage(o));
        return root;
    }

    static ObjectNode model(String id, long created) {
        ObjectNode m = F.objectNode();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "mgm-java");
        return m;
    }

    static ObjectNode models(String id, long created) {
        ObjectNode root = F.objectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        data.add(model(id, created));
        return root;
    }

    private static ObjectNode header(String id, String object, long created, String model) {
        ObjectNode root = F.objectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        root.putNull("system_fingerprint");
        return root;
    }

    private static ObjectNode usage(Outcome o) {
        ObjectNode u = F.objectNode();
        u.put("prompt_tokens", o.promptTokens());
        u.put("completion_tokens", o.completionTokens());
        u.put("total_tokens", o.promptTokens() + o.completionTokens());
        return u;
    }

    /**
     * {@code mgm_timings}: milliseconds and speeds of this answer (queue wait, image decode and
     * encode, prefill, decode, first token, total) and the token counts they refer to.
     */
    static ObjectNode timings(Outcome o) {
        Outcome.Timings t = o.timings();
        ObjectNode n = F.objectNode();
        n.put("queue_ms", ms(t.queueNanos()));
        n.put("image_decode_ms", ms(t.imageDecodeNanos()));
        n.put("image_encode_ms", ms(t.imageEncodeNanos()));
        n.put("prompt_tokens", t.prefillTokens());
        n.put("prefill_ms", ms(t.prefillNanos()));
        n.put("prefill_tokens_per_second", round(t.prefillTokensPerSecond()));
        n.put("completion_tokens", o.completionTokens());
        n.put("decode_ms", ms(t.decodeNanos()));
        n.put("decode_tokens_per_second", round(t.decodeTokensPerSecond()));
        n.put("time_to_first_token_ms", ms(t.firstTokenNanos()));
        n.put("total_ms", ms(t.totalNanos()));
        return n;
    }

    private static double ms(long nanos) {
        return round(nanos / 1e6);
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
