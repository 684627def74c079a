package mgm.model.testing;

import java.util.List;
import mgm.runtime.Backend;
import mgm.runtime.cpu.ReferenceBackend;

/** The backends every model-level reference test runs on. */
public final class TestBackends {
    private TestBackends() {}

    public static List<Backend> all() {
        return List.of(new ReferenceBackend());
    }
}
