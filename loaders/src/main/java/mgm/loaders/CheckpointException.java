package mgm.loaders;

import java.nio.file.Path;

/**
 * A model file that cannot be used: missing, truncated, malformed, unsafe or inconsistent. The
 * message is one line, {@code <file>: <problem>}, fit to show to a user as it is.
 */
public class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String problem;

    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(oneLine(file + ": " + problem), cause);
        this.file = file;
        this.problem = oneLine(problem);
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** The problem without the file name. */
    public String problem() {
        return problem;
    }

    /** Collapses line breaks so that messages stay on one line whatever text they quote. */
    public static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
