package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import mgm.runtime.Backend;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/**
 * NVTX without its library: the binding reports absence and profiling with NVTX on works as
 * without it. (Ranges reaching Nsight can only be checked on a machine with CUDA and Nsight.)
 */
class NvtxTest {
    @Test
    void absentLibraryMeansNoOp() {
        assumeTrue(Nvtx.get().isEmpty(), "an NVTX library is installed here (" + Nvtx.get().map(Nvtx::library).orElse("")
                + "): this test covers machines without one");
        Profiler profiler = Profiler.start(ProfilerTest.reportOnly().withNvtx(true));
        try (Backend b = profiler.wrap(new ReferenceBackend()); DecodeStep step = new DecodeStep()) {
            step.run(b, 0);
        }
        assertEquals(DecodeStep.OPS_PER_STEP, profiler.rows().get("decode").stream().mapToLong(Profiler.Row::calls).sum());
    }

    @Test
    void presentLibraryAcceptsNestedRanges() {
        assumeTrue(Nvtx.get().isPresent(), "no NVTX library on this machine (libnvToolsExt.so.1 / libnvtx3interop.so.1)");
        Nvtx nvtx = Nvtx.get().orElseThrow();
        nvtx.push("phase");
        nvtx.push("op");
        nvtx.pop();
        nvtx.pop();
    }
}
