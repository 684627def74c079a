package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** The decorator's rows, phases and report on a tiny decode run on the reference backend. */
class ProfilerTest {
    /** Fixed ceilings so that tests do not spend time probing the machine. */
    static final Roofline ROOF = new Roofline(10e9, 100e9, "test figures");

    static Profiler.Options reportOnly() {
        return Profiler.Options.forReport().withJfr(false).withRoofline(ROOF);
    }

    @Test
    void rowsAddUpCallsBytesAndFlopsPerSignatureAndPhase() {
        Profiler profiler = Profiler.start(reportOnly());
        try (Backend b = profiler.wrap(new ReferenceBackend()); DecodeStep step = new DecodeStep()) {
            for (int pos = 0; pos < 3; pos++) {
                step.run(b, pos);
            }
        }
        Map<String, List<Profiler.Row>> rows = profiler.rows();
        assertEquals(List.of("decode"), List.copyOf(rows.keySet()));
        List<Profiler.Row> decode = rows.get("decode");
        assertEquals(3L * DecodeStep.OPS_PER_STEP, decode.stream().mapToLong(Profiler.Row::calls).sum());

        // q, k, v and o projections: 4 per layer, 2 layers, 3 steps, each x 256 B + w 16,384 B + out 256 B.
        Profiler.Row proj = row(decode, OpKind.MATMUL, "x[1,64] w[64,64] F32");
        assertEquals(24, proj.calls());
        assertEquals(24L * (256 + 16_384 + 256), proj.bytes());
        assertEquals(24L * 2 * 64 * 64, proj.flops());
        assertTrue(proj.nanos() > 0 && proj.minNanos() > 0 && proj.maxNanos() >= proj.minNanos());

        // One attention row for every position; FLOPs grow with the keys seen: 4*16*4*(1+2+3) per layer.
        Profiler.Row attention = row(decode, OpKind.ATTENTION, "q[1,4,16] kv[32,4,16] F32 causal");
        assertEquals(6, attention.calls());
        assertEquals(2L * 4 * 16 * 4 * (1 + 2 + 3), attention.flops());

        // Quantised MLP weights: [128, 64] Q8_0 = 256 blocks of 34 bytes.
        Profiler.Row gate = row(decode, OpKind.MATMUL, "x[1,64] w[128,64] Q8_0");
        assertEquals(12, gate.calls());
        assertEquals(12L * (256 + 256 * 34 + 512), gate.bytes());

        Profiler.PhaseTime t = profiler.phaseTimes().get("decode");
        assertEquals(3, t.regions());
        assertTrue(t.nanos() >= decode.stream().mapToLong(Profiler.Row::nanos).sum(), "ops lie within the phase");
    }

    private static Profiler.Row row(List<Profiler.Row> rows, OpKind op, String shape) {
        return rows.stream().filter(r -> r.op() == op && r.shape().equals(shape)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + op + " " + shape + " in " + rows));
    }

    @Test
    void reportSeparatesPhasesAndNamesTheRoofline() {
        Profiler profiler = Profiler.start(reportOnly());
        try (Backend b = profiler.wrap(new ReferenceBackend()); DecodeStep step = new DecodeStep()) {
            try (Backend.Scope _ = b.phase("prefill")) {
                b.matmul(step.x, step.wq, null, step.q);
            }
            step.run(b, 0);
            step.run(b, 1);
            b.scale(step.x, 2f, step.x);  // outside any phase
        }
        String report = profiler.report();
        assertTrue(report.contains("roofline: 10.0 GB/s, 100.0 GFLOP/s, ridge 10.0 FLOP/byte (test figures)"), report);
        assertTrue(report.contains("== prefill: 1 region,"), report);
        assertTrue(report.contains("== decode: 2 regions,"), report);
        assertTrue(report.contains("== " + ThreadRecorder.NO_PHASE + ": ops"), report);
        assertTrue(report.contains("all phases, by op"), report);
        assertTrue(report.indexOf("== prefill") < report.indexOf("== decode"), "phases in the order they ran");
        assertTrue(report.lines().anyMatch(l -> l.startsWith("attention ") && l.contains("q[1,4,16] kv[32,4,16] F32 causal")),
                report);
    }

    @Test
    void disabledProfilerForwardsWithoutRecording() {
        NoOpBackend inner = new NoOpBackend();
        Profiler profiler = Profiler.start(reportOnly());
        Backend b = profiler.wrap(inner);
        profiler.setEnabled(false);
        try (DecodeStep step = new DecodeStep()) {
            assertSame(Backend.Scope.NONE, b.phase("decode"));
            step.run(b, 0);
            assertEquals(DecodeStep.OPS_PER_STEP, inner.calls);
            assertTrue(profiler.rows().isEmpty());
            profiler.setEnabled(true);
            step.run(b, 1);
            assertEquals(2L * DecodeStep.OPS_PER_STEP, inner.calls);
            assertEquals(DecodeStep.OPS_PER_STEP, profiler.rows().get("decode").stream().mapToLong(Profiler.Row::calls).sum());
        }
    }

    @Test
    void failingOpPropagatesItsErrorAndIsNotRecorded() {
        Profiler profiler = Profiler.start(reportOnly());
        Backend b = profiler.wrap(new ReferenceBackend());
        try (Tensor x = Tensor.allocate(DType.F32, 2, 3); Tensor w = Tensor.allocate(DType.F32, 4, 5);
             Tensor out = Tensor.allocate(DType.F32, 2, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.matmul(x, w, null, out));
            assertTrue(e.getMessage().startsWith("matmul"), e.getMessage());
            assertTrue(profiler.rows().isEmpty());
            b.scale(x, 1f, x);
            assertEquals(1, profiler.rows().get(ThreadRecorder.NO_PHASE).getFirst().calls());
        }
    }

    @Test
    void scopesNestCloseInnerOnesAndToleratesASecondClose() {
        Profiler profiler = Profiler.start(reportOnly());
        Backend b = profiler.wrap(new NoOpBackend());
        try (Tensor x = Tensor.allocate(DType.F32, 4)) {
            Backend.Scope outer = profiler.phase("prefill");
            Backend.Scope inner = b.phase("prefill");  // the model marks the phase the caller marked too
            Backend.Scope layer = b.layer("decoder", 0);
            b.scale(x, 1f, x);
            outer.close();          // closes the layer and the inner phase as well
            layer.close();
            inner.close();
            outer.close();
            b.scale(x, 1f, x);
        }
        assertEquals(0, profiler.recorder().depth());
        Profiler.PhaseTime t = profiler.phaseTimes().get("prefill");
        assertEquals(1, t.regions(), "a phase nested in itself counts once");
        Map<String, List<Profiler.Row>> rows = profiler.rows();
        assertEquals(1, rows.get("prefill").getFirst().calls());
        assertEquals(1, rows.get(ThreadRecorder.NO_PHASE).getFirst().calls());
    }

    @Test
    void threadsRecordSeparatelyAndMerge() throws Exception {
        Profiler profiler = Profiler.start(reportOnly());
        Backend b = profiler.wrap(new NoOpBackend());
        Runnable work = () -> {
            try (Tensor x = Tensor.allocate(DType.F32, 8); Backend.Scope _ = b.phase("decode")) {
                for (int i = 0; i < 1000; i++) {
                    b.scale(x, 1f, x);
                }
            }
        };
        Thread t1 = Thread.ofPlatform().start(work);
        Thread t2 = Thread.ofPlatform().start(work);
        t1.join();
        t2.join();
        assertEquals(2000, profiler.rows().get("decode").getFirst().calls());
        assertEquals(2, profiler.phaseTimes().get("decode").regions());
    }

    @Test
    void decoratorOverridesEveryBackendMethod() throws Exception {
        // A Backend method added later must be timed (or passed through) explicitly, not silently
        // inherited as a default that calls the decorator's other methods.
        for (Method m : Backend.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Method impl = ProfilingBackend.class.getMethod(m.getName(), m.getParameterTypes());
            assertEquals(ProfilingBackend.class, impl.getDeclaringClass(), m.toString());
        }
    }

    @Test
    void refusesToWrapTwice() {
        Profiler profiler = Profiler.start(reportOnly());
        Backend b = profiler.wrap(new NoOpBackend());
        assertThrows(IllegalArgumentException.class, () -> profiler.wrap(b));
        assertFalse(profiler.rows().containsKey("decode"));
    }
}
