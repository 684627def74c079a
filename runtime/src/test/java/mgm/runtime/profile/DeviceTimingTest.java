package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event path for asynchronous backends, on a simulated device clock. */
class DeviceTimingTest {
    @TempDir
    Path dir;

    @Test
    void opsAreTimedByDeviceEventsResolvedPerPhaseNotPerOp() {
        FakeDevice device = new FakeDevice();
        Profiler profiler = Profiler.start(Profiler.Options.forReport().withJfr(false).withTrace(true));
        ProfilingBackend b = profiler.wrap(device);
        assertEquals(1, device.synchronizations, "one synchronisation anchors device time");
        assertEquals("fake device datasheet", profiler.roofline().source(), "the device's figures, no CPU probe");
        try (DecodeStep step = new DecodeStep(); Backend.Scope _ = b.phase("decode")) {
            int elapsedBefore = device.elapsedCalls;
            for (int i = 0; i < 3; i++) {
                b.matmul(step.x, step.wq, null, step.q);
                b.add(step.x, step.out, step.x);
            }
            assertEquals(elapsedBefore, device.elapsedCalls, "no op waited for the device");
        }
        assertTrue(device.elapsedCalls > 0, "the phase end resolved the events");
        List<Profiler.Row> rows = profiler.rows().get("decode");
        Profiler.Row matmul = rows.stream().filter(r -> r.op() == OpKind.MATMUL).findFirst().orElseThrow();
        Profiler.Row add = rows.stream().filter(r -> r.op() == OpKind.ADD).findFirst().orElseThrow();
        // Device time of exactly the op: the start event follows the previous op's idle gap.
        assertEquals(3 * (FakeDevice.MATMUL_NANOS + FakeDevice.GAP_NANOS), matmul.nanos());
        assertEquals(FakeDevice.MATMUL_NANOS + FakeDevice.GAP_NANOS, matmul.minNanos());
        assertEquals(3 * (FakeDevice.OTHER_NANOS + FakeDevice.GAP_NANOS), add.nanos());
        assertEquals(1, device.openEvents, "every event but the anchor was released");
        profiler.close();
        assertEquals(0, device.openEvents);
    }

    @Test
    void streamTrackNestsDeviceSlicesUnderDeviceRegions() throws IOException {
        FakeDevice device = new FakeDevice();
        Profiler profiler = Profiler.start(Profiler.Options.forTrace().withJfr(false));
        ProfilingBackend b = profiler.wrap(device);
        try (DecodeStep step = new DecodeStep()) {
            step.run(b, 0);
            step.run(b, 1);
        }
        Path file = dir.resolve("device.json");
        profiler.writeTrace(file);
        List<TraceFiles.Slice> slices = TraceFiles.read(file);
        List<TraceFiles.Slice> deviceOps = slices.stream().filter(s -> s.pid() == 2 && s.cat().equals("op")).toList();
        List<TraceFiles.Slice> hostOps = slices.stream().filter(s -> s.pid() == 1 && s.cat().equals("op")).toList();
        assertEquals(2 * DecodeStep.OPS_PER_STEP, deviceOps.size());
        assertEquals(2 * DecodeStep.OPS_PER_STEP, hostOps.size());
        for (TraceFiles.Slice op : deviceOps) {
            assertTrue(op.parent() != null && !op.parent().cat().equals("op"), "device op in a device region: " + op);
            long want = op.name().equals("matmul") ? FakeDevice.MATMUL_NANOS : FakeDevice.OTHER_NANOS;
            assertEquals(want + FakeDevice.GAP_NANOS, op.dur(), op.name());
        }
        assertEquals(2 * DecodeStep.LAYERS, slices.stream().filter(s -> s.pid() == 2 && s.cat().equals("layer")).count());
    }

    @Test
    void manyPendingOpsResolveInBatchesAndCaptureFallsBackToHostTime() {
        FakeDevice device = new FakeDevice();
        Profiler profiler = Profiler.start(Profiler.Options.forReport().withJfr(false));
        ProfilingBackend b = profiler.wrap(device);
        try (Tensor x = Tensor.allocate(DType.F32, 8)) {
            for (int i = 0; i < DeviceTimeline.MAX_PENDING + 10; i++) {
                b.scale(x, 1f, x);  // outside any phase: only the pending limit resolves
            }
            assertEquals(1, b.timeline().resolutions(), "one batch, not one per op");
            assertTrue(b.timeline().pending() <= DeviceTimeline.MAX_PENDING / 2 + 10);
            device.capturing = true;  // a graph capture: no events, host time instead
            b.scale(x, 1f, x);
            device.capturing = false;
        }
        Profiler.Row scale = profiler.rows().get(ThreadRecorder.NO_PHASE).getFirst();
        assertEquals(DeviceTimeline.MAX_PENDING + 11, scale.calls());
        assertTrue(scale.nanos() >= (DeviceTimeline.MAX_PENDING + 10) * (FakeDevice.OTHER_NANOS + FakeDevice.GAP_NANOS));
    }
}
