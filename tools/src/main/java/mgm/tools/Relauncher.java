package mgm.tools;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes {@code java -jar mgm-run.jar ...} work without JVM flags: the Vector API lives in the
 * incubator module {@code jdk.incubator.vector}, which only a command-line flag can add (a jar
 * manifest cannot). When it is missing, the same JVM binary is started again with the flags, the
 * same JVM options, class path and arguments, sharing this process's standard streams; this
 * process then only waits and returns the child's exit status. Ctrl-C reaches the child directly
 * (same terminal process group), so here it is ignored.
 */
final class Relauncher {
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** Set on the child so that a JVM that still lacks the module fails instead of looping. */
    private static final String MARKER = "mgm.relaunched";

    private Relauncher() {}

    static boolean needed() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty();
    }

    /** Runs the child JVM and returns its exit status. */
    static int relaunch(Class<?> mainClass, String[] args) {
        if (System.getProperty(MARKER) != null) {
            System.err.println("mgm-run: the JVM did not load " + VECTOR_MODULE + " even with --add-modules; run it as "
                    + "java --add-modules " + VECTOR_MODULE + " --enable-native-access=ALL-UNNAMED -jar mgm-run.jar");
            return 1;
        }
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("--add-modules");
        command.add(VECTOR_MODULE);
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-D" + MARKER + "=true");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        try {
            Process child = new ProcessBuilder(command).inheritIO().start();
            org.jline.utils.Signals.register("INT", () -> { }); // the child decides what Ctrl-C means
            return child.waitFor();
        } catch (java.io.IOException e) {
            System.err.println("mgm-run: cannot start " + command.getFirst() + " with --add-modules " + VECTOR_MODULE + ": "
                    + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }
}
