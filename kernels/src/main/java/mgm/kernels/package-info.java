/**
 * The CUDA backend: hand-written kernels ({@code kernels/src/main/cuda}, compiled to PTX by the
 * build), a {@link mgm.kernels.CudaBackend} that implements {@link mgm.runtime.Backend} over a
 * {@link mgm.kernels.Driver}, with two drivers: {@link mgm.kernels.CudaDriver} (the CUDA driver
 * API through FFM) and {@link mgm.kernels.EmulatedDriver} (host memory and the same kernels
 * compiled for the CPU against the emulator in {@code kernels/src/emu}, for tests without a GPU).
 * {@link mgm.kernels.CudaBackends#tryOpen} opens a GPU or says why it cannot.
 */
package mgm.kernels;
