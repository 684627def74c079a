package mgm.kernels;

/** No usable GPU: the message says why (no driver, driver too old, no device, kernels not built ...). */
public final class CudaUnavailableException extends CudaException {
    public CudaUnavailableException(String reason) {
        super(reason);
    }
}
