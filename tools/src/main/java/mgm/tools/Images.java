package mgm.tools;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.ImageException;
import mgm.loaders.image.RgbImage;

/** Decodes the images a command was given; a bad file is a one-line error with exit code 3. */
final class Images {
    private Images() {}

    static List<RgbImage> decode(List<Path> files) {
        ImageDecoder decoder = new ImageDecoder();
        List<RgbImage> out = new ArrayList<>();
        for (Path f : files) {
            out.add(decode(decoder, f));
        }
        return out;
    }

    static RgbImage decode(ImageDecoder decoder, Path file) {
        try {
            return decoder.decode(file);
        } catch (ImageException e) {
            throw MgmRun.CommandFailure.file(e.getMessage());
        }
    }
}
