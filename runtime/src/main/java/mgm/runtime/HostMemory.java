package mgm.runtime;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the host's memory can give this process now. */
public final class HostMemory {
    private HostMemory() {}

    /**
     * Memory the OS can give us now without swapping: MemAvailable from /proc/meminfo (free memory
     * plus the page cache and other memory it can reclaim), else the JVM's view of free memory.
     */
    public static long availableBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException | SecurityException e) {
            // not Linux, or not readable: the JVM's figure
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os.getFreeMemorySize();
    }
}
