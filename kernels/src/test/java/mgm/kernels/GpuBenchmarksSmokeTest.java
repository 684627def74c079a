package mgm.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The benchmark program runs end to end (tiny shapes on the emulator), so gpu-check does not rot untested. */
class GpuBenchmarksSmokeTest {
    @Test
    void reportHasEveryKernelFamily() {
        assumeTrue(EmulatedDriver.unavailableReason().isEmpty(), () -> EmulatedDriver.unavailableReason().get());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (CudaBackend be = CudaBackend.emulated()) {
            new GpuBenchmarks(be, true, new PrintStream(buf, true, StandardCharsets.UTF_8)).run();
        }
        String report = buf.toString(StandardCharsets.UTF_8);
        for (String row : new String[] {"gemv Q4_0", "gemm BF16 own exact", "gemm Q8_0 own fast", "attention decode", "attention prefill bf16 tensor cores exact", "windowAttention",
                "rmsNorm", "rope", "embedding", "conv2d", "depthwise", "bilinear", "top-p", "CUDA graph", "end-to-end"}) {
            assertTrue(report.contains(row), "report lacks " + row + ":\n" + report);
        }
    }
}
