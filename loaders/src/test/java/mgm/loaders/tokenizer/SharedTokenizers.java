package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Locates the real tokenizer files of the shared reference folder (not part of the repository):
 * system property {@code mgm.shared.tokenizers}, else env {@code MGM_SHARED_TOKENIZERS}, else the first
 * {@code shared/tokenizers} found walking up from the working directory (a sibling of the checkout).
 */
public final class SharedTokenizers {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SharedTokenizers() {}

    public static Path root() {
        String p = System.getProperty("mgm.shared.tokenizers");
        if (p == null) {
            p = System.getenv("MGM_SHARED_TOKENIZERS");
        }
        if (p != null) {
            return Path.of(p);
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path c = d.resolve("shared").resolve("tokenizers");
            if (Files.isDirectory(c)) {
                return c;
            }
        }
        return Path.of("../../shared/tokenizers");
    }

    /** The folder of one family, or a skipped test (with the reason) when it is not there. */
    public static Path family(String name) {
        Path dir = root().resolve(name);
        assumeTrue(Files.isDirectory(dir), "shared tokenizer folder " + dir.toAbsolutePath()
                + " not found: set -Dmgm.shared.tokenizers=DIR to run the tests on the real tokenizers");
        return dir;
    }

    private static final java.util.Map<String, Tokenizer> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

    /** The family's tokenizer, loaded once per test JVM (the big vocabularies take seconds). */
    public static Tokenizer load(String family) {
        Path dir = family(family);
        return LOADED.computeIfAbsent(family, f -> Tokenizers.load(dir));
    }

    public static List<JsonNode> golden(Path dir) {
        try {
            List<JsonNode> rows = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve("golden.public.jsonl"))) {
                if (!line.isBlank()) {
                    rows.add(MAPPER.readTree(line));
                }
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ids(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = array.get(i).asInt();
        }
        return a;
    }
}
