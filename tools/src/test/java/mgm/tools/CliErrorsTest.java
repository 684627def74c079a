package mgm.tools;

import static mgm.tools.CliRun.assertOneCleanError;
import static mgm.tools.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage and file errors that need no model, in-process: exit code and one clear line, no stack trace. */
class CliErrorsTest {
    @Test
    void usageErrorsExitWith2(@TempDir Path tmp) {
        assertOneCleanError(run(), 2, "missing --model-path");
        assertOneCleanError(run("--model-path", tmp.toString(), "--ocr"), 2, "--ocr is not supported");
        assertOneCleanError(run("--model-path", tmp.toString(), "--conv-mode", "klingon"), 2,
                "unknown conversation mode \"klingon\"", "vicuna_v1");
        assertOneCleanError(run("--model-path", tmp.toString(), "--device", "tpu"), 2, "--device must be auto, cpu or cuda");
        assertOneCleanError(run("--model-path", tmp.toString(), "--load-8bit", "--load-4bit"), 2, "exclude each other");
        assertOneCleanError(run("--model-path", tmp.toString(), "--temperature", "-1"), 2, "--temperature");
        assertOneCleanError(run("--model-path", tmp.toString(), "--kv-dtype", "int3"), 2, "--kv-dtype");
        assertOneCleanError(run("--model-path", tmp.toString(), "--device", "cuda", "--q8-activations"), 2,
                "--q8-activations is a CPU-backend option");
        assertOneCleanError(run("--model-path", tmp.toString(), "--no-such-flag"), 2, "Unknown option");
        assertOneCleanError(run("logits", "--model-path", tmp.toString(), "--token-ids", "1,-200", "--output", "x.npy"), 2,
                "1 image marker(s)", "0 --image-file");
        assertOneCleanError(run("eval", "--model-path", tmp.toString(), "--question-file", "q", "--answers-file", "a",
                "--num-chunks", "2", "--chunk-idx", "2"), 2, "--chunk-idx");
    }

    @Test
    void fileErrorsExitWith3(@TempDir Path tmp) throws Exception {
        Path notAnImage = tmp.resolve("cat.jpg");
        Files.writeString(notAnImage, "this is text");
        assertOneCleanError(run("--model-path", tmp.toString(), "--image-file", notAnImage.toString(), "--prompt", "hi"), 3,
                "cat.jpg", "not a supported image");
        assertOneCleanError(run("--model-path", tmp.toString(), "--image-file", tmp.resolve("none.png").toString()), 3,
                "none.png: no such file");
        assertOneCleanError(run("--model-path", tmp.resolve("missing").toString(), "--device", "cpu", "--prompt", "hi"), 3,
                "missing does not exist");
        assertOneCleanError(run("inspect", "--model-path", tmp.resolve("missing").toString()), 3, "1 problem(s)");
        assertOneCleanError(run("--model-path", tmp.toString(), "--device", "cpu", "--prompt", "hi"), 3, "config.json");
    }

    @Test
    void everyCommandHasHelpWithExamples() {
        for (String cmd : new String[] {"", "demo", "eval", "inspect", "logits", "bench", "tokenize", "make-tiny"}) {
            CliRun r = cmd.isEmpty() ? run("--help") : run(cmd, "--help");
            assertEquals(0, r.code(), cmd + ": " + r.err());
            assertTrue(r.out().contains("Examples:"), cmd + ": " + r.out());
            // a bare % in a description makes picocli print a warning instead of the help text
            assertFalse(r.err().contains("picocli WARN") || r.out().contains("picocli WARN"), cmd + ": " + r.err());
        }
        CliRun top = run("--help");
        for (String sub : new String[] {"demo", "eval", "inspect", "logits", "bench", "tokenize", "make-tiny"}) {
            assertTrue(top.out().contains(sub), sub);
        }
    }
}
