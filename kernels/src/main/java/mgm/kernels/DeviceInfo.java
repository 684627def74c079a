package mgm.kernels;

/**
 * What the backend needs to know about a device, read from its attributes.
 *
 * @param name                 the device's name
 * @param ccMajor              compute capability, major
 * @param ccMinor              compute capability, minor
 * @param multiprocessors      SM count
 * @param totalMemory          bytes of device memory
 * @param clockKHz             SM clock (peak) in kHz, 0 if unknown
 * @param memoryClockKHz       memory clock (peak) in kHz, 0 if unknown
 * @param memoryBusBits        memory bus width in bits, 0 if unknown
 * @param maxSharedPerBlock    the most shared memory one block may opt in to, bytes
 * @param driverVersion        the driver's CUDA version as cuDriverGetVersion reports it (13000 = 13.0)
 */
public record DeviceInfo(String name, int ccMajor, int ccMinor, int multiprocessors, long totalMemory, int clockKHz,
                         int memoryClockKHz, int memoryBusBits, int maxSharedPerBlock, int driverVersion) {

    /** Peak memory bandwidth in bytes/s (double data rate), 0 if unknown. */
    public double peakBandwidth() {
        return 2.0 * memoryClockKHz * 1000.0 * memoryBusBits / 8.0;
    }

    /**
     * Peak dense BF16/F16 tensor-core rate in FLOP/s at the SM clock, from the SM count and the
     * per-SM rate of the architecture (dense, fp32 accumulation): 4096 FLOP/clock/SM on Hopper,
     * 2048 on A100 (sm_80), 1024 on other Ampere/Ada parts; 0 if unknown.
     */
    public double peakTensorFlops() {
        int perSm = switch (ccMajor * 10 + ccMinor) {
            case 90 -> 4096;
            case 80 -> 2048;
            case 86, 87, 89 -> 1024;
            default -> ccMajor >= 10 ? 4096 : 0;
        };
        return (double) multiprocessors * clockKHz * 1000.0 * perSm;
    }

    /** Peak FP32 rate (FMA = 2 FLOP) in FLOP/s: 128 FP32 lanes per SM on these architectures (64 on sm_80). */
    public double peakFp32Flops() {
        int lanes = ccMajor * 10 + ccMinor == 80 ? 64 : 128;
        return 2.0 * multiprocessors * clockKHz * 1000.0 * lanes;
    }

    /** e.g. {@code NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB, driver CUDA 13.0)}. */
    public String describe() {
        return String.format("%s (sm_%d%d, %d SMs, %.1f GiB, driver CUDA %d.%d)", name, ccMajor, ccMinor, multiprocessors,
                totalMemory / (double) (1L << 30), driverVersion / 1000, driverVersion % 1000 / 10);
    }
}
