package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import mgm.runtime.Backend;
import org.junit.jupiter.api.Test;

/**
 * Profiling off allocates nothing in a decode loop: neither the phase/layer marks on a plain
 * backend nor a wrapped backend whose profiler is disabled. Measured with the thread's allocation
 * counter around many decode steps on a backend whose ops do nothing (so that only the marks and
 * the decorator are measured). JMH's GC profiler measures the same in the bench module
 * ({@code ProfilingOverheadBench}).
 */
class AllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int STEPS = 5_000;

    private static long allocatedBy(Backend b, DecodeStep step) {
        for (int i = 0; i < STEPS; i++) {
            step.run(b, i % DecodeStep.CONTEXT);  // warm up: compile, and let the profiler create its rows
        }
        long before = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < STEPS; i++) {
            step.run(b, i % DecodeStep.CONTEXT);
        }
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }

    @Test
    void profilingOffAllocatesNothing() {
        assertTrue(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled());
        try (DecodeStep step = new DecodeStep()) {
            long plain = allocatedBy(new NoOpBackend(), step);

            Profiler profiler = Profiler.start(ProfilerTest.reportOnly());
            Backend wrapped = profiler.wrap(new NoOpBackend());
            profiler.setEnabled(false);
            long disabled = allocatedBy(wrapped, step);

            // A few bytes of slack cover the counter reading itself; a per-step allocation would be
            // at least STEPS * 16 bytes.
            assertTrue(plain < 1024, "plain backend with marks allocated " + plain + " bytes in " + STEPS + " steps");
            assertTrue(disabled < 1024, "disabled profiler allocated " + disabled + " bytes in " + STEPS + " steps");
        }
    }

    @Test
    void profilingOnWithoutTraceAllocatesNothingOnceRowsExist() {
        try (DecodeStep step = new DecodeStep()) {
            Profiler profiler = Profiler.start(ProfilerTest.reportOnly().withNvtx(true));  // NVTX ranges too, where the library is present
            Backend wrapped = profiler.wrap(new NoOpBackend());
            long on = allocatedBy(wrapped, step);
            assertTrue(on < 1024, "profiling (report only) allocated " + on + " bytes in " + STEPS + " steps");
            assertEquals(2L * STEPS * DecodeStep.OPS_PER_STEP,
                    profiler.rows().get("decode").stream().mapToLong(Profiler.Row::calls).sum());
        }
    }
}
