package mgm.kernels;

/** The device is out of memory (after the allocator released its cached blocks). */
public final class DeviceMemoryException extends CudaException {
    public DeviceMemoryException(String message) {
        super(message, 2);
    }
}
