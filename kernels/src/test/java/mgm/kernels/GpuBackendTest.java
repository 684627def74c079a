package mgm.kernels;

/** {@link BackendChecks} on GPU 0; skipped without one (failed instead with -Dmgm.cuda.required=true). */
class GpuBackendTest extends BackendChecks {
    @Override
    CudaBackend open() {
        return Gpu.backendOrSkip();
    }
}
