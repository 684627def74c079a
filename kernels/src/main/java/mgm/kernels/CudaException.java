package mgm.kernels;

/** A device operation failed; the message names the operation and the driver's description of the error. */
public class CudaException extends RuntimeException {
    private final int code;

    public CudaException(String message, int code) {
        super(message);
        this.code = code;
    }

    public CudaException(String message) {
        this(message, -1);
    }

    /** The driver's error code ({@code CUresult}), or -1. */
    public int code() {
        return code;
    }
}
