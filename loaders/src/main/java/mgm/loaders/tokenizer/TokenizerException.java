package mgm.loaders.tokenizer;

import java.nio.file.Path;

/**
 * A tokenizer file that cannot be used: missing, malformed, or of a kind we do not implement.
 * The message is one line that names the file and the problem.
 */
public final class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "FILE: problem". */
    public static TokenizerException of(Path file, String problem) {
        return new TokenizerException(file + ": " + problem);
    }

    public static TokenizerException of(Path file, String problem, Throwable cause) {
        return new TokenizerException(file + ": " + problem, cause);
    }
}
