package mgm.loaders.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** Loads the tokenizer of a checkpoint folder. */
public final class Tokenizers {
    private Tokenizers() {}

    /** Which file wins when a checkpoint ships both tokenizer.json and tokenizer.model. */
    public enum Prefer {
        /** tokenizer.json (transformers' AutoTokenizer default; MGM for Gemma, Mixtral, LLaMA-3). */
        FAST,
        /**
         * tokenizer.model through the slow LlamaTokenizer rules (MGM's {@code use_fast=False}, used
         * for Vicuna and Yi); falls back to tokenizer.json when there is no tokenizer.model, as
         * transformers does for LLaMA-3.
         */
        SLOW
    }

    /** {@link #load(Path, Prefer)} preferring tokenizer.json. */
    public static Tokenizer load(Path dir) {
        return load(dir, Prefer.FAST);
    }

    /**
     * Loads {@code tokenizer.json} (the fast tokenizer) or {@code tokenizer.model} (sentencepiece
     * with the slow LlamaTokenizer's rules), whichever {@code prefer} picks among those present;
     * tokenizer_config.json, special_tokens_map.json and added_tokens.json are read when present.
     *
     * @throws TokenizerException naming the file and the problem
     */
    public static Tokenizer load(Path dir, Prefer prefer) {
        if (!Files.isDirectory(dir)) {
            throw TokenizerException.of(dir, Files.exists(dir) ? "is not a directory" : "does not exist");
        }
        TokenizerConfig cfg = TokenizerConfig.load(dir);
        Path json = dir.resolve("tokenizer.json");
        Path model = dir.resolve("tokenizer.model");
        boolean hasJson = Files.isRegularFile(json);
        boolean hasModel = Files.isRegularFile(model);
        if (hasModel && (prefer == Prefer.SLOW || !hasJson)) {
            return SentencePieceTokenizer.load(model, cfg);
        }
        if (hasJson) {
            return HfTokenizer.load(json, cfg);
        }
        throw TokenizerException.of(dir, "has neither tokenizer.json nor tokenizer.model");
    }
}
