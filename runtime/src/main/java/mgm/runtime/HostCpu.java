package mgm.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which CPU this process runs on, from /proc/cpuinfo: reports print it, because a VM's host CPU can
 * change between runs and compute-bound kernels run at different speeds on each (the Q4_0 GEMV on
 * Zen 4, whose 512-bit operations run as two 256-bit halves, against Zen 5, which has full-width
 * units). Best effort: fields that are missing stay empty.
 */
public record HostCpu(String vendor, String modelName, int family, int model, int logicalCpus) {

    /** This machine's CPU (empty fields where /proc/cpuinfo is absent or unreadable). */
    public static HostCpu current() {
        // the first processor's block only (a large machine lists hundreds)
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return parse(lines.takeWhile(line -> !line.isBlank()).toList(), Runtime.getRuntime().availableProcessors());
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return new HostCpu("", "", -1, -1, Runtime.getRuntime().availableProcessors());
        }
    }

    /** The first processor's fields of a /proc/cpuinfo listing. */
    static HostCpu parse(List<String> cpuinfo, int logicalCpus) {
        return new HostCpu(field(cpuinfo, "vendor_id").orElse(""), field(cpuinfo, "model name").orElse(""),
                field(cpuinfo, "cpu family").map(HostCpu::number).orElse(-1), field(cpuinfo, "model").map(HostCpu::number).orElse(-1),
                logicalCpus);
    }

    /**
     * AMD's core generation for the family / model numbers whose meaning is settled (family 23: Zen
     * and Zen 2; 25: Zen 3 or, for models 0x10-0x1F, 0x60-0x7F and 0xA0-0xAF, Zen 4; 26: Zen 5), else
     * empty.
     */
    public Optional<String> amdGeneration() {
        if (!"AuthenticAMD".equals(vendor)) {
            return Optional.empty();
        }
        return switch (family) {
            case 23 -> Optional.of("Zen / Zen 2");
            case 25 -> Optional.of(model >= 0x10 && model <= 0x1F || model >= 0x60 && model <= 0x7F || model >= 0xA0 && model <= 0xAF
                    ? "Zen 4" : "Zen 3");
            case 26 -> Optional.of("Zen 5");
            default -> Optional.empty();
        };
    }

    /** One line for a report: "AMD EPYC (AuthenticAMD family 25 model 17: Zen 4), 2 logical CPUs". */
    public String describe() {
        String name = modelName.isEmpty() ? "unknown CPU" : modelName;
        String ids = vendor.isEmpty() ? "" : String.format(Locale.ROOT, " (%s family %d model %d%s)", vendor, family, model,
                amdGeneration().map(g -> ": " + g).orElse(""));
        return name + ids + ", " + logicalCpus + " logical CPU" + (logicalCpus == 1 ? "" : "s");
    }

    private static Optional<String> field(List<String> lines, String key) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                return Optional.of(line.substring(colon + 1).trim());
            }
        }
        return Optional.empty();
    }

    private static int number(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
