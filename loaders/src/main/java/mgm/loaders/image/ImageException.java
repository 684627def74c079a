package mgm.loaders.image;

import java.io.IOException;

/**
 * An image that cannot be used: it does not decode, is empty, is larger than the pixel limit, or is
 * in a format we do not read. The message is one line that names the file and the problem; the
 * underlying decoder exception, if any, is kept as the cause for debugging.
 */
public final class ImageException extends IOException {
    private static final long serialVersionUID = 1L;

    public ImageException(String source, String problem) {
        super(source + ": " + problem);
    }

    public ImageException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
    }
}
