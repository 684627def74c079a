package mgm.tools.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The web chat page: a few files from the jar ({@code mgm/tools/serve/web/}), read once, served as they are. */
final class StaticFiles {
    record File(byte[] bytes, String contentType) {}

    private static final String BASE = "/mgm/tools/serve/web/";
    private final Map<String, File> files = new LinkedHashMap<>();

    StaticFiles() {
        add("/", "index.html", "text/html; charset=utf-8");
        add("/index.html", "index.html", "text/html; charset=utf-8");
        add("/app.js", "app.js", "text/javascript; charset=utf-8");
        add("/style.css", "style.css", "text/css; charset=utf-8");
    }

    private void add(String path, String name, String contentType) {
        try (InputStream in = StaticFiles.class.getResourceAsStream(BASE + name)) {
            if (in == null) {
                throw new IllegalStateException("the web page file " + BASE + name + " is missing from the jar");
            }
            files.put(path, new File(in.readAllBytes(), contentType));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file at a request path, or null. */
    File get(String path) {
        return files.get(path);
    }
}
