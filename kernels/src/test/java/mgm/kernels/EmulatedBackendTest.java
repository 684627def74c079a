package mgm.kernels;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link BackendChecks} on the emulator (every machine with g++). */
class EmulatedBackendTest extends BackendChecks {
    @Override
    CudaBackend open() {
        assumeTrue(EmulatedDriver.unavailableReason().isEmpty(), () -> EmulatedDriver.unavailableReason().get());
        return CudaBackend.emulated();
    }
}
