package mgm.runtime.cpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Whether this CPU multiplies subnormal floats at full speed, which {@link GemvKernels#groupsQ4Subnormal}
 * relies on (it feeds 4-bit quants to FMAs as subnormal floats instead of converting them).
 * Only that kernel (interleaved Q4_0 on 512-bit machines) depends on it. AMD Zen 4 does: one core,
 * cache-resident, that kernel ran 30% faster than the converting one (12.3 -> 16.0 GB/s). Intel cores have long handled some operations on subnormal operands with a
 * microcode assist of 100+ cycles, a slowdown of that order that we have not measured on their
 * AVX-512 parts; so by default only AMD processors take the subnormal form.
 * {@code -Dmgm.cpu.subnormalFma=true|false} decides instead (for another CPU, or to compare).
 */
final class SubnormalOperands {
    private SubnormalOperands() {}

    static final boolean FAST = decide(System.getProperty("mgm.cpu.subnormalFma", "auto"), vendor());

    static boolean decide(String setting, String vendor) {
        return switch (setting.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> "AuthenticAMD".equals(vendor);
            default -> throw new IllegalArgumentException("-Dmgm.cpu.subnormalFma: expected auto, true or false, got '" + setting + "'");
        };
    }

    /** The CPU's vendor id ("AuthenticAMD", "GenuineIntel") from /proc/cpuinfo, or "" where unknown. */
    static String vendor() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {  // the first line that names it, not the whole file
            return lines.filter(line -> line.startsWith("vendor_id")).findFirst()
                    .map(line -> line.substring(line.indexOf(':') + 1).trim()).orElse("");
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return "";  // not Linux, or not readable: unknown
        }
    }
}
