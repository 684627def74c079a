package mgm.tools;

import java.io.PrintWriter;
import java.nio.file.Path;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.chat.ConversationTemplates;
import mgm.loaders.chat.TemplateSelector;
import mgm.loaders.tokenizer.Tokenizer;

/** {@code --conv-mode}: checked before loading, resolved (auto-selected as MGM does) after. */
public final class Templates {
    private Templates() {}

    /** Fails with a usage error (exit 2) for an unknown mode name; null (auto) passes. */
    public static void check(String convMode) {
        if (convMode == null) {
            return;
        }
        try {
            ConversationTemplates.get(convMode);
        } catch (IllegalArgumentException e) {
            throw MgmRun.CommandFailure.usage("--conv-mode: " + e.getMessage());
        }
    }

    /** The template for the model, printing MGM's warning when an explicit mode differs from the auto choice. */
    public static ConversationTemplate select(Path modelPath, String convMode, Tokenizer tokenizer, PrintWriter err) {
        check(convMode);
        TemplateSelector.Selection s = TemplateSelector.select(modelPath.toString(), convMode, tokenizer);
        if (s.warning() != null) {
            err.println(s.warning());
        }
        return s.template();
    }

    /** A role as shown at the prompt: {@code USER}, {@code user}, {@code assistant} (ChatML/LLaMA-3 markup removed). */
    static String displayRole(ConversationTemplate t, boolean assistant) {
        String r = assistant ? t.assistantRole() : t.userRole();
        r = r.replace("<|start_header_id|>", "").replace("<|end_header_id|>", "").replace("<|im_start|>", "").strip();
        if (assistant && r.equals("system")) {
            r = "assistant"; // llama_3 answers under the system header (as MGM trained it)
        }
        return r.isEmpty() ? (assistant ? "assistant" : "user") : r;
    }
}
