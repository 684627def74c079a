package mgm.model.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import mgm.kernels.CudaBackend;
import mgm.kernels.CudaBackends;
import mgm.kernels.EmulatedDriver;
import mgm.runtime.Backend;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;
import mgm.runtime.cpu.ReferenceBackend;

/**
 * The backends every model-level reference test runs on, created once per test JVM and never
 * closed (parameterised tests must pass them with {@code autoCloseArguments = false}).
 */
public final class TestBackends {
    /**
     * The scalar reference, the CUDA kernels on the host emulator (when g++ built it, as the
     * kernels module does in CI), the fast CPU backend with 2 threads (CI has 2 cores), and the
     * same splitting every weight row into K tiles of 32 (the layout it gives rows longer than
     * 2816, which the tiny models do not have).
     */
    private static final List<Backend> ALL = backends();

    private TestBackends() {}

    private static List<Backend> backends() {
        List<Backend> out = new ArrayList<>();
        out.add(new ReferenceBackend());
        EmulatedDriver.unavailableReason().ifPresentOrElse(
                why -> System.out.println("model tests: not running the CUDA backend on the emulator: " + why),
                () -> out.add(CudaBackends.emulated()));
        out.add(new CpuBackend(2));
        out.add(new CpuBackend(2, 32, 32));
        return List.copyOf(out);
    }

    /** The CUDA backend on the emulator from {@link #all()}, if the emulator was built. */
    public static Optional<CudaBackend> cudaEmulated() {
        return ALL.stream().filter(b -> b instanceof CudaBackend).map(b -> (CudaBackend) b).findFirst();
    }

    /** The elements of {@code t} (on any backend's device) as floats. */
    public static float[] read(Backend backend, Tensor t) {
        return onHost(backend, t, Tensor::toFloatArray);
    }

    /** {@code f} applied to a host copy of {@code t} (t itself on a host backend); the copy is closed after. */
    public static <T> T onHost(Backend backend, Tensor t, Function<Tensor, T> f) {
        Tensor host = backend.toHost(t);
        try {
            return f.apply(host);
        } finally {
            if (host != t) {
                host.close();
            }
        }
    }

    public static List<Backend> all() {
        return ALL;
    }

    /** The fastest backend available (the last in the list), for tests about something other than ops. */
    public static Backend fastest() {
        return ALL.get(ALL.size() - 1);
    }
}
