package mgm.kernels;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterAll;

/**
 * {@link BackendChecks} with the emulator resuming threads in shuffled order: a kernel that reads
 * shared memory another thread wrote without a barrier passes in one order and fails in another.
 */
class EmulatedShuffledBackendTest extends BackendChecks {
    private EmulatedDriver driver;

    @Override
    CudaBackend open() {
        assumeTrue(EmulatedDriver.unavailableReason().isEmpty(), () -> EmulatedDriver.unavailableReason().get());
        driver = EmulatedDriver.open();
        driver.setSchedule(EmulatedDriver.Schedule.SHUFFLED);
        return new CudaBackend(driver);
    }

    @AfterAll
    void forwardAgain() {
        if (driver != null) {
            EmulatedDriver.open().setSchedule(EmulatedDriver.Schedule.FORWARD);
        }
    }
}
