package mgm.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import mgm.tools.MgmRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mgm-run serve}'s refusals, in-process: exit code and one clear line, no stack trace. */
class ServeCommandTest {
    record Run(int code, String err) {}

    static Run run(String... args) {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Run(MgmRun.execute(args), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(oldErr);
        }
    }

    static void assertCleanError(Run r, int code, String... fragments) {
        assertEquals(code, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
        }
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
    }

    @Test
    void aPublicAddressNeedsAnApiKey(@TempDir Path tmp) {
        assertCleanError(run("serve", "--model-path", tmp.toString(), "--host", "0.0.0.0"), 2,
                "--host 0.0.0.0 is reachable from other machines", "--api-key", "--insecure-public");
        assertTrue(ServeCommand.isLoopback("127.0.0.1") && ServeCommand.isLoopback("localhost")
                && ServeCommand.isLoopback("::1") && ServeCommand.isLoopback("127.3.2.1"));
        assertFalse(ServeCommand.isLoopback("0.0.0.0") || ServeCommand.isLoopback("::"));
    }

    @Test
    void badOptionsAreUsageErrors(@TempDir Path tmp) {
        String dir = tmp.toString();
        assertCleanError(run("serve"), 2, "missing --model-path");
        assertCleanError(run("serve", "--model-path", dir, "--queue", "-1"), 2, "--queue");
        assertCleanError(run("serve", "--model-path", dir, "--max-body-bytes", "3g"), 2, "--max-body-bytes");
        assertCleanError(run("serve", "--model-path", dir, "--max-image-bytes", "lots"), 2, "not a size");
        assertCleanError(run("serve", "--model-path", dir, "--temperature", "9"), 2, "--temperature");
        assertCleanError(run("serve", "--model-path", dir, "--port", "70000"), 2, "port 70000");
        assertCleanError(run("serve", "--model-path", dir, "--conv-mode", "klingon"), 2, "klingon");
    }

    @Test
    void aPortInUseIsRefusedBeforeLoading(@TempDir Path tmp) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertCleanError(run("serve", "--model-path", tmp.resolve("never-loaded").toString(), "--port",
                    Integer.toString(taken.getLocalPort())), 2, "cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void aModelThatDoesNotLoadStopsTheServerWithTheReason(@TempDir Path tmp) {
        Run r = run("serve", "--model-path", tmp.resolve("missing").toString(), "--port", "0", "--device", "cpu");
        assertCleanError(r, 3, "missing");
        assertTrue(r.err().contains("listening on http://127.0.0.1:"), r.err());
    }
}
