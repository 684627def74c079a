package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import mgm.runtime.Backend;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ops and regions reach a JDK Flight Recorder recording that enables them, with their shapes and costs. */
class JfrEventsTest {
    @TempDir
    Path dir;

    @Test
    void recordingReceivesOpAndRegionEvents() throws IOException {
        Profiler profiler = Profiler.start(Profiler.Options.eventsOnly().withReport(true).withRoofline(ProfilerTest.ROOF));
        Path file = dir.resolve("run.jfr");
        try (Recording recording = new Recording(); Backend b = profiler.wrap(new ReferenceBackend());
             DecodeStep step = new DecodeStep()) {
            recording.enable("mgm.Op");
            recording.enable("mgm.Region");
            step.run(b, 0);  // before the recording starts: not recorded
            recording.start();
            assertTrue(Profiler.flightRecordingRunning(), "the CLI's cue to wrap the backend for JFR");
            step.run(b, 1);
            step.run(b, 2);
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> ops = events.stream().filter(e -> e.getEventType().getName().equals("mgm.Op")).toList();
        List<RecordedEvent> regions = events.stream().filter(e -> e.getEventType().getName().equals("mgm.Region")).toList();
        assertEquals(2 * DecodeStep.OPS_PER_STEP, ops.size());
        assertEquals(2 * (1 + DecodeStep.LAYERS), regions.size());

        RecordedEvent attention = ops.stream().filter(e -> e.getString("op").equals("attention")).findFirst().orElseThrow();
        assertEquals("q[1,4,16] kv[32,4,16] F32 causal", attention.getString("shape"));
        assertEquals("decode", attention.getString("phase"));
        assertEquals("cpu-reference", attention.getString("backend"));
        assertEquals(4L * 16 * 4 * 2, attention.getLong("flops"));  // position 1: two keys visible
        assertTrue(attention.getLong("bytes") > 0);
        assertTrue(!attention.getDuration().isNegative());

        long layers = regions.stream().filter(e -> e.getString("kind").equals("layer")).count();
        assertEquals(2 * DecodeStep.LAYERS, layers);
        RecordedEvent layer = regions.stream().filter(e -> e.getString("kind").equals("layer")).findFirst().orElseThrow();
        assertEquals("decoder", layer.getString("name"));
        assertEquals(0, layer.getInt("index"));
        RecordedEvent phase = regions.stream().filter(e -> e.getString("kind").equals("phase")).findFirst().orElseThrow();
        assertEquals("decode", phase.getString("name"));
        assertEquals(-1, phase.getInt("index"));
        // the report saw all three steps, JFR only the recorded two
        assertEquals(3L * DecodeStep.OPS_PER_STEP, profiler.rows().get("decode").stream().mapToLong(Profiler.Row::calls).sum());
    }

    @Test
    void eventsStayOutOfARecordingThatDoesNotAskForThem() throws IOException {
        Profiler profiler = Profiler.start(Profiler.Options.eventsOnly());
        Path file = dir.resolve("off.jfr");
        try (Recording recording = new Recording(); Backend b = profiler.wrap(new ReferenceBackend());
             DecodeStep step = new DecodeStep()) {
            recording.disable("mgm.Op");
            recording.disable("mgm.Region");
            recording.enable("jdk.GarbageCollection");
            recording.start();
            step.run(b, 0);
            recording.stop();
            recording.dump(file);
        }
        assertTrue(RecordingFile.readAllEvents(file).stream().noneMatch(e -> e.getEventType().getName().startsWith("mgm.")));
    }
}
