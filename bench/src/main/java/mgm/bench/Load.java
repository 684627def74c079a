package mgm.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's load average (other processes skew every number on a shared machine). */
final class Load {
    private Load() {}

    /** "1-min 5-min 15-min" from /proc/loadavg, or "unknown". */
    static String average() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "unknown";
        }
    }
}
