package mgm.loaders.chat;

import java.util.List;

/**
 * One of MGM's conversation templates (mgm/conversation.py): system prompt, the two role names,
 * separator style and separators. Immutable; {@link #newConversation()} starts a dialogue.
 *
 * @param endOfTurn the token that ends an assistant turn in this format (a stop token besides EOS),
 *                  or null when the format has none
 */
public record ConversationTemplate(String name, String system, List<String> roles, SeparatorStyle style, String sep,
                                   String sep2, String version, String endOfTurn) {
    public ConversationTemplate {
        if (roles.size() != 2) {
            throw new IllegalArgumentException("a template has exactly two roles, got " + roles);
        }
        roles = List.copyOf(roles);
    }

    public String userRole() {
        return roles.get(0);
    }

    public String assistantRole() {
        return roles.get(1);
    }

    public Conversation newConversation() {
        return new Conversation(this);
    }

    /**
     * The stop string MGM's model worker trims from streamed text: sep for SINGLE and MPT styles,
     * sep2 otherwise (null when the template has none).
     */
    public String workerStopString() {
        return style == SeparatorStyle.SINGLE || style == SeparatorStyle.MPT ? sep : sep2;
    }
}
