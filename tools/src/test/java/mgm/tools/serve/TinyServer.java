package mgm.tools.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.chat.ConversationTemplates;
import mgm.model.MgmModel;
import mgm.model.WeightFormat;
import mgm.runtime.DType;
import mgm.runtime.cpu.CpuBackend;
import mgm.tools.tiny.TinyCheckpoints;
import mgm.tools.tiny.TinyFamily;

/**
 * One tiny random MGM checkpoint (Vicuna family, real image geometry: 576 image tokens) written and
 * loaded once per test JVM, shared by the server tests; each test class starts its own server on it
 * (the model is closed when the JVM exits, never by a server).
 */
final class TinyServer {
    static final String PHOTO = "/mgm/tools/demo/chelsea.png";

    private static Path root;
    private static MgmModel model;
    private static Path photo;

    private TinyServer() {}

    static synchronized MgmModel model() {
        if (model == null) {
            try {
                root = Files.createTempDirectory("mgm-serve-test");
                Path dir = TinyCheckpoints.write(TinyCheckpoints.Options.of(TinyFamily.VICUNA, root)).model();
                CpuBackend backend = new CpuBackend(2);
                model = MgmModel.load(new MgmModel.Options(dir, null, null, WeightFormat.STORED, backend, 0, DType.F16, 512,
                        false, MgmModel.LoadProgress.NONE));
                photo = root.resolve("chelsea.png");
                try (InputStream in = TinyServer.class.getResourceAsStream(PHOTO)) {
                    Files.copy(in, photo);
                }
                Runtime.getRuntime().addShutdownHook(new Thread(TinyServer::cleanUp));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return model;
    }

    static ConversationTemplate template() {
        return ConversationTemplates.get("vicuna_v1");
    }

    /** The bundled photo (a cat, 451x300 PNG) as a file. */
    static Path photo() {
        model();
        return photo;
    }

    static byte[] photoBytes() {
        try {
            return Files.readAllBytes(photo());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A started server on the shared model, ready to answer. */
    static MgmServer start(ServerConfig config) {
        MgmModel m = model();
        try {
            MgmServer server = MgmServer.start(config, () -> new MgmServer.Loaded(m, template(), null));
            server.awaitLoaded();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void cleanUp() {
        model.close();
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}
