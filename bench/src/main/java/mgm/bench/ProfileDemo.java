package mgm.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import mgm.model.WeightFormat;
import mgm.model.llm.KvCache;
import mgm.model.vision.VisionEncoder;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;
import mgm.runtime.cpu.ReferenceBackend;
import mgm.runtime.profile.Profiler;

/**
 * A profiled run of small random models through the real model code: load (quantising the linear
 * weights when asked), one image through a CLIP tower, a prompt prefill and greedy decoding; then
 * the profile table, and the trace file when asked. The turn first runs {@code --warmup} times
 * unprofiled ({@link Profiler#setEnabled}) so that the table shows compiled kernels, not the JIT's
 * warm-up (the load is profiled cold, as it happens once). The example in the README's "Profiling"
 * section comes from this program.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     mgm.bench.ProfileDemo [--backend cpu|reference] [--format stored|q8_0|q4_0] [--hidden 512] [--layers 4]
 *     [--prompt 64] [--tokens 32] [--clip-layers 4] [--image 224] [--warmup 2] [--threads N] [--trace trace.json]
 * </pre>
 */
public final class ProfileDemo {
    private ProfileDemo() {}

    public static void main(String[] args) throws IOException {
        String backendName = "cpu";
        WeightFormat format = WeightFormat.Q8_0;
        int hidden = 512, layers = 4, prompt = 64, tokens = 32, clipLayers = 4, image = 224, vocab = 8192, warmup = 2;
        int threads = Runtime.getRuntime().availableProcessors();
        Path trace = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null && !a.equals("--help")) {
                usage("missing value after " + a);
            }
            switch (a) {
                case "--backend" -> backendName = v;
                case "--format" -> format = WeightFormat.valueOf(v.toUpperCase(Locale.ROOT));
                case "--hidden" -> hidden = Integer.parseInt(v);
                case "--layers" -> layers = Integer.parseInt(v);
                case "--prompt" -> prompt = Integer.parseInt(v);
                case "--tokens" -> tokens = Integer.parseInt(v);
                case "--clip-layers" -> clipLayers = Integer.parseInt(v);
                case "--image" -> image = Integer.parseInt(v);
                case "--vocab" -> vocab = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--trace" -> trace = Path.of(v);
                default -> usage("unknown option " + a);
            }
            i++;
        }
        Profiler profiler = Profiler.start(Profiler.Options.forReport().withTrace(trace != null));
        if (trace != null) {
            profiler.writeTraceOnExit(trace);  // also on Ctrl-C; replaced by the explicit write below
        }
        try (Backend backend = profiler.wrap(Backends.create(backendName, threads))) {
            TinyModels models;
            try (Backend.Scope _ = profiler.phase("load")) {
                models = new TinyModels(backend, format, hidden, layers, vocab, 64, clipLayers, image);
            }
            try (models) {
                profiler.setEnabled(false);  // warm-up passes: let the JIT compile the kernels first
                for (int i = 0; i < warmup; i++) {
                    runOnce(backend, models, image, prompt, tokens, vocab);
                }
                profiler.setEnabled(true);
                runOnce(backend, models, image, prompt, tokens, vocab);
            }
        }
        System.out.print(profiler.report());
        if (trace != null) {
            profiler.writeTrace(trace);
            System.out.println("\ntrace written to " + trace);
        }
        profiler.close();
    }

    /** One image encode, one prompt prefill and greedy decoding, as a chat turn runs them. */
    private static void runOnce(Backend backend, TinyModels models, int image, int prompt, int tokens, int vocab) {
        Random r = new Random(7);
        if (models.clip != null) {
            float[] pixels = new float[3 * image * image];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (float) r.nextGaussian();
            }
            try (Tensor host = Tensor.of(pixels, 1, 3, image, image); Tensor images = backend.toDevice(host);
                 Backend.Scope _ = backend.phase(VisionEncoder.IMAGE_ENCODE)) {
                models.clip.encode(images).close();
            }
        }
        int[] ids = r.ints(prompt, 0, vocab).toArray();
        try (KvCache cache = models.decoder.newCache(prompt + tokens + 1, DType.BF16)) {
            Tensor logits = models.decoder.prefill(cache, ids, null);
            for (int t = 0; t < tokens; t++) {
                logits = models.decoder.decode(cache, argmax(backend, logits));
            }
        }
    }

    private static int argmax(Backend backend, Tensor logits) {
        try (Tensor host = backend.device().isHost() ? null : backend.toHost(logits)) {
            float[] v = (host == null ? logits : host).toFloatArray();
            int best = 0;
            for (int i = 1; i < v.length; i++) {
                if (v[i] > v[best]) {
                    best = i;
                }
            }
            return best;
        }
    }

    private static void usage(String problem) {
        System.err.println("ProfileDemo: " + problem);
        System.err.println("options: --backend cpu|reference --format stored|q8_0|q4_0 --hidden N --layers N --vocab N"
                + " --prompt N --tokens N --clip-layers N --image N --warmup N --threads N --trace FILE");
        System.exit(2);
    }

    /** The backends this demo can run on. */
    static final class Backends {
        private Backends() {}

        static Backend create(String name, int threads) {
            return switch (name) {
                case "reference" -> new ReferenceBackend();
                case "cpu" -> new CpuBackend(threads);
                default -> {
                    System.err.println("ProfileDemo: unknown backend " + name + " (cpu, reference)");
                    System.exit(2);
                    yield null;
                }
            };
        }
    }
}
