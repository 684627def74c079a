package mgm.tools.serve;

import java.util.ArrayList;
import java.util.List;
import mgm.loaders.chat.Conversation;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.tokenizer.ImagePrompt;

/**
 * An OpenAI message list as an MGM conversation: the turns before the last user message, the last
 * user message (the one answered), the images in order, and the template to render them with.
 *
 * <p>The rules (documented for clients):
 * <ul>
 * <li>A system (or developer) message may come first, once. It replaces the template's system
 *     prompt, keeping the template's markup (LLaMA-3 header, ChatML {@code <|im_start|>system}); for
 *     templates without a system prompt (gemma, plain) its text goes before the first user
 *     message's, followed by a blank line.</li>
 * <li>Then user and assistant messages; consecutive messages of one role are joined with a newline
 *     (MGM's templates need strict alternation). The conversation must start and end with a user
 *     message. Empty messages are refused (the templates render an empty message as an open turn).</li>
 * <li>Images, from any user message, are placed as MGM places them: one {@code <image>\n} per image
 *     at the start of the first user message that has an image, numbered {@code Image k:} when
 *     there are several.</li>
 * </ul>
 */
record PromptPlan(ConversationTemplate template, List<String> history, String lastUser, List<ChatRequest.Image> images) {

    /** A user turn and the assistant's reply alternate in {@code history}, starting with the user. */
    PromptPlan {
        history = List.copyOf(history);
        images = List.copyOf(images);
    }

    static PromptPlan of(List<ChatRequest.Message> messages, ConversationTemplate template) {
        int start = 0;
        String system = null;
        if (messages.get(0).role() == ChatRequest.Role.SYSTEM) {
            system = messages.get(0).text();
            start = 1;
        }
        List<ChatRequest.Role> roles = new ArrayList<>();
        List<StringBuilder> texts = new ArrayList<>();
        List<List<ChatRequest.Image>> imagesPerTurn = new ArrayList<>();
        for (int i = start; i < messages.size(); i++) {
            ChatRequest.Message m = messages.get(i);
            if (m.role() == ChatRequest.Role.SYSTEM) {
                throw ApiError.badRequest(m.param() + ": a system message may only be the first message", m.param() + ".role");
            }
            if (m.text().isEmpty() && m.images().isEmpty()) {
                throw ApiError.badRequest(m.param() + ": the message is empty", m.param() + ".content");
            }
            int last = roles.size() - 1;
            if (last >= 0 && roles.get(last) == m.role()) {
                if (!m.text().isEmpty()) {
                    StringBuilder sb = texts.get(last);
                    sb.append(sb.isEmpty() ? "" : "\n").append(m.text());
                }
                imagesPerTurn.get(last).addAll(m.images());
            } else {
                roles.add(m.role());
                texts.add(new StringBuilder(m.text()));
                imagesPerTurn.add(new ArrayList<>(m.images()));
            }
        }
        if (roles.isEmpty()) {
            throw ApiError.badRequest("messages: there is no user message to answer", "messages");
        }
        if (roles.get(0) != ChatRequest.Role.USER) {
            throw ApiError.badRequest("messages: the conversation must start with a user message (after an optional "
                    + "system message)", "messages");
        }
        if (roles.get(roles.size() - 1) != ChatRequest.Role.USER) {
            throw ApiError.badRequest("messages: the last message must be a user message (the one to answer)", "messages");
        }
        List<String> turns = new ArrayList<>();
        for (StringBuilder sb : texts) {
            turns.add(sb.toString());
        }
        List<ChatRequest.Image> images = new ArrayList<>();
        int firstWithImage = -1;
        for (int i = 0; i < imagesPerTurn.size(); i++) {
            if (!imagesPerTurn.get(i).isEmpty() && firstWithImage < 0) {
                firstWithImage = i;
            }
            images.addAll(imagesPerTurn.get(i));
        }
        ConversationTemplate t = template;
        if (system != null) {
            SystemSlot slot = SystemSlot.of(template);
            if (slot.hasSlot()) {
                t = slot.withSystem(system);
            } else if (!system.isEmpty()) {
                turns.set(0, system + "\n\n" + turns.get(0));
            }
        }
        if (firstWithImage >= 0) {
            String withMarkers = (ImagePrompt.IMAGE_TOKEN + "\n").repeat(images.size()) + turns.get(firstWithImage);
            turns.set(firstWithImage, ImagePrompt.numberImages(withMarkers));
        }
        return new PromptPlan(t, turns.subList(0, turns.size() - 1), turns.get(turns.size() - 1), images);
    }

    /** The prompt MGM's template gives this conversation with an open assistant turn (what ChatSession renders). */
    String render() {
        Conversation c = template.newConversation();
        for (int i = 0; i < history.size(); i++) {
            if (i % 2 == 0) {
                c.user(history.get(i));
            } else {
                c.assistant(history.get(i));
            }
        }
        c.user(lastUser);
        c.assistant(null);
        return c.prompt();
    }

    /** Where a template keeps its system prompt, and the markup around it. */
    record SystemSlot(ConversationTemplate template, String prefix, boolean hasSlot) {
        static SystemSlot of(ConversationTemplate t) {
            return switch (t.style()) {
                case SINGLE, TWO, LLAMA_2 -> new SystemSlot(t, "", true);
                case LLAMA_3 -> new SystemSlot(t, "<|start_header_id|>system<|end_header_id|>\n\n", true);
                case MPT -> new SystemSlot(t, "<|im_start|>system\n", true);
                case GEMMA, PLAIN -> new SystemSlot(t, "", false);
            };
        }

        ConversationTemplate withSystem(String text) {
            return new ConversationTemplate(template.name(), prefix + text, template.roles(), template.style(),
                    template.sep(), template.sep2(), template.version(), template.endOfTurn());
        }
    }
}
