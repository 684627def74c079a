package mgm.loaders.chat;

import java.util.ArrayList;
import java.util.List;
import mgm.loaders.tokenizer.PythonStrings;

/**
 * A dialogue rendered byte-exactly as MGM's {@code Conversation.get_prompt()}. Messages alternate
 * user/assistant; a null or empty message is an open turn (the prompt ends with that role's header,
 * which is how generation is requested).
 */
public final class Conversation {
    /** A message; {@code withImage} marks the gradio-style first message that carries an image. */
    public record Message(String role, String text, boolean withImage) {}

    private final ConversationTemplate t;
    private final List<Message> messages = new ArrayList<>();

    Conversation(ConversationTemplate template) {
        this.t = template;
    }

    public ConversationTemplate template() {
        return t;
    }

    public List<Message> messages() {
        return List.copyOf(messages);
    }

    public Conversation append(String role, String text) {
        messages.add(new Message(role, text, false));
        return this;
    }

    /** Appends a message that comes with an image (MGM moves its {@code <image>} to the front). */
    public Conversation appendWithImage(String role, String text) {
        messages.add(new Message(role, text, true));
        return this;
    }

    public Conversation user(String text) {
        return append(t.userRole(), text);
    }

    /** An assistant turn; null leaves it open for generation. */
    public Conversation assistant(String text) {
        return append(t.assistantRole(), text);
    }

    /** Sets the text of the last message (the reply that was generated for the open turn). */
    public void setLastMessage(String text) {
        Message last = messages.remove(messages.size() - 1);
        messages.add(new Message(last.role(), text, last.withImage()));
    }

    /** Keeps only the first {@code size} messages (undoes a turn that could not be answered). */
    public void truncate(int size) {
        if (size < 0 || size > messages.size()) {
            throw new IllegalArgumentException("cannot truncate a conversation of " + messages.size() + " messages to " + size);
        }
        messages.subList(size, messages.size()).clear();
    }

    public Conversation copy() {
        Conversation c = new Conversation(t);
        c.messages.addAll(messages);
        return c;
    }

    private static boolean present(String s) {
        return s != null && !s.isEmpty();
    }

    /** The prompt text, exactly as get_prompt() builds it. */
    public String prompt() {
        List<Message> ms = new ArrayList<>(messages);
        if (!ms.isEmpty() && ms.get(0).withImage()) {
            Message first = ms.get(0);
            String init = PythonStrings.strip(first.text().replace("<image>", ""));
            if (t.version() != null && t.version().contains("mmtag")) {
                ms.set(0, new Message(first.role(), init, false));
                ms.add(0, new Message(t.userRole(), "<Image><image></Image>", false));
                ms.add(1, new Message(t.assistantRole(), "Received.", false));
            } else {
                ms.set(0, new Message(first.role(), "<image>\n" + init, false));
            }
        }
        StringBuilder ret = new StringBuilder();
        switch (t.style()) {
            case SINGLE -> {
                ret.append(t.system()).append(t.sep());
                for (Message m : ms) {
                    if (present(m.text())) {
                        ret.append(m.role()).append(": ").append(m.text()).append(t.sep());
                    } else {
                        ret.append(m.role()).append(':');
                    }
                }
            }
            case TWO -> {
                String[] seps = {t.sep(), t.sep2()};
                ret.append(t.system()).append(seps[0]);
                for (int i = 0; i < ms.size(); i++) {
                    Message m = ms.get(i);
                    if (present(m.text())) {
                        ret.append(m.role()).append(": ").append(m.text()).append(sepOrFail(seps[i % 2]));
                    } else {
                        ret.append(m.role()).append(':');
                    }
                }
            }
            case MPT, LLAMA_3 -> {
                ret.append(t.system()).append(t.sep());
                for (Message m : ms) {
                    if (present(m.text())) {
                        ret.append(m.role()).append(m.text()).append(t.sep());
                    } else {
                        ret.append(m.role());
                    }
                }
            }
            case LLAMA_2 -> {
                for (int i = 0; i < ms.size(); i++) {
                    Message m = ms.get(i);
                    if (i == 0) {
                        if (!present(m.text())) {
                            throw new IllegalStateException(t.name() + ": the first message must not be empty");
                        }
                        if (!m.role().equals(t.userRole())) {
                            throw new IllegalStateException(t.name() + ": the first message must come from the user");
                        }
                    }
                    if (present(m.text())) {
                        String text = m.text();
                        if (i == 0) {
                            text = (t.system().isEmpty() ? "" : "<<SYS>>\n" + t.system() + "\n<</SYS>>\n\n") + text;
                        }
                        if (i % 2 == 0) {
                            ret.append(t.sep()).append("[INST] ").append(text).append(" [/INST]");
                        } else {
                            ret.append(' ').append(text).append(' ').append(t.sep2());
                        }
                    }
                }
                return lstripChars(ret.toString(), t.sep());
            }
            case GEMMA -> {
                String[] seps = {t.sep(), t.sep2()};
                ret.append(t.system()).append(seps[0]);
                for (int i = 0; i < ms.size(); i++) {
                    Message m = ms.get(i);
                    if (present(m.text())) {
                        ret.append("<start_of_turn>").append(m.role()).append('\n').append(m.text())
                                .append("<end_of_turn>\n").append(seps[i % 2]);
                    } else {
                        ret.append("<start_of_turn>").append(m.role()).append('\n');
                    }
                }
            }
            case PLAIN -> {
                String[] seps = {t.sep(), t.sep2()};
                ret.append(t.system());
                for (int i = 0; i < ms.size(); i++) {
                    Message m = ms.get(i);
                    if (present(m.text())) {
                        ret.append(m.text()).append(sepOrFail(seps[i % 2]));
                    }
                }
            }
        }
        return ret.toString();
    }

    /** MGM concatenates sep2 even when the template has none (a Python TypeError); say so clearly. */
    private String sepOrFail(String sep) {
        if (sep == null) {
            throw new IllegalStateException("template " + t.name()
                    + " has no second separator, so it cannot render a completed assistant turn");
        }
        return sep;
    }

    /** Python's str.lstrip(chars): removes leading characters that occur anywhere in {@code chars}. */
    static String lstripChars(String s, String chars) {
        int i = 0;
        while (i < s.length() && chars.indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        return s.substring(i);
    }
}
