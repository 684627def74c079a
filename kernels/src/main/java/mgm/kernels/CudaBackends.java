package mgm.kernels;

/**
 * Opening the CUDA backend. {@link #tryOpen} never throws for a missing or unusable GPU: it
 * returns why, in one line, so that {@code --device auto} can fall back to the CPU saying so.
 */
public final class CudaBackends {
    private CudaBackends() {}

    /** Either a backend or the reason there is none. */
    public record Availability(CudaBackend backend, String reason) {
        public boolean available() {
            return backend != null;
        }
    }

    /** The GPU with this ordinal, or why it cannot be used. */
    public static Availability tryOpen(int ordinal) {
        CudaDriver driver;
        try {
            driver = CudaDriver.open(ordinal);
        } catch (CudaUnavailableException e) {
            return new Availability(null, e.getMessage());
        } catch (CudaException e) {
            return new Availability(null, "CUDA initialisation failed: " + e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return new Availability(null, "CUDA initialisation failed: " + e);
        }
        try {
            return new Availability(new CudaBackend(driver), null);
        } catch (RuntimeException e) {
            driver.close();
            return new Availability(null, "CUDA backend setup failed on " + driver.info().name() + ": " + e.getMessage());
        }
    }

    /** GPU 0, or why it cannot be used. */
    public static Availability tryOpen() {
        return tryOpen(0);
    }

    /** The GPU with this ordinal; throws {@link CudaUnavailableException} with the reason otherwise. */
    public static CudaBackend open(int ordinal) {
        Availability a = tryOpen(ordinal);
        if (!a.available()) {
            throw new CudaUnavailableException(a.reason());
        }
        return a.backend();
    }

    /** Prints whether a GPU can be used (the device, or why not); exit status 0 when it can. */
    public static void main(String[] args) {
        Availability a = tryOpen(args.length > 0 ? Integer.parseInt(args[0]) : 0);
        if (a.available()) {
            try (CudaBackend be = a.backend()) {
                Driver d = be.driver();
                System.out.println("cuda: " + d.info().describe() + (d instanceof CudaDriver c ? ", PTX target sm_" + c.ptxTarget() : "")
                        + ", " + d.blas().map(Blas::describe).orElse("no cuBLAS"));
            }
            return;
        }
        System.out.println("cuda: unavailable: " + a.reason());
        System.exit(1);
    }

    /** The CUDA kernels on the host emulator (tests and CI without a GPU). */
    public static CudaBackend emulated() {
        return CudaBackend.emulated();
    }
}
