package mgm.loaders.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** Loads the tokenizer of a checkpoint folder. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * {@code tokenizer.json} when present (the fast tokenizer), else {@code tokenizer.model} with the
     * slow LlamaTokenizer's rules; tokenizer_config.json, special_tokens_map.json and
     * added_tokens.json are read when present.
     *
     * @throws TokenizerException naming the file and the problem
     */
    public static Tokenizer load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw TokenizerException.of(dir, Files.exists(dir) ? "is not a directory" : "does not exist");
        }
        TokenizerConfig cfg = TokenizerConfig.load(dir);
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            return HfTokenizer.load(json, cfg);
        }
        Path model = dir.resolve("tokenizer.model");
        if (Files.isRegularFile(model)) {
            return SentencePieceTokenizer.load(model, cfg);
        }
        throw TokenizerException.of(dir, "has neither tokenizer.json nor tokenizer.model");
    }
}
