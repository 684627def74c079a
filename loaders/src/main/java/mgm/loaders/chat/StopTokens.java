package mgm.loaders.chat;

import java.util.LinkedHashSet;
import java.util.Set;
import mgm.loaders.tokenizer.Tokenizer;

/**
 * The ids that end a reply: the tokenizer's EOS (all MGM passes to generate) plus the template's
 * end-of-turn token (what the model actually emits at the end of a turn in formats like llama_3,
 * gemma and ChatML, and what MGM's eval scripts add for llama_3).
 */
public final class StopTokens {
    private StopTokens() {}

    /** EOS first, then the end-of-turn id when the tokenizer has that token as one id. */
    public static int[] resolve(ConversationTemplate template, Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>();
        int eos = tokenizer.specialTokens().eosId();
        if (eos >= 0) {
            ids.add(eos);
        }
        if (template.endOfTurn() != null) {
            int id = tokenizer.tokenToId(template.endOfTurn());
            if (id >= 0) {
                ids.add(id);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
