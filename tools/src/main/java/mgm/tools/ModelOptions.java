package mgm.tools;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import mgm.loaders.CheckpointException;
import mgm.loaders.tokenizer.TokenizerException;
import mgm.model.MemoryEstimate;
import mgm.model.MgmModel;
import mgm.model.WeightFormat;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.QuantActivations;
import mgm.runtime.profile.Profiler;
import picocli.CommandLine.Option;

/** The options that say which model to load and how (shared by the chat, the server and the tools that run a model). */
public final class ModelOptions {
    @Option(names = "--model-path", paramLabel = "DIR",
            description = "MGM checkpoint folder (config.json, *.safetensors or pytorch_model*.bin, tokenizer files), "
                    + "e.g. work_dirs/MGM/MGM-7B-HD.")
    Path modelPath;

    @Option(names = "--vision-tower", paramLabel = "DIR",
            description = "CLIP tower folder (default: mm_vision_tower from config.json, looked up as given, next to the "
                    + "model and in its parent folders).")
    Path visionTower;

    @Option(names = "--vision-tower-aux", paramLabel = "DIR",
            description = "ConvNeXt tower folder (default: mm_vision_tower_aux from config.json, looked up likewise).")
    Path visionTowerAux;

    @Option(names = "--load-8bit", description = "Quantise the LLM's linear layers to 8 bits (Q8_0) at load.")
    boolean load8bit;

    @Option(names = "--load-4bit", description = "Quantise the LLM's linear layers to 4 bits (Q4_0) at load.")
    boolean load4bit;

    @Option(names = "--lm-head-8bit",
            description = "Quantise lm_head to 8 bits (Q8_0) too (by default it stays as stored, as bitsandbytes leaves it; "
                    + "llama.cpp's quantised files keep it at 6 bits or more): fewer bytes read per token, logits move by "
                    + "the rounding. A head tied to the embeddings gets a Q8_0 copy; the embeddings stay as stored.")
    boolean lmHead8bit;

    @Option(names = "--q8-activations",
            description = "Round activations to Q8_0 (int8 per 32 values) before matmuls with Q8_0 / Q4_0 weights, as llama.cpp "
                    + "does: faster 4-bit decode on AVX-512 CPUs; logits move by the rounding. CPU only.")
    boolean q8Activations;

    @Option(names = "--device", paramLabel = "auto|cpu|cuda", defaultValue = "auto",
            description = "Where to run: cuda, cpu, or auto = cuda when a GPU can be used, else cpu (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: one per core).")
    Integer threads;

    @Option(names = "--kv-dtype", paramLabel = "f16|bf16|f32",
            description = "Element type of the KV cache (default: f16 as MGM's fp16 cache; f32 for logits).")
    String kvDtype;

    /** The KV dtype used when --kv-dtype is not given. */
    DType defaultKvDtype = DType.F16;

    @Option(names = "--context", paramLabel = "TOKENS", defaultValue = "0",
            description = "Context length to reserve (default: the model's tokenizer_model_max_length, else "
                    + "max_position_embeddings).")
    int context;

    @Option(names = "--profile",
            description = "Print per-op timings, bytes, FLOPs and %% of the machine's roofline per phase at the end.")
    boolean profile;

    @Option(names = "--trace", paramLabel = "FILE.json",
            description = "Write a Chrome/Perfetto trace-event file with one slice per op, nested in phases and layers.")
    Path trace;

    /** For tests of the memory refusal: pretend this much memory is available (bytes, or with k/m/g/t). */
    @Option(names = "--assume-available-memory", hidden = true, paramLabel = "SIZE")
    String assumeAvailableMemory;

    public Path requireModelPath(picocli.CommandLine commandLine) {
        if (modelPath == null) {
            throw new picocli.CommandLine.ParameterException(commandLine, "missing --model-path DIR (the MGM checkpoint folder)");
        }
        return modelPath;
    }

    WeightFormat format() {
        if (load8bit && load4bit) {
            throw MgmRun.CommandFailure.usage("--load-8bit and --load-4bit exclude each other");
        }
        return load8bit ? WeightFormat.Q8_0 : load4bit ? WeightFormat.Q4_0 : WeightFormat.STORED;
    }

    DType kvDtype() {
        if (kvDtype == null) {
            return defaultKvDtype;
        }
        return switch (kvDtype.toLowerCase(Locale.ROOT)) {
            case "f16", "fp16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            case "f32", "fp32", "float32" -> DType.F32;
            default -> throw MgmRun.CommandFailure.usage("--kv-dtype must be f16, bf16 or f32, got '" + kvDtype + "'");
        };
    }

    QuantActivations activations() {
        return q8Activations ? QuantActivations.Q8_0 : QuantActivations.F32;
    }

    /** Checks every option's value before anything slow happens. */
    public void validate() {
        format();
        kvDtype();
        Devices.checkActivations(Devices.parse(device), activations());
        if (context < 0) {
            throw MgmRun.CommandFailure.usage("--context must be positive, got " + context);
        }
        if (threads != null && threads < 1) {
            throw MgmRun.CommandFailure.usage("--threads must be at least 1, got " + threads);
        }
        if (assumeAvailableMemory != null) {
            System.setProperty(MemoryEstimate.AVAILABLE_PROPERTY, Long.toString(parseSize(assumeAvailableMemory)));
        }
    }

    /** Opens the backend, then loads the model with a progress bar; failures become one-line errors. */
    public Loaded load(picocli.CommandLine commandLine, PrintWriter err) {
        return load(commandLine, err, context);
    }

    /** As {@link #load(picocli.CommandLine, PrintWriter)} with a context length (0: the model's). */
    Loaded load(picocli.CommandLine commandLine, PrintWriter err, int contextLength) {
        Path dir = requireModelPath(commandLine);
        validate();
        Backend backend = Devices.open(Devices.parse(device), threads, activations(), err);
        Profiler profiler = null;
        if (profile || trace != null || Profiler.flightRecordingRunning()) {
            Profiler.Options po = (profile ? Profiler.Options.forReport() : Profiler.Options.eventsOnly())
                    .withTrace(trace != null);
            profiler = Profiler.start(po);
            backend = profiler.wrap(backend);
            if (trace != null) {
                profiler.writeTraceOnExit(trace); // Ctrl-C or a kill still leaves a valid file
            }
        }
        ProgressBar progress = new ProgressBar(err, ProgressBar.onTerminal());
        MgmModel.Options o = new MgmModel.Options(dir, visionTower, visionTowerAux, format(), backend, contextLength, kvDtype(),
                512, true, progress::update, lmHead8bit);
        try {
            MgmModel model;
            try (Backend.Scope ignored = profiler == null ? Backend.Scope.NONE : profiler.phase("load")) {
                model = MgmModel.load(o);
            }
            progress.end();
            return new Loaded(model, backend, profiler, profile, trace, err);
        } catch (MgmModel.NotEnoughMemoryException e) {
            progress.end();
            backend.close();
            if (profiler != null) {
                profiler.close();
            }
            throw e;
        } catch (IllegalArgumentException | IllegalStateException | CheckpointException | TokenizerException
                 | UncheckedIOException e) {
            progress.end();
            backend.close();
            if (profiler != null) {
                profiler.close();
            }
            throw MgmRun.CommandFailure.file(e.getMessage());
        } catch (RuntimeException | Error e) {
            progress.end();
            backend.close();
            if (profiler != null) {
                profiler.close();
            }
            throw e;
        }
    }

    /**
     * A loaded model and the backend it runs on; closing releases both and, when profiling, prints
     * the report and writes the trace.
     */
    public record Loaded(MgmModel model, Backend backend, Profiler profiler, boolean report, Path trace, PrintWriter err)
            implements AutoCloseable {
        @Override
        public void close() {
            model.close();
            backend.close(); // the profiling wrapper resolves pending device events here
            if (profiler == null) {
                return;
            }
            try {
                if (report) {
                    err.print(profiler.report());
                }
                if (trace != null) {
                    profiler.writeTrace(trace);
                    err.println("mgm-run: trace written to " + trace);
                }
            } catch (java.io.IOException e) {
                throw MgmRun.CommandFailure.file("cannot write the trace " + trace + ": " + e.getMessage());
            } finally {
                err.flush();
                profiler.close();
            }
        }
    }

    /** 1234, 512k, 8m, 16g, 1t (powers of 1024). */
    public static long parseSize(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!t.isEmpty() && "kmgt".indexOf(t.charAt(t.length() - 1)) >= 0) {
            unit = 1L << (10 * ("kmgt".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t);
            if (!(v >= 0)) {
                throw new NumberFormatException();
            }
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw MgmRun.CommandFailure.usage("not a size: '" + s + "' (e.g. 512m, 16g)");
        }
    }
}
