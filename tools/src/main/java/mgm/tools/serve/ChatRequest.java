package mgm.tools.serve;

import java.util.List;

/**
 * A checked {@code POST /v1/chat/completions} body. Sampling fields are null where the request
 * left them out (the server's defaults apply).
 *
 * @param stop stop sequences, each non-empty (at most 4, as OpenAI allows)
 */
record ChatRequest(String model, List<Message> messages, boolean stream, boolean includeUsage, Float temperature,
                   Float topP, Integer topK, Integer maxTokens, List<String> stop, Long seed) {

    enum Role { SYSTEM, USER, ASSISTANT }

    /** One message: its text parts joined, and the images of a user message in order. */
    record Message(Role role, String text, List<Image> images, String param) {}

    /** An encoded image file (PNG, JPEG, ...) as sent; {@code param} names where it came from. */
    record Image(byte[] bytes, String param) {}
}
