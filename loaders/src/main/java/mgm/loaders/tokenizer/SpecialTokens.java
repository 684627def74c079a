package mgm.loaders.tokenizer;

/**
 * The named special tokens of a checkpoint (strings and ids; an id is -1 and a string null when
 * the checkpoint has none).
 */
public record SpecialTokens(String bos, int bosId, String eos, int eosId, String unk, int unkId,
                            String pad, int padId) {
    public static final SpecialTokens NONE = new SpecialTokens(null, -1, null, -1, null, -1, null, -1);
}
