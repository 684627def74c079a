package mgm.tools.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mgm.loaders.tokenizer.ImagePrompt;

/**
 * Checks a chat completion request field by field as OpenAI does: an unknown field, a value of the
 * wrong type or out of range is a 400 naming the field ({@code param}), e.g.
 * {@code messages[1].content[0].image_url.url}. A null value counts as absent, as in OpenAI's API.
 */
final class ChatRequestParser {
    /** OpenAI parameters that this server does not implement: refused by name rather than as unknown. */
    private static final Set<String> UNSUPPORTED = Set.of("tools", "tool_choice", "functions", "function_call",
            "response_format", "logit_bias", "top_logprobs", "parallel_tool_calls", "audio", "modalities", "prediction",
            "reasoning_effort", "service_tier", "store", "metadata", "web_search_options", "verbosity");
    private static final Set<String> UNSUPPORTED_MESSAGE_FIELDS = Set.of("tool_calls", "tool_call_id", "function_call",
            "refusal", "audio");
    static final int MAX_STOP_SEQUENCES = 4;

    private final boolean allowLocalFiles;
    private final long maxImageBytes;

    ChatRequestParser(boolean allowLocalFiles, long maxImageBytes) {
        this.allowLocalFiles = allowLocalFiles;
        this.maxImageBytes = maxImageBytes;
    }

    ChatRequest parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw ApiError.badRequest("the request body must be a JSON object", null);
        }
        String model = null;
        List<ChatRequest.Message> messages = null;
        boolean stream = false;
        JsonNode streamOptions = null;
        Float temperature = null;
        Float topP = null;
        Integer topK = null;
        Integer maxTokens = null;
        Integer maxCompletionTokens = null;
        List<String> stop = List.of();
        Long seed = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (v.isNull()) {
                continue;
            }
            switch (name) {
                case "model" -> model = string(v, name);
                case "messages" -> messages = messages(v);
                case "stream" -> stream = bool(v, name);
                case "stream_options" -> streamOptions = v;
                case "temperature" -> temperature = number(v, name, 0, 2);
                case "top_p" -> topP = number(v, name, 0, 1);
                case "top_k" -> topK = integer(v, name, 0, Integer.MAX_VALUE);
                case "max_tokens" -> maxTokens = integer(v, name, 1, Integer.MAX_VALUE);
                case "max_completion_tokens" -> maxCompletionTokens = integer(v, name, 1, Integer.MAX_VALUE);
                case "stop" -> stop = stop(v);
                case "seed" -> seed = seed(v);
                case "n" -> {
                    if (integer(v, name, 1, Integer.MAX_VALUE) != 1) {
                        throw ApiError.badRequest("n must be 1: this server generates one choice per request", name);
                    }
                }
                case "frequency_penalty", "presence_penalty" -> {
                    if (number(v, name, -2, 2) != 0f) {
                        throw ApiError.badRequest(name + " is not supported by this server (only 0)", name);
                    }
                }
                case "logprobs" -> {
                    if (bool(v, name)) {
                        throw ApiError.badRequest("logprobs are not supported by this server", name);
                    }
                }
                case "user" -> string(v, name); // an end-user id for abuse tracking; nothing to do with it here
                default -> throw UNSUPPORTED.contains(name)
                        ? ApiError.badRequest(name + " is not supported by this server", name)
                        : ApiError.badRequest("Unrecognized request argument supplied: " + name, name);
            }
        }
        if (model == null) {
            throw ApiError.badRequest("you must provide a model parameter", "model");
        }
        if (messages == null) {
            throw ApiError.badRequest("Missing required parameter: 'messages'", "messages");
        }
        if (maxTokens != null && maxCompletionTokens != null && !maxTokens.equals(maxCompletionTokens)) {
            throw ApiError.badRequest("max_tokens and max_completion_tokens disagree; give one", "max_tokens");
        }
        boolean includeUsage = false;
        if (streamOptions != null) {
            if (!stream) {
                throw ApiError.badRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                        "stream_options");
            }
            includeUsage = streamOptions(streamOptions);
        }
        return new ChatRequest(model, messages, stream, includeUsage, temperature, topP, topK,
                maxTokens != null ? maxTokens : maxCompletionTokens, stop, seed);
    }

    private static boolean streamOptions(JsonNode v) {
        if (!v.isObject()) {
            throw wrongType("stream_options", "an object", v);
        }
        boolean includeUsage = false;
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String param = "stream_options." + f.getKey();
            if (f.getValue().isNull()) {
                continue;
            }
            if (f.getKey().equals("include_usage")) {
                includeUsage = bool(f.getValue(), param);
            } else {
                throw ApiError.badRequest("Unrecognized request argument supplied: " + param, param);
            }
        }
        return includeUsage;
    }

    private List<ChatRequest.Message> messages(JsonNode v) {
        if (!v.isArray()) {
            throw wrongType("messages", "an array", v);
        }
        if (v.isEmpty()) {
            throw ApiError.badRequest("messages must not be empty", "messages");
        }
        List<ChatRequest.Message> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            out.add(message(v.get(i), "messages[" + i + "]"));
        }
        return out;
    }

    private ChatRequest.Message message(JsonNode m, String param) {
        if (!m.isObject()) {
            throw wrongType(param, "an object", m);
        }
        ChatRequest.Role role = null;
        JsonNode content = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String p = param + "." + f.getKey();
            JsonNode v = f.getValue();
            if (v.isNull()) {
                continue;
            }
            switch (f.getKey()) {
                case "role" -> role = role(v, p);
                case "content" -> content = v;
                case "name" -> string(v, p); // a participant's name; MGM's templates have no place for it
                default -> throw UNSUPPORTED_MESSAGE_FIELDS.contains(f.getKey())
                        ? ApiError.badRequest(f.getKey() + " is not supported by this server", p)
                        : ApiError.badRequest("Unrecognized request argument supplied: " + p, p);
            }
        }
        if (role == null) {
            throw ApiError.badRequest("Missing required parameter: '" + param + ".role'", param + ".role");
        }
        if (content == null) {
            throw ApiError.badRequest("Missing required parameter: '" + param + ".content'", param + ".content");
        }
        StringBuilder text = new StringBuilder();
        List<ChatRequest.Image> images = new ArrayList<>();
        String cp = param + ".content";
        if (content.isTextual()) {
            text.append(content.asText());
        } else if (content.isArray()) {
            if (content.isEmpty()) {
                throw ApiError.badRequest(cp + " must not be an empty array", cp);
            }
            for (int i = 0; i < content.size(); i++) {
                part(content.get(i), cp + "[" + i + "]", role, text, images);
            }
        } else {
            throw wrongType(cp, "a string or an array of content parts", content);
        }
        if (text.indexOf(ImagePrompt.IMAGE_TOKEN) >= 0) {
            throw ApiError.badRequest("the text may not contain " + ImagePrompt.IMAGE_TOKEN + ": send images as image_url "
                    + "parts and the server places them as MGM does", cp);
        }
        return new ChatRequest.Message(role, text.toString(), List.copyOf(images), param);
    }

    /** Text parts are joined with a newline, images collected in order. */
    private void part(JsonNode part, String param, ChatRequest.Role role, StringBuilder text, List<ChatRequest.Image> images) {
        if (!part.isObject()) {
            throw wrongType(param, "an object", part);
        }
        JsonNode typeNode = part.get("type");
        if (typeNode == null || typeNode.isNull()) {
            throw ApiError.badRequest("Missing required parameter: '" + param + ".type'", param + ".type");
        }
        String type = string(typeNode, param + ".type");
        switch (type) {
            case "text" -> {
                onlyFields(part, param, "type", "text");
                JsonNode t = part.get("text");
                if (t == null || t.isNull()) {
                    throw ApiError.badRequest("Missing required parameter: '" + param + ".text'", param + ".text");
                }
                if (!text.isEmpty()) {
                    text.append('\n');
                }
                text.append(string(t, param + ".text"));
            }
            case "image_url" -> {
                if (role != ChatRequest.Role.USER) {
                    throw ApiError.badRequest("only user messages may carry images", param);
                }
                onlyFields(part, param, "type", "image_url");
                images.add(new ChatRequest.Image(image(part.get("image_url"), param + ".image_url"), param + ".image_url"));
            }
            default -> throw ApiError.badRequest("content part type '" + type + "' is not supported (text, image_url)",
                    param + ".type");
        }
    }

    private byte[] image(JsonNode v, String param) {
        if (v == null || v.isNull()) {
            throw ApiError.badRequest("Missing required parameter: '" + param + "'", param);
        }
        if (!v.isObject()) {
            throw wrongType(param, "an object {\"url\": ...}", v);
        }
        onlyFields(v, param, "url", "detail");
        JsonNode detail = v.get("detail");
        if (detail != null && !detail.isNull()) {
            String d = string(detail, param + ".detail");
            if (!d.equals("auto") && !d.equals("low") && !d.equals("high")) {
                throw ApiError.badRequest(param + ".detail must be auto, low or high", param + ".detail");
            }
        }
        JsonNode url = v.get("url");
        if (url == null || url.isNull()) {
            throw ApiError.badRequest("Missing required parameter: '" + param + ".url'", param + ".url");
        }
        return ImageUrls.read(string(url, param + ".url"), param + ".url", allowLocalFiles, maxImageBytes);
    }

    private static void onlyFields(JsonNode o, String param, String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String n = it.next();
            if (!ok.contains(n)) {
                throw ApiError.badRequest("Unrecognized request argument supplied: " + param + "." + n, param + "." + n);
            }
        }
    }

    private static ChatRequest.Role role(JsonNode v, String param) {
        return switch (string(v, param)) {
            case "system", "developer" -> ChatRequest.Role.SYSTEM;
            case "user" -> ChatRequest.Role.USER;
            case "assistant" -> ChatRequest.Role.ASSISTANT;
            case "tool", "function" -> throw ApiError.badRequest("tool and function messages are not supported by this "
                    + "server", param);
            default -> throw ApiError.badRequest(param + " must be system, developer, user or assistant, got '"
                    + v.asText() + "'", param);
        };
    }

    private static List<String> stop(JsonNode v) {
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            if (v.size() > MAX_STOP_SEQUENCES) {
                throw ApiError.badRequest("stop may have at most " + MAX_STOP_SEQUENCES + " sequences, got " + v.size(),
                        "stop");
            }
            for (int i = 0; i < v.size(); i++) {
                out.add(string(v.get(i), "stop[" + i + "]"));
            }
        } else {
            throw wrongType("stop", "a string or an array of strings", v);
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw ApiError.badRequest("stop sequences must not be empty", "stop");
            }
        }
        return List.copyOf(out);
    }

    private static Long seed(JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw wrongType("seed", "an integer", v);
        }
        return v.asLong();
    }

    static String string(JsonNode v, String param) {
        if (!v.isTextual()) {
            throw wrongType(param, "a string", v);
        }
        return v.asText();
    }

    private static boolean bool(JsonNode v, String param) {
        if (!v.isBoolean()) {
            throw wrongType(param, "a boolean", v);
        }
        return v.asBoolean();
    }

    private static float number(JsonNode v, String param, double min, double max) {
        if (!v.isNumber()) {
            throw wrongType(param, "a number", v);
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            throw ApiError.badRequest(param + " must be between " + fmt(min) + " and " + fmt(max) + ", got " + v, param,
                    "invalid_value");
        }
        return (float) d;
    }

    private static int integer(JsonNode v, String param, int min, int max) {
        if (!v.isIntegralNumber()) {
            throw wrongType(param, "an integer", v);
        }
        if (!v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw ApiError.badRequest(param + " must be an integer >= " + min + ", got " + v, param, "invalid_value");
        }
        return v.asInt();
    }

    private static ApiError wrongType(String param, String expected, JsonNode got) {
        return ApiError.badRequest(param + " must be " + expected + ", got " + kind(got), param, "invalid_type");
    }

    private static String kind(JsonNode v) {
        return switch (v.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> v.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            default -> v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
