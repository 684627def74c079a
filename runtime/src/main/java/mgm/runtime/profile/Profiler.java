package mgm.runtime.profile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import mgm.runtime.Backend;

/**
 * Per-op profiling of a run: wrap the backend, mark phases, and at the end print the table and/or
 * write the trace.
 *
 * <pre>{@code
 * Profiler profiler = Profiler.start(Profiler.Options.forReport().withTrace(true));
 * Backend backend = profiler.wrap(new CpuBackend());        // pass this one to the model
 * try (var p = profiler.phase("load")) { ... }               // model code marks its own phases
 * ...
 * System.err.print(profiler.report());                       // the table, phases separated
 * profiler.writeTrace(Path.of("trace.json"));                // Perfetto / chrome://tracing
 * }</pre>
 *
 * Phases and layers nest per thread; ops are attributed to the innermost open phase. Model code
 * marks regions through {@link Backend#phase} / {@link Backend#layer}, which cost nothing on an
 * unwrapped backend. Thread-safe: every thread has its own recorder; report and trace merge them.
 */
public final class Profiler implements AutoCloseable {

    /**
     * What to record.
     *
     * @param report         keep per-op rows for {@link #report()} (and measure the roofline)
     * @param trace          keep one slice per op and region for {@link #writeTrace}
     * @param jfr            emit {@code mgm.Op} / {@code mgm.Region} JFR events while a recording enables them
     * @param nvtx           push NVTX ranges when the NVTX library is present
     * @param maxTraceSlices slices kept per thread; later ones are counted as dropped
     * @param roofline       the machine's ceilings, or null to take them from the device or the CPU probes
     */
    public record Options(boolean report, boolean trace, boolean jfr, boolean nvtx, int maxTraceSlices, Roofline roofline) {
        /** Default cap on trace slices per thread (about 60 bytes each in memory, 200 in the file). */
        public static final int DEFAULT_MAX_TRACE_SLICES = 2_000_000;

        public Options {
            if (maxTraceSlices < 1) {
                throw new IllegalArgumentException("maxTraceSlices " + maxTraceSlices + " must be >= 1");
            }
        }

        /** The report only (plus JFR and NVTX): what {@code --profile} asks for. */
        public static Options forReport() {
            return new Options(true, false, true, true, DEFAULT_MAX_TRACE_SLICES, null);
        }

        /** The trace only (plus JFR and NVTX): what {@code --trace FILE} alone asks for. */
        public static Options forTrace() {
            return new Options(false, true, true, true, DEFAULT_MAX_TRACE_SLICES, null);
        }

        /** JFR events and NVTX ranges only: for runs under {@code -XX:StartFlightRecording} or Nsight. */
        public static Options eventsOnly() {
            return new Options(false, false, true, true, DEFAULT_MAX_TRACE_SLICES, null);
        }

        public Options withReport(boolean on) {
            return new Options(on, trace, jfr, nvtx, maxTraceSlices, roofline);
        }

        public Options withTrace(boolean on) {
            return new Options(report, on, jfr, nvtx, maxTraceSlices, roofline);
        }

        public Options withJfr(boolean on) {
            return new Options(report, trace, on, nvtx, maxTraceSlices, roofline);
        }

        public Options withNvtx(boolean on) {
            return new Options(report, trace, jfr, on, maxTraceSlices, roofline);
        }

        public Options withMaxTraceSlices(int n) {
            return new Options(report, trace, jfr, nvtx, n, roofline);
        }

        /** Fixed ceilings instead of measuring (tests; datasheet figures). */
        public Options withRoofline(Roofline r) {
            return new Options(report, trace, jfr, nvtx, maxTraceSlices, r);
        }
    }

    private final Options options;
    private final long originNanos = System.nanoTime();
    private final NameTable names = new NameTable();
    private final int[] opNameIds = new int[OpKind.values().length];
    private final List<ThreadRecorder> recorders = new CopyOnWriteArrayList<>();
    private final ThreadLocal<ThreadRecorder> local;
    private final List<ProfilingBackend> backends = new CopyOnWriteArrayList<>();
    private volatile boolean enabled = true;
    private volatile Roofline roofline;
    private volatile String backendDescription = "";
    private Thread exitHook;

    private Profiler(Options options) {
        this.options = options;
        this.roofline = options.roofline();
        for (OpKind k : OpKind.values()) {
            opNameIds[k.ordinal()] = names.id(k.opName());
        }
        this.local = ThreadLocal.withInitial(() -> {
            ThreadRecorder r = new ThreadRecorder(this, Thread.currentThread());
            recorders.add(r);
            return r;
        });
    }

    /** A profiler recording what {@code options} ask for; enabled from the start. */
    public static Profiler start(Options options) {
        return new Profiler(options);
    }

    /**
     * True when a JDK Flight Recorder recording is running, e.g. started by
     * {@code -XX:StartFlightRecording}: a reason to wrap the backend with {@link Options#eventsOnly()}
     * even without {@code --profile}, so that the recording shows ops.
     */
    public static boolean flightRecordingRunning() {
        if (!jdk.jfr.FlightRecorder.isInitialized()) {
            return false;
        }
        return jdk.jfr.FlightRecorder.getFlightRecorder().getRecordings().stream()
                .anyMatch(r -> r.getState() == jdk.jfr.RecordingState.RUNNING);
    }

    public Options options() {
        return options;
    }

    /**
     * The profiling decorator around {@code backend}. For a {@link DeviceTimer.Source} this
     * synchronises once to anchor device time. The first wrapped backend decides the roofline:
     * the device's reported figures, or the CPU probes ({@link MachineProbe}, up to a second) when
     * a report is wanted and none was given.
     */
    public ProfilingBackend wrap(Backend backend) {
        if (backend instanceof ProfilingBackend p) {
            throw new IllegalArgumentException("profiler: backend " + p.name() + " is already profiled");
        }
        DeviceTimeline timeline = null;
        if (backend instanceof DeviceTimer.Source source) {
            DeviceTimer timer = source.openTimer();
            if (timer != null) {
                backend.synchronize();
                timeline = new DeviceTimeline(timer, (byte) (1 + backends.size()));
                if (roofline == null) {
                    roofline = timer.roofline();
                }
            }
        }
        if (roofline == null && options.report()) {
            roofline = MachineProbe.measure();
        }
        ProfilingBackend p = new ProfilingBackend(backend, this, timeline);
        backends.add(p);
        backendDescription = backendDescription.isEmpty() ? backend.name() : backendDescription + ", " + backend.name();
        return p;
    }

    /** Opens a phase on the calling thread (host time only); close it with try-with-resources. */
    public Backend.Scope phase(String name) {
        return enabled ? recorder().pushPhase(name, null) : Backend.Scope.NONE;
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** Pauses (false) or resumes recording; wrapped backends then just forward their calls. */
    public void setEnabled(boolean on) {
        enabled = on;
    }

    /** The roofline in use (null before a backend was wrapped unless given in the options). */
    public Roofline roofline() {
        return roofline;
    }

    // ------------------------------------------------------------------ results

    /** One row of the profile: an op signature within a phase. Times are nanoseconds. */
    public record Row(String phase, OpKind op, String shape, long calls, long nanos, long bytes, long flops,
                      long minNanos, long maxNanos) {
        public double meanNanos() {
            return calls == 0 ? 0 : (double) nanos / calls;
        }
    }

    /** Wall time of a phase: how many times it was entered (not nested in itself) and for how long in all. */
    public record PhaseTime(String phase, long regions, long nanos) {}

    /** Every row, by phase in the order phases first ran, merged over threads; device events resolved first. */
    public Map<String, List<Row>> rows() {
        resolveDevices();
        Map<String, Map<OpSample, OpStats>> merged = new LinkedHashMap<>();
        for (ThreadRecorder r : recorders) {
            r.snapshotRows().forEach((phase, rows) -> {
                Map<OpSample, OpStats> into = merged.computeIfAbsent(phase, k -> new LinkedHashMap<>());
                rows.forEach((sig, s) -> into.merge(sig, s, (a, b) -> {
                    a.merge(b);
                    return a;
                }));
            });
        }
        Map<String, List<Row>> out = new LinkedHashMap<>();
        merged.forEach((phase, rows) -> {
            if (rows.isEmpty()) {
                return;
            }
            List<Row> list = new ArrayList<>();
            for (OpStats s : rows.values()) {
                list.add(new Row(phase, s.signature.kind(), s.label, s.calls, s.nanos, s.bytes, s.flops,
                        s.calls == 0 || s.minNanos == Long.MAX_VALUE ? 0 : s.minNanos, s.maxNanos));
            }
            list.sort((a, b) -> Long.compare(b.nanos(), a.nanos()));
            out.put(phase, list);
        });
        return out;
    }

    /** Wall times of the phases closed so far, merged over threads. */
    public Map<String, PhaseTime> phaseTimes() {
        Map<String, PhaseTime> out = new LinkedHashMap<>();
        for (ThreadRecorder r : recorders) {
            r.snapshotPhaseTimes().forEach((phase, t) -> out.merge(phase, new PhaseTime(phase, t[0], t[1]),
                    (a, b) -> new PhaseTime(phase, a.regions() + b.regions(), a.nanos() + b.nanos())));
        }
        return out;
    }

    /** The table printed at the end of a run: one section per phase, then totals by op. */
    public String report() {
        Roofline r = roofline;
        if (r == null) {
            r = MachineProbe.measure();
            roofline = r;
        }
        return ReportTable.format(backendDescription, r, rows(), phaseTimes());
    }

    /**
     * Writes the Chrome trace-event JSON ({@code chrome://tracing}, Perfetto) of everything recorded
     * so far: one track per thread and per device stream, ops nested in layers in phases; regions
     * still open end now and are marked unfinished. Written to a temporary file and moved into place,
     * so the file is complete or absent.
     */
    public void writeTrace(Path file) throws IOException {
        if (!options.trace()) {
            throw new IllegalStateException("profiler: the trace was not recorded (Options.trace)");
        }
        resolveDevices();
        new ChromeTraceWriter(this).write(file);
    }

    /**
     * Writes the trace to {@code file} when the JVM exits (also on Ctrl-C), unless {@link #close()}
     * ran first; {@link #writeTrace} may still be called explicitly before. Problems are printed to
     * standard error, as a shutdown hook cannot throw to anyone.
     */
    public synchronized void writeTraceOnExit(Path file) {
        if (exitHook != null) {
            Runtime.getRuntime().removeShutdownHook(exitHook);
        }
        exitHook = new Thread(() -> {
            try {
                enabled = false;  // the run's threads go on during shutdown: stop recording, then write
                writeTrace(file);
            } catch (IOException | RuntimeException e) {
                System.err.println("profiler: could not write trace " + file + ": " + e.getMessage());
            }
        }, "mgm-trace-writer");
        Runtime.getRuntime().addShutdownHook(exitHook);
    }

    /** Resolves pending device events and drops the exit hook; results stay readable. */
    @Override
    public synchronized void close() {
        for (ProfilingBackend b : backends) {
            detach(b);
        }
        if (exitHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(exitHook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs
            }
            exitHook = null;
        }
    }

    // ------------------------------------------------------------------ package internals

    ThreadRecorder recorder() {
        return local.get();
    }

    NameTable names() {
        return names;
    }

    int opNameId(OpKind kind) {
        return opNameIds[kind.ordinal()];
    }

    long originNanos() {
        return originNanos;
    }

    List<ThreadRecorder> recorders() {
        return recorders;
    }

    List<ProfilingBackend> backends() {
        return backends;
    }

    String backendDescription() {
        return backendDescription;
    }

    private void resolveDevices() {
        for (ProfilingBackend b : backends) {
            if (b.timeline() != null) {
                b.timeline().resolveAll();
            }
        }
    }

    /** Resolves and closes a backend's device timeline (before the backend itself closes). */
    void detach(ProfilingBackend b) {
        DeviceTimeline t = b.timeline();
        if (t != null) {
            t.close();
        }
    }
}
