package mgm.loaders.chat;

/** How a conversation template joins its turns (MGM's SeparatorStyle). */
public enum SeparatorStyle {
    /** system + sep, then "role: message" + sep per turn. */
    SINGLE,
    /** like SINGLE, but user turns end with sep and assistant turns with sep2. */
    TWO,
    /** system + sep, then role + message + sep (ChatML). */
    MPT,
    /** system, then bare messages ended alternately by sep and sep2. */
    PLAIN,
    /** "[INST] ... [/INST]" turns; the system prompt wrapped in {@code <<SYS>>} inside the first. */
    LLAMA_2,
    /** like MPT: system + sep, then role + message + sep. */
    LLAMA_3,
    /** {@code <start_of_turn>role\nmessage<end_of_turn>\n}, assistant turns followed by sep2. */
    GEMMA
}
