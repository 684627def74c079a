package mgm.kernels;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import mgm.runtime.Backend;
import mgm.runtime.BackendConsistencySuite;

/** The shared consistency suite on the CUDA kernels under the emulator. */
class CudaEmulatedConsistencyTest extends BackendConsistencySuite {
    @Override
    protected Backend candidate() {
        assumeTrue(EmulatedDriver.unavailableReason().isEmpty(), () -> EmulatedDriver.unavailableReason().get());
        return CudaBackend.emulated();
    }
}
