package mgm.runtime.cpu;

import mgm.runtime.Backend;
import mgm.runtime.BackendConsistencySuite;
import org.junit.jupiter.api.Nested;

/** The fast CPU backend against the reference, with 2 threads (this machine's cores), 1 thread, and 3 (more threads than cores, uneven splits). */
class CpuBackendConsistencyTest extends BackendConsistencySuite {
    @Override
    protected Backend candidate() {
        return new CpuBackend(2);
    }

    @Nested
    class OneThread extends BackendConsistencySuite {
        @Override
        protected Backend candidate() {
            return new CpuBackend(1);
        }
    }

    @Nested
    class ThreeThreads extends BackendConsistencySuite {
        @Override
        protected Backend candidate() {
            return new CpuBackend(3);
        }
    }
}
