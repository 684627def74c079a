package mgm.tools.boot;

import java.lang.reflect.Method;

/**
 * The jar's entry point, compiled for Java 8 so that an old {@code java} prints which JDK to use
 * instead of an UnsupportedClassVersionError; on JDK 25+ it hands over to {@code mgm.tools.MgmRun}.
 */
public final class Boot {
    private static final int REQUIRED = 25;

    private Boot() {}

    public static void main(String[] args) throws Throwable {
        String spec = System.getProperty("java.specification.version", "0");
        int major = Integer.parseInt(spec.startsWith("1.") ? spec.substring(2) : spec.split("\\.")[0]);
        if (major < REQUIRED) {
            System.err.println("mgm-run needs Java " + REQUIRED + " or newer; this is Java " + spec + " ("
                    + System.getProperty("java.home") + "). Run it with a JDK 25, e.g. "
                    + "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar mgm-run.jar, or use ./mgm, which finds one.");
            System.exit(2);
        }
        Method main = Class.forName("mgm.tools.MgmRun").getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
