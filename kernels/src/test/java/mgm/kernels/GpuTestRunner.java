package mgm.kernels;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs test classes with the JUnit launcher and prints a summary, for machines without Maven or
 * network (kernels/gpu-check --prebuilt on a lent GPU). Arguments: fully qualified class names;
 * classes that are not on the class path are reported and skipped. Exit status 0 when nothing failed.
 */
public final class GpuTestRunner {
    private GpuTestRunner() {}

    public static void main(String[] args) {
        List<Class<?>> classes = new ArrayList<>();
        for (String name : args) {
            try {
                classes.add(Class.forName(name));
            } catch (ClassNotFoundException e) {
                System.out.println("  " + name + ": not on the class path (not built yet?), skipped");
            }
        }
        Launcher launcher = LauncherFactory.create();
        int failed = 0;
        for (Class<?> c : classes) {
            LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(c)).build();
            SummaryGeneratingListener listener = new SummaryGeneratingListener();
            launcher.execute(request, listener);
            TestExecutionSummary s = listener.getSummary();
            System.out.printf("  %s: %d started, %d failed, %d skipped (%d ms)%n", c.getSimpleName(), s.getTestsStartedCount(),
                    s.getTotalFailureCount(), s.getTestsSkippedCount() + s.getTestsAbortedCount() + s.getContainersAbortedCount(),
                    s.getTimeFinished() - s.getTimeStarted());
            if (s.getTotalFailureCount() > 0) {
                failed += (int) s.getTotalFailureCount();
                s.printFailuresTo(new PrintWriter(System.out, true), 12);
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
