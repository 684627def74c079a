package mgm.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds the vision-tower folders a config names ({@code mm_vision_tower}, e.g.
 * {@code model_zoo/OpenAI/clip-vit-large-patch14-336}) the way users lay them out: an explicit
 * override; the path as given (MGM resolves it against the working directory); against the
 * model folder and each of its parents (the MGM repository layout puts {@code model_zoo/} next to
 * {@code work_dirs/}); and by its last component in those places. A miss names every path tried
 * and what to download.
 */
public final class TowerLocator {
    private TowerLocator() {}

    /** What a tower folder must contain to count as found. */
    public enum Kind {
        CLIP("config.json", "openai/clip-vit-large-patch14-336"),
        OPENCLIP("open_clip_config.json", "laion/CLIP-convnext_large_d_320.laion2B-s29B-b131K-ft-soup");

        private final String marker;
        private final String download;

        Kind(String marker, String download) {
            this.marker = marker;
            this.download = download;
        }
    }

    /**
     * @param configured the config's value (may be null when only an override is given)
     * @param override   a user override ({@code --vision-tower}), or null
     * @throws IllegalArgumentException listing every candidate tried
     */
    public static Path locate(Kind kind, String configured, Path override, Path modelDir) {
        Path found = find(kind, configured, override, modelDir);
        if (found != null) {
            return found;
        }
        List<Path> tried = candidates(configured, override, modelDir);
        StringBuilder msg = new StringBuilder("vision tower '" + (override != null ? override : configured)
                + "' not found (looked for " + kind.marker + " in:");
        for (Path p : tried) {
            msg.append(' ').append(p).append(';');
        }
        msg.setLength(msg.length() - 1);
        msg.append("). Download https://huggingface.co/").append(kind.download)
                .append(" into one of them, or pass its folder with --vision-tower").append(kind == Kind.OPENCLIP ? "-aux" : "");
        throw new IllegalArgumentException(msg.toString());
    }

    /** The first candidate folder that holds the tower, or null. */
    public static Path find(Kind kind, String configured, Path override, Path modelDir) {
        for (Path p : candidates(configured, override, modelDir)) {
            if (Files.isRegularFile(p.resolve(kind.marker))) {
                return p;
            }
        }
        return null;
    }

    static List<Path> candidates(String configured, Path override, Path modelDir) {
        Set<Path> out = new LinkedHashSet<>();
        if (override != null) {
            out.add(override.toAbsolutePath().normalize());
            return new ArrayList<>(out);
        }
        if (configured == null || configured.isBlank()) {
            return new ArrayList<>(out);
        }
        Path given = Path.of(configured);
        out.add(given.toAbsolutePath().normalize());
        if (!given.isAbsolute()) {
            for (Path dir = modelDir.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
                out.add(dir.resolve(given).normalize());
            }
        }
        Path name = given.getFileName();
        if (name != null) {
            for (Path dir = modelDir.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
                out.add(dir.resolve(name).normalize());
            }
        }
        return new ArrayList<>(out);
    }
}
