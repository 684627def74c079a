package mgm.runtime.cpu;

import mgm.runtime.Backend;
import mgm.runtime.BackendConsistencySuite;
import org.junit.jupiter.api.Nested;

/** The fast CPU backend against the reference, with 2 threads (this machine's cores), 1 thread, 3 (more threads than cores, uneven splits), and tiny K tiles. */
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

    /** Weight rows longer than 32 split into K tiles of 32 by prepareLinear: tiles with row tails, many tiles. */
    @Nested
    class SmallKTiles extends BackendConsistencySuite {
        @Override
        protected Backend candidate() {
            return new CpuBackend(2, 32, 32);
        }
    }
}
