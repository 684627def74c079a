package mgm.runtime.cpu;

import mgm.runtime.Backend;
import mgm.runtime.BackendConsistencySuite;
import mgm.runtime.QuantActivations;
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

    /** Activations rounded to Q8_0 before quantised matmuls (Q4_0 GEMVs take the integer kernel), against a reference that rounds them the same way. */
    @Nested
    class Q8Activations extends BackendConsistencySuite {
        @Override
        protected Backend candidate() {
            return new CpuBackend(2, QuantActivations.Q8_0);
        }

        @Override
        protected QuantActivations quantActivations() {
            return QuantActivations.Q8_0;
        }
    }

    /** The same with K tiles of 32 (the integer kernel reads its activation blocks at each tile's offset). */
    @Nested
    class Q8ActivationsSmallKTiles extends BackendConsistencySuite {
        @Override
        protected Backend candidate() {
            return new CpuBackend(2, 32, 32, QuantActivations.Q8_0);
        }

        @Override
        protected QuantActivations quantActivations() {
            return QuantActivations.Q8_0;
        }
    }
}
