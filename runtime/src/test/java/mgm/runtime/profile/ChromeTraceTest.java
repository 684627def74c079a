package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trace file of a tiny run parses as trace-event JSON with ops nested in layers nested in phases. */
class ChromeTraceTest {
    @TempDir
    Path dir;

    private static Profiler.Options traceOnly() {
        return Profiler.Options.forTrace().withJfr(false).withRoofline(ProfilerTest.ROOF);
    }

    @Test
    void tinyRunTraceNestsOpsInLayersInPhases() throws IOException {
        Profiler profiler = Profiler.start(traceOnly());
        try (Backend b = profiler.wrap(new ReferenceBackend()); DecodeStep step = new DecodeStep()) {
            try (Backend.Scope _ = profiler.phase("prefill")) {
                b.matmul(step.x, step.wq, null, step.q);
            }
            step.run(b, 0);
            step.run(b, 1);
        }
        Path file = dir.resolve("trace.json");
        profiler.writeTrace(file);
        List<TraceFiles.Slice> slices = TraceFiles.read(file);

        List<TraceFiles.Slice> ops = slices.stream().filter(s -> s.cat().equals("op")).toList();
        assertEquals(1 + 2 * DecodeStep.OPS_PER_STEP, ops.size());
        assertEquals(3, slices.stream().filter(s -> s.cat().equals("phase")).count());
        assertEquals(2 * DecodeStep.LAYERS, slices.stream().filter(s -> s.cat().equals("layer")).count());
        for (TraceFiles.Slice op : ops) {
            TraceFiles.Slice parent = op.parent();
            assertTrue(parent != null && !parent.cat().equals("op"), op.name() + " lies in a layer or phase");
            assertTrue(op.args().get("shape").isTextual() && op.args().get("bytes").asLong() > 0, op.toString());
        }
        long inLayers = ops.stream().filter(o -> o.parent().cat().equals("layer")).count();
        assertEquals(2L * DecodeStep.LAYERS * DecodeStep.OPS_PER_LAYER, inLayers);
        for (TraceFiles.Slice layer : slices.stream().filter(s -> s.cat().equals("layer")).toList()) {
            assertEquals("decode", layer.parent().name());
            assertTrue(layer.name().startsWith("decoder "), layer.name());
        }
        TraceFiles.Slice matmul = ops.stream().filter(o -> o.parent().name().equals("prefill")).findFirst().orElseThrow();
        assertEquals("matmul", matmul.name());
        assertEquals("x[1,64] w[64,64] F32", matmul.args().get("shape").asText());
        assertEquals(256 + 16_384 + 256, matmul.args().get("bytes").asLong());
        assertEquals(2 * 64 * 64, matmul.args().get("flops").asLong());
        // every slice of this run is on the one thread that ran it
        assertEquals(1, slices.stream().map(s -> s.pid() + "/" + s.tid()).distinct().count());
    }

    @Test
    void regionsStillOpenAreWrittenAsUnfinished() throws IOException {
        Profiler profiler = Profiler.start(traceOnly());
        Backend b = profiler.wrap(new NoOpBackend());
        Path file = dir.resolve("interrupted.json");
        try (Tensor x = Tensor.allocate(DType.F32, 4)) {
            Backend.Scope phase = b.phase("decode");
            Backend.Scope layer = b.layer("decoder", 7);
            b.scale(x, 1f, x);
            profiler.writeTrace(file);  // as the exit hook does when Ctrl-C arrives mid-layer
            layer.close();
            phase.close();
        }
        List<TraceFiles.Slice> slices = TraceFiles.read(file);
        assertEquals(3, slices.size());
        TraceFiles.Slice op = slices.stream().filter(s -> s.cat().equals("op")).findFirst().orElseThrow();
        assertEquals("decoder 7", op.parent().name());
        assertTrue(op.parent().args().get("unfinished").asBoolean());
        assertEquals("decode", op.parent().parent().name());
        assertNull(op.parent().parent().parent());
    }

    @Test
    void traceWrittenWhileAnotherThreadRunsIsValid() throws Exception {
        // What the exit hook does on Ctrl-C: write from another thread while the run goes on.
        Profiler profiler = Profiler.start(traceOnly().withMaxTraceSlices(2_000));
        Backend b = profiler.wrap(new NoOpBackend());
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        Thread run = Thread.ofPlatform().start(() -> {
            try (DecodeStep step = new DecodeStep()) {
                for (int i = 0; !stop.get(); i++) {
                    step.run(b, i % DecodeStep.CONTEXT);
                    started.countDown();
                    LockSupport.parkNanos(200_000);  // a decode step takes time; leave the writer a core
                }
            }
        });
        try {
            started.await();
            for (int i = 0; i < 2; i++) {
                Thread.sleep(5);
                Path file = dir.resolve("live-" + i + ".json");
                profiler.writeTrace(file);
                assertFalse(TraceFiles.read(file).isEmpty());
            }
        } finally {
            stop.set(true);
            run.join();
        }
    }

    @Test
    void sliceCapIsReportedAndTheFileStaysValid() throws IOException {
        Profiler profiler = Profiler.start(traceOnly().withMaxTraceSlices(10));
        Backend b = profiler.wrap(new NoOpBackend());
        try (Tensor x = Tensor.allocate(DType.F32, 4)) {
            for (int i = 0; i < 25; i++) {
                b.scale(x, 1f, x);
            }
        }
        Path file = dir.resolve("capped.json");
        profiler.writeTrace(file);
        assertEquals(10, TraceFiles.read(file).size());
        assertEquals(15, new ObjectMapper().readTree(file.toFile()).get("otherData").get("droppedSlices").asLong());
    }

    @Test
    void namesAreEscapedAndFailedWritesLeaveNothing() throws IOException {
        Profiler profiler = Profiler.start(traceOnly());
        Backend b = profiler.wrap(new NoOpBackend());
        try (Backend.Scope _ = b.phase("odd \"name\"\\ with\ttabs")) {
            b.synchronize();
        }
        Path file = dir.resolve("escaped.json");
        profiler.writeTrace(file);
        assertEquals("odd \"name\"\\ with\ttabs", TraceFiles.read(file).getFirst().name());

        Path blocked = dir.resolve("a-file");
        Files.writeString(blocked, "x");
        assertThrows(IOException.class, () -> profiler.writeTrace(blocked.resolve("trace.json")));
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file is left");
        }
    }

    @Test
    void validatorRejectsSlicesThatOverlapWithoutNesting() throws IOException {
        // The checker itself must fail on a broken file, or the tests above would prove nothing.
        Path file = dir.resolve("overlap.json");
        Files.writeString(file, """
                {"traceEvents":[
                {"ph":"X","pid":1,"tid":1,"name":"a","cat":"phase","ts":0.000,"dur":10.000,"args":{}},
                {"ph":"X","pid":1,"tid":1,"name":"b","cat":"op","ts":5.000,"dur":10.000,"args":{}}]}
                """);
        assertThrows(org.opentest4j.AssertionFailedError.class, () -> TraceFiles.read(file));
        Files.writeString(file, "{\"traceEvents\":[{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"name\":\"a\"");
        assertThrows(IOException.class, () -> TraceFiles.read(file));
    }

    @Test
    void traceNeedsTheTraceOption() {
        Profiler profiler = Profiler.start(ProfilerTest.reportOnly());
        assertThrows(IllegalStateException.class, () -> profiler.writeTrace(dir.resolve("t.json")));
    }

    @Test
    void microsecondsKeepNanosecondPrecision() {
        StringBuilder b = new StringBuilder();
        ChromeTraceWriter.micros(b, 1_234_567);
        b.append(' ');
        ChromeTraceWriter.micros(b, 5);
        b.append(' ');
        ChromeTraceWriter.micros(b, 40_050);
        assertEquals("1234.567 0.005 40.050", b.toString());
    }
}
