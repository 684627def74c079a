package mgm.runtime.profile;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Writes a profiler's slices as Chrome trace-event JSON (the "JSON Object Format" that
 * {@code chrome://tracing} and Perfetto open): complete events ({@code "ph":"X"}) with microsecond
 * {@code ts}/{@code dur} (nanosecond precision as decimals), one thread track per host thread in
 * process 1 and one track per device stream in process 2, metadata events naming both. On every
 * track, slices are sorted by start (longer first on ties), and children lie within their parents
 * because all are measured on one clock. Ops carry their shape, bytes and FLOPs as arguments.
 */
final class ChromeTraceWriter {
    private static final int HOST_PID = 1;
    private static final int DEVICE_PID = 2;

    private final Profiler profiler;

    ChromeTraceWriter(Profiler profiler) {
        this.profiler = profiler;
    }

    /** One slice, copied out of a recorder. */
    private record Slice(int pid, long tid, long start, long end, int name, int detail, byte category, long bytes,
                         long flops, boolean unfinished) {}

    void write(Path file) throws IOException {
        long now = System.nanoTime();
        List<Slice> slices = new ArrayList<>();
        List<String> meta = new ArrayList<>();
        long[] dropped = {0};
        meta.add(metaEvent(HOST_PID, -1, "process_name", "mgm-java (" + profiler.backendDescription() + ")"));
        for (ProfilingBackend b : profiler.backends()) {
            if (b.timeline() != null) {
                meta.add(metaEvent(DEVICE_PID, -1, "process_name", "device"));
                meta.add(metaEvent(DEVICE_PID, b.timeline().track(), "thread_name", b.timeline().streamName()));
            }
        }
        for (ThreadRecorder r : profiler.recorders()) {
            meta.add(metaEvent(HOST_PID, r.threadId, "thread_name", r.threadName));
            r.readTrace(now, new ThreadRecorder.TraceReader() {
                @Override
                public void read(ThreadRecorder recorder, TraceBuffer t) {
                    dropped[0] += t.dropped();
                    for (int i = 0; i < t.size(); i++) {
                        if (t.start(i) < 0) {
                            continue;  // a device slice whose events were never resolved
                        }
                        boolean host = t.track(i) == ThreadRecorder.HOST_TRACK;
                        slices.add(new Slice(host ? HOST_PID : DEVICE_PID, host ? recorder.threadId : t.track(i),
                                t.start(i), t.end(i), t.name(i), t.detail(i), t.category(i), t.bytes(i), t.flops(i), false));
                    }
                }

                @Override
                public void open(ThreadRecorder recorder, int nameId, byte category, long start, long end) {
                    slices.add(new Slice(HOST_PID, recorder.threadId, start, end, nameId, -1, category, 0, 0, true));
                }
            });
        }
        slices.sort(Comparator.comparingInt(Slice::pid).thenComparingLong(Slice::tid).thenComparingLong(Slice::start)
                .thenComparing(Comparator.comparingLong(Slice::end).reversed()).thenComparingInt(Slice::category));

        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        // A sibling file (same file system, so the move is atomic) with the default permissions.
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime()
                + ".tmp");
        try {
            try (Writer w = new BufferedWriter(Files.newBufferedWriter(tmp, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16)) {
                long origin = profiler.originNanos();
                w.write("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"mgm-java profiler\",\"backend\":");
                w.write(quote(profiler.backendDescription()));
                Roofline roof = profiler.roofline();
                if (roof != null) {
                    w.write(",\"roofline\":" + quote(roof.describe()));
                }
                w.write(",\"droppedSlices\":" + dropped[0] + "},\n\"traceEvents\":[\n");
                boolean first = true;
                for (String m : meta) {
                    w.write(first ? "" : ",\n");
                    w.write(m);
                    first = false;
                }
                NameTable names = profiler.names();
                StringBuilder line = new StringBuilder(256);
                for (Slice s : slices) {
                    line.setLength(0);
                    line.append(first ? "" : ",\n");
                    first = false;
                    line.append("{\"ph\":\"X\",\"pid\":").append(s.pid()).append(",\"tid\":").append(s.tid())
                            .append(",\"name\":").append(quote(names.name(s.name())))
                            .append(",\"cat\":\"").append(category(s.category())).append("\",\"ts\":");
                    micros(line, Math.max(0, s.start() - origin));
                    line.append(",\"dur\":");
                    micros(line, Math.max(0, s.end() - s.start()));
                    line.append(",\"args\":{");
                    if (s.category() == TraceBuffer.OP) {
                        line.append("\"shape\":").append(quote(names.name(s.detail()))).append(",\"bytes\":").append(s.bytes())
                                .append(",\"flops\":").append(s.flops());
                    } else if (s.unfinished()) {
                        line.append("\"unfinished\":true");
                    }
                    line.append("}}");
                    w.append(line);
                }
                w.write("\n]}\n");
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String category(byte c) {
        return switch (c) {
            case TraceBuffer.PHASE -> "phase";
            case TraceBuffer.LAYER -> "layer";
            default -> "op";
        };
    }

    private static String metaEvent(int pid, long tid, String kind, String name) {
        return "{\"ph\":\"M\",\"pid\":" + pid + (tid >= 0 ? ",\"tid\":" + tid : "") + ",\"name\":\"" + kind
                + "\",\"args\":{\"name\":" + quote(name) + "}}";
    }

    /** Nanoseconds as microseconds with three decimals, exactly. */
    static void micros(StringBuilder b, long nanos) {
        b.append(nanos / 1000).append('.');
        long frac = nanos % 1000;
        if (frac < 100) {
            b.append('0');
        }
        if (frac < 10) {
            b.append('0');
        }
        b.append(frac);
    }

    /** A JSON string literal (controls escaped), or {@code null}. */
    static String quote(String s) {
        return s == null ? "null" : mgm.runtime.JsonStrings.quote(s);
    }
}
