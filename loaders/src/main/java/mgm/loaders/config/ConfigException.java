package mgm.loaders.config;

import java.nio.file.Path;
import mgm.loaders.CheckpointException;

/** A config file with a missing, mistyped or absurd value; the message names the file and the key. */
public class ConfigException extends CheckpointException {
    private static final long serialVersionUID = 1L;

    public ConfigException(Path file, String problem) {
        super(file, problem);
    }
}
