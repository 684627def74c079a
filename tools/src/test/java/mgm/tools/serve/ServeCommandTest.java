package mgm.tools.serve;

import static mgm.tools.CliRun.assertOneCleanError;
import static mgm.tools.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import mgm.tools.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mgm-run serve}'s refusals, in-process: exit code and one clear line, no stack trace. */
class ServeCommandTest {
    @Test
    void aPublicAddressNeedsAnApiKey(@TempDir Path tmp) {
        assertOneCleanError(run("serve", "--model-path", tmp.toString(), "--host", "0.0.0.0"), 2,
                "--host 0.0.0.0 is reachable from other machines", "--api-key", "--insecure-public");
        assertTrue(ServeCommand.isLoopback("127.0.0.1") && ServeCommand.isLoopback("localhost")
                && ServeCommand.isLoopback("::1") && ServeCommand.isLoopback("127.3.2.1"));
        assertFalse(ServeCommand.isLoopback("0.0.0.0") || ServeCommand.isLoopback("::"));
    }

    @Test
    void badOptionsAreUsageErrors(@TempDir Path tmp) {
        String dir = tmp.toString();
        assertOneCleanError(run("serve"), 2, "missing --model-path");
        assertOneCleanError(run("serve", "--model-path", dir, "--queue", "-1"), 2, "--queue");
        assertOneCleanError(run("serve", "--model-path", dir, "--max-body-bytes", "3g"), 2, "--max-body-bytes");
        assertOneCleanError(run("serve", "--model-path", dir, "--max-image-bytes", "lots"), 2, "not a size");
        assertOneCleanError(run("serve", "--model-path", dir, "--temperature", "9"), 2, "--temperature");
        assertOneCleanError(run("serve", "--model-path", dir, "--port", "70000"), 2, "port 70000");
        assertOneCleanError(run("serve", "--model-path", dir, "--conv-mode", "klingon"), 2, "klingon");
    }

    @Test
    void aPortInUseIsRefusedBeforeLoading(@TempDir Path tmp) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertOneCleanError(run("serve", "--model-path", tmp.resolve("never-loaded").toString(), "--port",
                    Integer.toString(taken.getLocalPort())), 2, "cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void aModelThatDoesNotLoadStopsTheServerWithTheReason(@TempDir Path tmp) {
        CliRun r = run("serve", "--model-path", tmp.resolve("missing").toString(), "--port", "0", "--device", "cpu");
        assertOneCleanError(r, 3, "missing");
        assertTrue(r.err().contains("listening on http://127.0.0.1:"), r.err());
    }
}
