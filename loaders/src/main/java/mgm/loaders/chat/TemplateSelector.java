package mgm.loaders.chat;

import mgm.loaders.tokenizer.Tokenizer;

/**
 * Picks the conversation template for a checkpoint as MGM's CLI does (by model name), with one
 * fix: MGM sends LLaMA-3 checkpoints (MGM-8B) to vicuna_v1 unless told otherwise; here a tokenizer
 * with LLaMA-3's header and end-of-turn tokens selects llama_3.
 */
public final class TemplateSelector {
    private TemplateSelector() {}

    /**
     * @param template the chosen template
     * @param auto     what auto-selection alone would pick
     * @param warning  MGM's warning when an explicit mode overrides a different auto choice, else null
     */
    public record Selection(ConversationTemplate template, String auto, String warning) {}

    /** MGM's get_model_name_from_path: the last path part, or "parent_checkpoint-N". */
    public static String modelName(String modelPath) {
        String p = modelPath;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        String[] parts = p.split("/", -1);
        String last = parts[parts.length - 1];
        if (last.startsWith("checkpoint-") && parts.length >= 2) {
            return parts[parts.length - 2] + "_" + last;
        }
        return last;
    }

    /** The auto-selected mode name for a model path, looking at the tokenizer when one is given. */
    public static String autoMode(String modelPath, Tokenizer tokenizer) {
        String name = modelName(modelPath).toLowerCase(java.util.Locale.ROOT);
        if (name.contains("8x7b")) {
            return "mistral_instruct";
        }
        if (name.contains("34b")) {
            return "chatml_direct";
        }
        if (name.contains("2b")) {
            return "gemma";
        }
        if (tokenizer != null && isLlama3(tokenizer)) {
            return "llama_3";
        }
        return "vicuna_v1";
    }

    /** LLaMA-3's vocabulary has {@code <|start_header_id|>} and {@code <|eot_id|>} (ids 128006 and 128009). */
    public static boolean isLlama3(Tokenizer tokenizer) {
        return tokenizer.tokenToId("<|start_header_id|>") >= 0 && tokenizer.tokenToId("<|eot_id|>") >= 0;
    }

    /** An explicit {@code convMode} (may be null) always wins, as in MGM. */
    public static Selection select(String modelPath, String convMode, Tokenizer tokenizer) {
        String auto = autoMode(modelPath, tokenizer);
        if (convMode == null) {
            return new Selection(ConversationTemplates.get(auto), auto, null);
        }
        ConversationTemplate t = ConversationTemplates.get(convMode);
        String warning = convMode.equals(auto) ? null : "[WARNING] the auto inferred conversation mode is " + auto
                + ", while `--conv-mode` is " + convMode + ", using " + convMode;
        return new Selection(t, auto, warning);
    }
}
