package mgm.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where some work allocates on the heap, for the messages of the allocation tests: JFR allocation
 * samples (unthrottled) over the work, grouped by the innermost {@code mgm.*} frame and the
 * allocated class, most bytes first. A Vector API kernel that C2 left boxed shows here as
 * {@code float[]} / {@code int[]} payloads or vector objects at the kernel's line.
 */
public final class AllocationSites {
    private AllocationSites() {}

    /** Runs {@code work} under a recording; returns the six heaviest sites, or why there are none. */
    public static String of(Runnable work) {
        try (Recording r = new Recording()) {
            r.enable("jdk.ObjectAllocationSample").with("throttle", "off").withStackTrace();
            r.start();
            work.run();
            r.stop();
            Path file = Files.createTempFile("allocation-sites", ".jfr");
            try {
                r.dump(file);
                Map<String, Long> bytes = new HashMap<>();
                for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                    if (e.getStackTrace() == null) {
                        continue;
                    }
                    String site = e.getStackTrace().getFrames().stream()
                            .filter(f -> f.getMethod().getType().getName().startsWith("mgm."))
                            .findFirst()
                            .map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName() + ":" + f.getLineNumber()
                                    + " (" + f.getType() + ")")
                            .orElse("?");
                    bytes.merge(site + " " + e.getClass("objectClass").getName(), e.getLong("weight"), Long::sum);
                }
                return bytes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
                        .map(x -> x.getKey() + " " + x.getValue() + " B").toList().toString();
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            return "(no JFR: " + e + ")";
        }
    }
}
