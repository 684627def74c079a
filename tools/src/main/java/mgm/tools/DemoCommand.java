package mgm.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.ImageException;
import mgm.loaders.image.RgbImage;
import mgm.loaders.tokenizer.ImagePrompt;
import mgm.model.ChatSession;
import mgm.model.MgmModel;
import mgm.model.generate.SamplingParams;
import mgm.tools.tiny.TinyCheckpoints;
import mgm.tools.tiny.TinyFamily;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mgm-run demo}: the whole pipeline (image decode, MGM preprocessing, CLIP + ConvNeXt,
 * patch info mining, projector, splice, decoder, streaming) on a bundled photo, with a tiny
 * random MGM checkpoint written once into a cache folder. Random weights give meaningless text;
 * the demo says so.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Runs the whole pipeline on a bundled photo with a tiny random checkpoint.",
        description = {"Runs the whole MGM pipeline on a bundled photo (a cat, chelsea.png) with a tiny MGM checkpoint",
                "of random weights, written once into ~/.cache/mgm-java/demo ($XDG_CACHE_HOME/mgm-java/demo).",
                "The answer is meaningless text (the weights are random); the timings are real."},
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run demo", "  mgm-run demo --family gemma --device cpu --threads 2",
                "  mgm-run demo --prompt 'Describe the photo.' --max-new-tokens 64"})
final class DemoCommand implements Callable<Integer> {
    /** Bump when the generator's output changes, so that an old cached checkpoint is not reused. */
    static final String CACHE_VERSION = "v1";
    static final String PHOTO = "/mgm/tools/demo/chelsea.png";

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--family", paramLabel = "NAME", defaultValue = "vicuna",
            description = "Decoder family of the tiny model: vicuna, llama3, gemma, mixtral, yi (default: ${DEFAULT-VALUE}).")
    String family;

    @Option(names = "--hd", description = "The HD geometry (1536 px high-res, 2x2 crops + global; slower).")
    boolean hd;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "What is in this image?",
            description = "The question (default: ${DEFAULT-VALUE}).")
    String prompt;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--device", paramLabel = "auto|cpu|cuda", defaultValue = "auto", description = "Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: one per core).")
    Integer threads;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where the tiny checkpoint is kept (default: $XDG_CACHE_HOME/mgm-java/demo or ~/.cache/mgm-java/demo).")
    Path cacheDir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        TinyFamily f;
        try {
            f = TinyFamily.parse(family);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--family: " + e.getMessage());
        }
        if (maxNewTokens < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-new-tokens must be at least 1");
        }
        Path root = (cacheDir != null ? cacheDir : defaultCacheDir()).resolve(CACHE_VERSION);
        Path model = ensureCheckpoint(root, f, hd, err);
        RgbImage photo = bundledPhoto();

        ModelOptions mo = new ModelOptions();
        mo.modelPath = model;
        mo.device = device;
        mo.threads = threads;
        out.println("mgm-run demo: the whole MGM pipeline on a bundled photo (chelsea.png, a cat, CC0) with a tiny");
        out.println("MGM checkpoint of RANDOM weights (" + model + ").");
        out.println("Random weights: the answer below is meaningless text. It shows that every stage runs, and how fast.");
        out.println();
        out.flush();
        try (ModelOptions.Loaded loaded = mo.load(spec.commandLine(), err)) {
            MgmModel m = loaded.model();
            ConversationTemplate t = Templates.select(model, null, m.tokenizer(), err);
            try (ChatSession session = new ChatSession(m, t, List.of(photo))) {
                out.println(Templates.displayRole(t, false) + ": " + prompt + "   [+ the photo]");
                out.print(Templates.displayRole(t, true) + ": ");
                out.flush();
                TrimmedStream stream = new TrimmedStream();
                ChatSession.Reply reply = session.ask(ImagePrompt.IMAGE_TOKEN + "\n" + prompt,
                        new SamplingParams(0f, 0, 1f, 1f, 0), maxNewTokens, piece -> {
                            out.print(stream.push(piece));
                            out.flush();
                            return true;
                        });
                out.println();
                out.println();
                out.println(Timings.line(reply.stats()) + " (backend " + m.backend().name() + ")");
            }
        }
        out.println();
        out.println("To run a real MGM model, download it and its two vision towers (see the README), then:");
        out.println("  ./mgm --model-path work_dirs/MGM/MGM-7B --image-file your-photo.jpg");
        return 0;
    }

    static Path defaultCacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("mgm-java").resolve("demo");
    }

    /** The cached model folder under {@code root}, written first when missing (saying so on {@code err}). */
    static Path ensureCheckpoint(Path root, TinyFamily f, boolean hd, PrintWriter err) {
        TinyCheckpoints.Options o = TinyCheckpoints.Options.of(f, root).withHd(hd);
        Path model = root.resolve("work_dirs/MGM").resolve(o.folderName());
        if (Files.isRegularFile(model.resolve("config.json"))) {
            return model;
        }
        err.println("mgm-run: writing a tiny random MGM checkpoint to " + root + " (once) ...");
        err.flush();
        try {
            Files.createDirectories(root);
            return TinyCheckpoints.write(o).model();
        } catch (IOException | UncheckedIOException e) {
            throw MgmRun.CommandFailure.file("cannot write the demo checkpoint under " + root + ": " + e.getMessage());
        }
    }

    static RgbImage bundledPhoto() {
        try (InputStream in = DemoCommand.class.getResourceAsStream(PHOTO)) {
            if (in == null) {
                throw new IllegalStateException("the bundled photo " + PHOTO + " is missing from the jar");
            }
            return new ImageDecoder().decode(in.readAllBytes(), "chelsea.png (bundled)");
        } catch (IOException e) {
            throw new IllegalStateException("the bundled photo cannot be read: " + e.getMessage(), e);
        }
    }
}
