package mgm.tools.tiny;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mgm-run make-tiny}: writes a random MGM checkpoint set (see {@link TinyCheckpoints}). */
@Command(name = "make-tiny", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Writes tiny random MGM checkpoints (every family, HD) in the real on-disk layout.",
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run make-tiny --family vicuna --out /tmp/tiny",
                "  mgm-run make-tiny --family llama3 --hd --dtype bf16 --out /tmp/tiny",
                "  mgm-run make-tiny --family vicuna --shape tinyllama --dtype bf16 --out /tmp/bench",
                "  mgm-run make-tiny --family vicuna --shape 7b --dtype bf16 --out /tmp/bench"},
        description = {"Writes a random MGM checkpoint set in the layout real users have (model_zoo/OpenAI/... towers, "
                + "work_dirs/MGM/MGM-tiny-FAMILY model), with real file formats and tensor names and tiny widths, "
                + "or with --shape tinyllama / 7b a TinyLlama-sized / LLaMA-2-7B-sized LLM for benchmarks.",
            "Towers depend only on --seed: models written with one seed into one root share them."})
public final class MakeTinyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--family", required = true, description = "vicuna, llama3, gemma, mixtral or yi")
    String family;

    @Option(names = "--hd", description = "MGM-HD geometry: image_size_aux 1536, 2x2 crops + global")
    boolean hd;

    @Option(names = "--seed", defaultValue = "0", description = "seed of every value (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--dtype", defaultValue = "f32", description = "model weight dtype: f32, bf16, f16 (default ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--shape", defaultValue = "tiny", description = "tiny; tinyllama (hidden 2048, 16 layers, 16/4 heads, "
            + "FFN 5632, vocab 32000; LLM only); 7b (LLaMA-2-7B geometry: hidden 4096, 32 layers, 32 heads, FFN 11008, "
            + "vocab 32000; LLM only, 13.5 GB in bf16) (default ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--name", description = "model folder name (default MGM-tiny-FAMILY[-hd], TinyLlama-FAMILY or Random7B-FAMILY)")
    String name;

    @Option(names = "--no-towers-in-checkpoint", description = "do not store copies of the towers inside the MGM checkpoint")
    boolean noTowerCopies;

    @Option(names = "--out", required = true, description = "output root")
    Path out;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        TinyCheckpoints.Options o;
        try {
            TinyCheckpoints.Shape s = switch (shape.toLowerCase(java.util.Locale.ROOT)) {
                case "tiny" -> TinyCheckpoints.Shape.TINY;
                case "tinyllama" -> TinyCheckpoints.Shape.TINYLLAMA;
                case "7b", "llama7b" -> TinyCheckpoints.Shape.LLAMA7B;
                default -> throw new IllegalArgumentException("unknown shape '" + shape + "' (tiny, tinyllama, 7b)");
            };
            o = TinyCheckpoints.Options.of(TinyFamily.parse(family), out).withHd(hd).withSeed(seed)
                    .withDtype(TinyCheckpoints.WeightDtype.parse(dtype)).withShape(s).withName(name)
                    .withTowersInCheckpoint(!noTowerCopies);
        } catch (IllegalArgumentException e) {
            err.println("make-tiny: " + e.getMessage());
            return 2;
        }
        try {
            TinyCheckpoints.Result r = TinyCheckpoints.write(o);
            PrintWriter w = spec.commandLine().getOut();
            w.println("model: " + r.model());
            if (r.clip() != null) {
                w.println("clip: " + r.clip());
                w.println("convnext: " + r.convNext());
            }
            w.flush();
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("make-tiny: " + e.getMessage());
            return 2;
        } catch (UncheckedIOException e) {
            err.println(e.getMessage());
            return 3;
        }
    }
}
