package mgm.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The device operations the CUDA backend needs, on one device and one stream: memory, copies,
 * kernel launches, graphs and timing. Every operation is ordered on the stream; copies to the
 * host and {@link #synchronize()} wait for it. Implementations: {@link CudaDriver} (a GPU
 * through the driver API) and {@link EmulatedDriver} (host memory, kernels run by the emulator).
 * Failures raise {@link CudaException} with the driver's own description of the error.
 */
public interface Driver extends AutoCloseable {

    /** {@code cuda} or {@code emulator}. */
    String kind();

    DeviceInfo info();

    /** Device memory of {@code bytes} bytes (contents undefined); {@link DeviceMemoryException} when the device is full. */
    long malloc(long bytes);

    void free(long address);

    /** Sets {@code bytes} bytes at {@code address} to {@code value & 0xFF}. */
    void memset(long address, int value, long bytes);

    /** Host to device; {@code src} may be reused as soon as this returns. */
    void copyToDevice(long dst, MemorySegment src, long bytes);

    /** Device to host; returns when the bytes are in {@code dst} (waits for the stream). */
    void copyToHost(MemorySegment dst, long src, long bytes);

    void copyOnDevice(long dst, long src, long bytes);

    /** A kernel of a module (one module per {@code .cu} file), loaded on first use. */
    Kernel kernel(String module, String name);

    /** Queues a launch; {@code args} is read before this returns. */
    void launch(Kernel kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, KernelArgs args);

    /** Waits for all queued work and reports errors of kernels that ran asynchronously. */
    void synchronize();

    // ------------------------------------------------------------------ graphs

    /** From now on the stream's work is recorded, not run, until {@link #endCapture()}. */
    void beginCapture();

    Graph endCapture();

    /** An executable instance of a recorded graph. */
    GraphExec instantiate(Graph graph);

    /** Replaces the parameters of {@code exec} with those of {@code graph}; false when their shapes differ. */
    boolean update(GraphExec exec, Graph graph);

    void launch(GraphExec exec);

    // ------------------------------------------------------------------ timing

    /** Records an event on the stream; returns its handle. */
    long recordEvent();

    /** Milliseconds between two recorded events (waits for the later one). */
    float elapsedMillis(long start, long end);

    void destroyEvent(long event);

    /** cuBLAS on this device, when its library is present. */
    default Optional<Blas> blas() {
        return Optional.empty();
    }

    @Override
    void close();

    /** A recorded graph (not yet executable). */
    interface Graph extends AutoCloseable {
        @Override
        void close();
    }

    /** An executable graph. */
    interface GraphExec extends AutoCloseable {
        @Override
        void close();
    }
}
