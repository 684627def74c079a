package mgm.runtime.cpu;

import java.util.Locale;

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

    /** The CPU's vendor id ("AuthenticAMD", "GenuineIntel"), or "" where unknown. */
    static String vendor() {
        return mgm.runtime.HostCpu.current().vendor();
    }
}
