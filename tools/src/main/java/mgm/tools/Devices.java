package mgm.tools;

import java.io.PrintWriter;
import java.util.Locale;
import mgm.kernels.CudaBackends;
import mgm.runtime.Backend;
import mgm.runtime.QuantActivations;
import mgm.runtime.cpu.CpuBackend;
import mgm.runtime.cpu.ReferenceBackend;

/**
 * Opens the backend {@code --device} names: {@code cpu}, {@code cuda} (fails with the reason when no
 * GPU can be used) or {@code auto} (CUDA when it opens, otherwise the CPU, saying why in one line).
 */
final class Devices {
    private Devices() {}

    /** REFERENCE (undocumented: {@code --device reference}) is the scalar reference backend, for comparisons. */
    enum Choice { AUTO, CPU, CUDA, REFERENCE }

    static Choice parse(String device) {
        return switch (device.toLowerCase(Locale.ROOT)) {
            case "auto" -> Choice.AUTO;
            case "cpu" -> Choice.CPU;
            case "cuda", "gpu" -> Choice.CUDA;
            case "reference" -> Choice.REFERENCE;
            default -> throw MgmRun.CommandFailure.usage("--device must be auto, cpu or cuda, got '" + device + "'");
        };
    }

    /**
     * @param threads CPU threads, or null for one per core
     * @param activations the form of the activations entering quantised matmuls; anything but F32
     *     is a CPU-backend option (see {@link QuantActivations})
     */
    static Backend open(Choice choice, Integer threads, QuantActivations activations, PrintWriter err) {
        if (threads != null && threads < 1) {
            throw MgmRun.CommandFailure.usage("--threads must be at least 1, got " + threads);
        }
        checkActivations(choice, activations);
        if (choice == Choice.CPU) {
            return cpu(threads, activations);
        }
        if (choice == Choice.REFERENCE) {
            return new ReferenceBackend(activations);
        }
        Cuda cuda = Cuda.tryOpen();
        if (cuda.backend() != null) {
            if (activations != QuantActivations.F32) {
                cuda.backend().close();
                throw MgmRun.CommandFailure.usage("--q8-activations is a CPU-backend option and a GPU was found (--device auto); "
                        + "add --device cpu or drop it");
            }
            return cuda.backend();
        }
        if (choice == Choice.CUDA) {
            throw MgmRun.CommandFailure.file("--device cuda: " + cuda.reason());
        }
        err.println("mgm-run: no GPU (" + cuda.reason() + "); running on the CPU");
        return cpu(threads, activations);
    }

    /** Rounded activations are a CPU-backend option: a usage error with {@code --device cuda}. */
    static void checkActivations(Choice choice, QuantActivations activations) {
        if (choice == Choice.CUDA && activations != QuantActivations.F32) {
            throw MgmRun.CommandFailure.usage("--q8-activations is a CPU-backend option; drop it or use --device cpu");
        }
    }

    private static Backend cpu(Integer threads, QuantActivations activations) {
        return new CpuBackend(threads == null ? Runtime.getRuntime().availableProcessors() : threads, activations);
    }

    /** The CUDA backend, or the one-line reason there is none (no driver, old driver, kernels not built...). */
    record Cuda(Backend backend, String reason) {
        static Cuda tryOpen() {
            try {
                CudaBackends.Availability a = CudaBackends.tryOpen();
                return new Cuda(a.backend(), a.reason());
            } catch (RuntimeException | LinkageError e) {
                return new Cuda(null, "the CUDA backend could not be started: " + e.getMessage());
            }
        }
    }
}
