package mgm.loaders.chat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** MGM's named conversation templates (conv_templates in mgm/conversation.py). */
public final class ConversationTemplates {
    private ConversationTemplates() {}

    private static final String VICUNA_SYSTEM = "A chat between a curious user and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the user's questions.";
    private static final String LLAVA_SYSTEM = "You are a helpful language and vision assistant. "
            + "You are able to understand the visual content that the user provides, "
            + "and assist the user with a variety of tasks using natural language.";
    private static final String LLAMA_2_SYSTEM = "You are a helpful, respectful and honest assistant. Always answer as "
            + "helpfully as possible, while being safe.  Your answers should not include any harmful, unethical, "
            + "racist, sexist, toxic, dangerous, or illegal content. Please ensure that your responses are socially "
            + "unbiased and positive in nature.\n\nIf a question does not make any sense, or is not factually "
            + "coherent, explain why instead of answering something not correct. If you don't know the answer to a "
            + "question, please don't share false information.";

    public static final ConversationTemplate VICUNA_V1 = new ConversationTemplate("vicuna_v1", VICUNA_SYSTEM,
            List.of("USER", "ASSISTANT"), SeparatorStyle.TWO, " ", "</s>", "v1", "</s>");
    public static final ConversationTemplate LLAMA_2 = new ConversationTemplate("llama_2", LLAMA_2_SYSTEM,
            List.of("USER", "ASSISTANT"), SeparatorStyle.LLAMA_2, "<s>", "</s>", "llama_v2", "</s>");
    public static final ConversationTemplate LLAVA_LLAMA_2 = new ConversationTemplate("llava_llama_2", LLAVA_SYSTEM,
            List.of("USER", "ASSISTANT"), SeparatorStyle.LLAMA_2, "<s>", "</s>", "llama_v2", "</s>");
    /** The assistant role is the *system* header: MGM trained with it, so it is kept. */
    public static final ConversationTemplate LLAMA_3 = new ConversationTemplate("llama_3",
            "<|start_header_id|>system<|end_header_id|>\n\n" + LLAVA_SYSTEM,
            List.of("<|start_header_id|>user<|end_header_id|>\n\n", "<|start_header_id|>system<|end_header_id|>\n\n"),
            SeparatorStyle.LLAMA_3, "<|eot_id|>", null, "llama_v3", "<|eot_id|>");
    public static final ConversationTemplate MPT = new ConversationTemplate("mpt",
            "<|im_start|>system\nA conversation between a user and an LLM-based AI assistant. The assistant gives "
                    + "helpful and honest answers.",
            List.of("<|im_start|>user\n", "<|im_start|>assistant\n"), SeparatorStyle.MPT, "<|im_end|>", null, "mpt",
            "<|im_end|>");
    public static final ConversationTemplate PLAIN = new ConversationTemplate("plain", "", List.of("", ""),
            SeparatorStyle.PLAIN, "\n", null, "Unknown", null);
    public static final ConversationTemplate MISTRAL_INSTRUCT = new ConversationTemplate("mistral_instruct", "",
            List.of("USER", "ASSISTANT"), SeparatorStyle.LLAMA_2, "<s>", "</s>", "llama_v2", "</s>");
    public static final ConversationTemplate GEMMA = new ConversationTemplate("gemma", "", List.of("user", "model"),
            SeparatorStyle.GEMMA, "", "<eos>", "gemma", "<end_of_turn>");
    public static final ConversationTemplate CHATML_DIRECT = new ConversationTemplate("chatml_direct",
            "<|im_start|>system\nAnswer the questions.", List.of("<|im_start|>user\n", "<|im_start|>assistant\n"),
            SeparatorStyle.MPT, "<|im_end|>", null, "mpt", "<|im_end|>");

    private static final Map<String, ConversationTemplate> BY_NAME = new LinkedHashMap<>();

    static {
        BY_NAME.put("v1", VICUNA_V1);
        BY_NAME.put("vicuna_v1", VICUNA_V1);
        BY_NAME.put("gemma", GEMMA);
        BY_NAME.put("llama_2", LLAMA_2);
        BY_NAME.put("llama_3", LLAMA_3);
        BY_NAME.put("mistral_instruct", MISTRAL_INSTRUCT);
        BY_NAME.put("chatml_direct", CHATML_DIRECT);
        BY_NAME.put("mistral_direct", CHATML_DIRECT);
        BY_NAME.put("plain", PLAIN);
        BY_NAME.put("v0_plain", PLAIN);
        BY_NAME.put("llava_llama_2", LLAVA_LLAMA_2);
        BY_NAME.put("mpt", MPT);
    }

    /** The template called {@code name} (MGM's --conv-mode names). */
    public static ConversationTemplate get(String name) {
        ConversationTemplate t = BY_NAME.get(name);
        if (t == null) {
            throw new IllegalArgumentException("unknown conversation mode \"" + name + "\"; known: "
                    + String.join(", ", BY_NAME.keySet()));
        }
        return t;
    }

    public static Set<String> names() {
        return BY_NAME.keySet();
    }
}
