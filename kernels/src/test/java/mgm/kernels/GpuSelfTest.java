package mgm.kernels;

/** {@link SelfTestKernels} on GPU 0 (module emu_selftest from the test PTX); skipped without a GPU. */
class GpuSelfTest extends SelfTestKernels {
    @Override
    Driver open() {
        return Gpu.backendOrSkip().driver();
    }
}
