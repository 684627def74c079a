package mgm.kernels;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Opening the real GPU in tests: skipped with the reason when there is none, unless
 * {@code -Dmgm.cuda.required=true} (kernels/gpu-check sets it), which turns that into a failure.
 */
final class Gpu {
    private Gpu() {}

    static CudaBackend backendOrSkip() {
        CudaBackends.Availability a = CudaBackends.tryOpen();
        if (!a.available()) {
            if (Boolean.getBoolean("mgm.cuda.required")) {
                fail("a GPU is required (-Dmgm.cuda.required=true) but: " + a.reason());
            }
            assumeTrue(false, "no GPU: " + a.reason());
        }
        return a.backend();
    }
}
