package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** {@link HostCpu} reads the first processor's block of /proc/cpuinfo and names AMD's generations it knows. */
class HostCpuTest {

    private static List<String> block(String vendor, String family, String model, String name) {
        return List.of("processor\t: 0", "vendor_id\t: " + vendor, "cpu family\t: " + family, "model\t\t: " + model,
                "model name\t: " + name, "stepping\t: 1", "flags\t\t: fpu avx512f");
    }

    @Test
    void namesTheZenGenerations() {
        HostCpu zen4 = HostCpu.parse(block("AuthenticAMD", "25", "17", "AMD EPYC"), 2);
        assertEquals("AMD EPYC (AuthenticAMD family 25 model 17: Zen 4), 2 logical CPUs", zen4.describe());
        assertEquals(Optional.of("Zen 3"), HostCpu.parse(block("AuthenticAMD", "25", "1", "AMD EPYC 7763"), 1).amdGeneration());
        assertEquals(Optional.of("Zen 4"), HostCpu.parse(block("AuthenticAMD", "25", "97", "AMD Ryzen 9 7950X"), 1).amdGeneration());
        assertEquals(Optional.of("Zen 5"), HostCpu.parse(block("AuthenticAMD", "26", "2", "AMD EPYC"), 1).amdGeneration());
        assertEquals(Optional.of("Zen / Zen 2"), HostCpu.parse(block("AuthenticAMD", "23", "49", "AMD EPYC 7B12"), 1).amdGeneration());
        assertEquals(Optional.empty(), HostCpu.parse(block("AuthenticAMD", "21", "2", "AMD Opteron"), 1).amdGeneration());
    }

    @Test
    void describesOtherVendorsByTheirNumbers() {
        HostCpu intel = HostCpu.parse(block("GenuineIntel", "6", "143", "Intel(R) Xeon(R) Platinum 8480+"), 1);
        assertEquals(Optional.empty(), intel.amdGeneration());
        assertEquals("Intel(R) Xeon(R) Platinum 8480+ (GenuineIntel family 6 model 143), 1 logical CPU", intel.describe());
    }

    @Test
    void missingFieldsStayEmpty() {
        HostCpu none = HostCpu.parse(List.of(), 4);
        assertEquals("unknown CPU, 4 logical CPUs", none.describe());
        HostCpu odd = HostCpu.parse(List.of("vendor_id : AuthenticAMD", "cpu family : x", "model : "), 8);
        assertEquals(-1, odd.family());
        assertEquals(-1, odd.model());
        assertEquals(Optional.empty(), odd.amdGeneration());
    }

    /** On Linux, the vendor and family read here are the ones /proc/cpuinfo lists for its first processor. */
    @Test
    void thisMachineDescribesItself() throws java.io.IOException {
        HostCpu here = HostCpu.current();
        assertEquals(Runtime.getRuntime().availableProcessors(), here.logicalCpus());
        assertTrue(here.describe().endsWith("logical CPU" + (here.logicalCpus() == 1 ? "" : "s")), here.describe());
        java.nio.file.Path cpuinfo = java.nio.file.Path.of("/proc/cpuinfo");
        if (java.nio.file.Files.isReadable(cpuinfo)) {
            List<String> lines = java.nio.file.Files.readAllLines(cpuinfo);
            lines.stream().filter(l -> l.startsWith("vendor_id")).findFirst()
                    .ifPresent(l -> assertEquals(l.substring(l.indexOf(':') + 1).trim(), here.vendor()));
            lines.stream().filter(l -> l.startsWith("cpu family")).findFirst()
                    .ifPresent(l -> assertEquals(Integer.parseInt(l.substring(l.indexOf(':') + 1).trim()), here.family()));
        }
    }
}
