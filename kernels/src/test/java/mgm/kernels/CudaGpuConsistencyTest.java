package mgm.kernels;

import mgm.runtime.Backend;
import mgm.runtime.BackendConsistencySuite;

/** The shared consistency suite on GPU 0; skipped without one (failed instead with -Dmgm.cuda.required=true). */
class CudaGpuConsistencyTest extends BackendConsistencySuite {
    @Override
    protected Backend candidate() {
        return Gpu.backendOrSkip();
    }
}
