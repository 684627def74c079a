package mgm.model.testing;

import java.util.List;
import mgm.runtime.Backend;
import mgm.runtime.cpu.CpuBackend;
import mgm.runtime.cpu.ReferenceBackend;

/**
 * The backends every model-level reference test runs on, created once per test JVM and never
 * closed (parameterised tests must pass them with {@code autoCloseArguments = false}).
 */
public final class TestBackends {
    /** The scalar reference and the fast CPU backend with 2 threads (CI has 2 cores). */
    private static final List<Backend> ALL = List.of(new ReferenceBackend(), new CpuBackend(2));

    private TestBackends() {}

    public static List<Backend> all() {
        return ALL;
    }

    /** The fastest backend available (the last in the list), for tests about something other than ops. */
    public static Backend fastest() {
        return ALL.get(ALL.size() - 1);
    }
}
