package mgm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import mgm.loaders.chat.ConversationTemplates;
import mgm.loaders.image.RgbImage;
import mgm.model.ChatSession;
import mgm.model.MgmModel;
import mgm.model.WeightFormat;
import mgm.model.generate.SamplingParams;
import mgm.model.llm.KvCache;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.QuantActivations;
import mgm.runtime.Tensor;
import mgm.tools.tiny.TinyCheckpoints;
import mgm.tools.tiny.TinyFamily;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: {@code java -jar mgm-run.jar} as a user runs it, on one tiny MGM checkpoint written
 * once for the whole class. Answers are compared with the same model driven in-process through
 * {@link ChatSession} (greedy, same backend and KV dtype), so a CLI that garbles, drops or
 * reorders text fails.
 */
class MgmRunIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_NEW = 12;

    @TempDir
    static Path root;
    static Path model;
    static Path photo;

    record Run(int code, String out, String err) {}

    @BeforeAll
    static void writeCheckpoint() throws IOException {
        // Towers in their folders only, so that a missing folder is an error (a checkpoint carrying them needs none).
        model = TinyCheckpoints.write(TinyCheckpoints.Options.of(TinyFamily.VICUNA, root.resolve("set"))
                .withTowersInCheckpoint(false)).model();
        photo = root.resolve("chelsea.png");
        try (InputStream in = MgmRunIT.class.getResourceAsStream(DemoCommand.PHOTO)) {
            Files.copy(in, photo);
        }
    }

    @AfterAll
    static void done() {
        // @TempDir removes everything
    }

    static Path jar() {
        Path p = Path.of(System.getProperty("mgm.run.jar", "target/mgm-run.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(p), "the shaded jar " + p + " is built in package, before integration tests");
        return p;
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Runs the jar with the JVM flags (the relaunch is tested on its own), feeding {@code stdin}. */
    static Run run(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        return exec(cmd, stdin);
    }

    static Run exec(List<String> cmd, String stdin) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
        pb.environment().put("XDG_CACHE_HOME", root.resolve("cache").toString());
        Process p = pb.start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Run(p.exitValue(), new String(out.get(), StandardCharsets.UTF_8), withoutJvmWarning(
                new String(err.get(), StandardCharsets.UTF_8)));
    }

    private static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The JVM's own notice about incubator modules is not ours to test. */
    private static String withoutJvmWarning(String err) {
        return err.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).reduce("", (a, b) -> a + b + "\n");
    }

    static void assertCleanError(Run r, int code, String... fragments) {
        assertEquals(code, r.code(), "exit code; stderr: " + r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "'" + f + "' in stderr: " + r.err());
        }
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
    }

    /** The greedy answers of the same model to these user turns, in-process. */
    static List<String> expectedAnswers(List<RgbImage> images, String... turns) {
        Backend backend = Devices.open(Devices.Choice.CPU, 1, QuantActivations.F32, null);
        MgmModel.Options o = new MgmModel.Options(model, null, null, WeightFormat.STORED, backend, 0, DType.F16, 512, false,
                MgmModel.LoadProgress.NONE);
        List<String> answers = new ArrayList<>();
        try (MgmModel m = MgmModel.load(o);
             ChatSession s = new ChatSession(m, ConversationTemplates.get("vicuna_v1"), images)) {
            for (String t : turns) {
                answers.add(s.ask(t, SamplingParams.GREEDY, MAX_NEW, piece -> true).text());
            }
        } finally {
            backend.close();
        }
        return answers;
    }

    // ------------------------------------------------------------------ answers

    @Test
    void oneShotAnswerMatchesTheModelInProcess() throws Exception {
        Run r = run(null, "--model-path", model.toString(), "--image-file", photo.toString(), "--prompt",
                "What is in the image?", "--temperature", "0", "--max-new-tokens", Integer.toString(MAX_NEW), "--device", "cpu",
                "--threads", "1", "--stats");
        assertEquals(0, r.code(), r.err());
        String expected = expectedAnswers(List.of(DemoCommand.bundledPhoto()), "<image>\nWhat is in the image?").getFirst();
        assertEquals(expected + "\n", r.out());
        assertTrue(r.err().contains("timings: image encode"), r.err());
        assertTrue(r.err().contains("prompt ") && r.err().contains("tok/s"), r.err());
    }

    @Test
    void profileAndTraceDoNotChangeTheAnswer() throws Exception {
        Path trace = root.resolve("run-trace.json");
        Run r = run(null, "--model-path", model.toString(), "--prompt", "Hello there.", "--temperature", "0",
                "--max-new-tokens", "4", "--device", "cpu", "--threads", "1", "--profile", "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        Run plain = run(null, "--model-path", model.toString(), "--prompt", "Hello there.", "--temperature", "0",
                "--max-new-tokens", "4", "--device", "cpu", "--threads", "1");
        assertEquals(plain.out(), r.out(), "profiling must not change the output");
        assertTrue(r.err().contains("== prefill") && r.err().contains("== decode") && r.err().contains("matmul"), r.err());
        com.fasterxml.jackson.databind.JsonNode events = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(trace.toFile()).get("traceEvents");
        assertTrue(events != null && events.size() > 10, "trace events: " + events);
    }

    @Test
    void pipedMultiTurnChatKeepsTheConversation() throws Exception {
        Run r = run("Hello there.\nAnd then?\n", "--model-path", model.toString(), "--temperature", "0", "--max-new-tokens",
                Integer.toString(MAX_NEW), "--device", "cpu", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        List<String> expected = expectedAnswers(List.of(), "Hello there.", "And then?");
        assertEquals("USER: ASSISTANT: " + expected.get(0) + "\nUSER: ASSISTANT: " + expected.get(1) + "\nUSER: exit...\n",
                r.out());
        List<String> timings = r.err().lines().filter(l -> l.startsWith("timings:")).toList();
        assertEquals(2, timings.size(), r.err());
        assertTrue(timings.get(1).contains("cached"), "the second turn reuses the KV cache: " + timings.get(1));
    }

    @Test
    void emptyLineEndsTheChatAndGenAndDebugReport() throws Exception {
        Run r = run("\n", "--model-path", model.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertEquals("USER: exit...\n", r.out());

        r = run(null, "--model-path", model.toString(), "--device", "cpu", "--prompt", "a red bicycle", "--gen", "--debug",
                "--temperature", "0", "--max-new-tokens", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("gen: "), r.err());
        JsonNode debug = JSON.readTree(r.err().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
        assertTrue(debug.get("prompt").asText().endsWith("USER: a red bicycle <GEN> ASSISTANT:"), debug.toString());
    }

    // ------------------------------------------------------------------ eval

    @Test
    void evalAnswersThreeQuestionsAndResumes() throws Exception {
        Path dir = Files.createDirectories(root.resolve("eval"));
        Files.copy(photo, dir.resolve("cat.png"));
        Path questions = dir.resolve("q.jsonl");
        Files.writeString(questions, """
                {"question_id": 1, "image": "cat.png", "text": "What animal is this?"}
                {"question_id": "q2", "text": "Say something."}
                {"question_id": 3, "text": "What colour is it?"}
                """);
        Path answers = dir.resolve("a.jsonl");
        String[] args = {"eval", "--model-path", model.toString(), "--device", "cpu", "--question-file", questions.toString(),
                "--image-folder", dir.toString(), "--answers-file", answers.toString(), "--max-new-tokens", "6"};
        Run r = run(null, args);
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(answers);
        assertEquals(3, lines.size());
        List<String> keys = new ArrayList<>();
        JSON.readTree(lines.get(0)).fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("question_id", "prompt", "text", "answer_id", "model_id", "metadata"), keys);
        assertEquals("q2", JSON.readTree(lines.get(1)).get("question_id").asText());
        assertEquals(1, JSON.readTree(lines.get(0)).get("question_id").asInt());
        assertEquals("MGM-tiny-vicuna", JSON.readTree(lines.get(0)).get("model_id").asText());
        assertEquals("What animal is this?", JSON.readTree(lines.get(0)).get("prompt").asText());

        // An interrupted run: the third answer is missing and the second was cut mid-line.
        Files.writeString(answers, lines.get(0) + "\n" + lines.get(1).substring(0, 20));
        r = run(null, args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("resuming: 1 of 3"), r.err());
        List<String> resumed = Files.readAllLines(answers);
        assertEquals(3, resumed.size());
        assertEquals(lines.get(0), resumed.get(0), "answered questions are kept as they were");
        for (int i = 1; i < 3; i++) {
            JsonNode a = JSON.readTree(lines.get(i));
            JsonNode b = JSON.readTree(resumed.get(i));
            assertEquals(a.get("question_id"), b.get("question_id"));
            assertEquals(a.get("text"), b.get("text"), "greedy answers are the same when re-run");
            assertNotEquals(a.get("answer_id"), b.get("answer_id"));
        }
        r = run(null, args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("all 3 questions are already answered"), r.out());
    }

    // ------------------------------------------------------------------ other commands

    @Test
    void logitsOfEveryPositionMatchTheDecoder() throws Exception {
        float[] file = logitsFile("logits.npy");
        assertTrue(Arrays.equals(decoderLogits(QuantActivations.F32, WeightFormat.STORED), file),
                "the file holds the decoder's logits of every position");
    }

    /** {@code --q8-activations} reaches the CPU backend: the logits are the decoder's with activations rounded to Q8_0. */
    @Test
    void q8ActivationsRoundTheQuantisedMatmulsInputs() throws Exception {
        float[] file = logitsFile("logits-q8.npy", "--load-4bit", "--q8-activations");
        assertTrue(Arrays.equals(decoderLogits(QuantActivations.Q8_0, WeightFormat.Q4_0), file),
                "the file holds the decoder's logits with Q4_0 weights and Q8_0-rounded activations");
        assertFalse(Arrays.equals(decoderLogits(QuantActivations.F32, WeightFormat.Q4_0), file),
                "rounding the activations moved the logits");
    }

    /** {@code --lm-head-8bit} reaches the loader: the logits are the decoder's with lm_head quantised to Q8_0. */
    @Test
    void lmHead8bitQuantisesTheOutputProjection() throws Exception {
        float[] file = logitsFile("logits-head8.npy", "--load-4bit", "--lm-head-8bit");
        // equal up to float summation order: a lane reduction may round differently before and after C2
        // compiles it (see QuantizedCheckpointTest), and this JVM and mgm-run's are at different stages
        // (CI saw 1.06e-6); the head's own rounding moves the logits 100x further than the bound
        double same = relativeDifference(decoderLogits(QuantActivations.F32, WeightFormat.Q4_0, true), file);
        double moved = relativeDifference(decoderLogits(QuantActivations.F32, WeightFormat.Q4_0), file);
        assertTrue(same <= 1e-5, "the file holds the decoder's logits with Q4_0 weights and a Q8_0 lm_head: " + same);
        assertTrue(moved > 100 * 1e-5, "quantising the head moved the logits only by " + moved);

        Run r = run(null, "bench", "--model-path", model.toString(), "--device", "cpu", "--prompt-tokens", "8", "--gen-tokens",
                "4", "--runs", "1", "--warmup", "0", "--json", "--load-4bit");
        assertEquals(0, r.code(), r.err());
        JsonNode asStored = JSON.readTree(r.out().strip());
        r = run(null, "bench", "--model-path", model.toString(), "--device", "cpu", "--prompt-tokens", "8", "--gen-tokens",
                "4", "--runs", "1", "--warmup", "0", "--json", "--load-4bit", "--lm-head-8bit");
        assertEquals(0, r.code(), r.err());
        JsonNode quantised = JSON.readTree(r.out().strip());
        assertEquals("Q8_0", quantised.get("lm_head").asText(), r.out());
        try (mgm.loaders.Checkpoint c = mgm.loaders.Checkpoint.open(model)) {
            var head = c.info("lm_head.weight");
            long elements = head.shape()[0] * head.shape()[1];
            assertEquals(asStored.get("weight_bytes_per_token").asLong() - head.dtype().byteSize(elements)
                    + DType.Q8_0.byteSize(elements), quantised.get("weight_bytes_per_token").asLong(), "bytes per token count the Q8_0 head");
        }
    }

    /** max |a - b| / max |a|. */
    private static double relativeDifference(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return diff / scale;
    }

    /** `mgm-run logits` of ids 1, 306, 4, 17 on the CPU (plus extra options) as a float array, after checking the header. */
    private static float[] logitsFile(String name, String... extra) throws Exception {
        Path out = root.resolve(name);
        List<String> args = new ArrayList<>(List.of("logits", "--model-path", model.toString(), "--device", "cpu", "--token-ids",
                "1,306,4,17", "--output", out.toString()));
        args.addAll(List.of(extra));
        Run r = run(null, args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        byte[] b = Files.readAllBytes(out);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
        float[] file = new float[(b.length - 10 - headerLen) / 4];
        assertTrue(header.contains("'shape': (4, " + file.length / 4 + ")"), header);
        ByteBuffer.wrap(b, 10 + headerLen, b.length - 10 - headerLen).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(file);
        return file;
    }

    /** The same logits computed in this JVM by the decoder on a CPU backend. */
    private static float[] decoderLogits(QuantActivations activations, WeightFormat format) {
        return decoderLogits(activations, format, false);
    }

    private static float[] decoderLogits(QuantActivations activations, WeightFormat format, boolean lmHead8bit) {
        Backend backend = Devices.open(Devices.Choice.CPU, null, activations, null);
        try (MgmModel m = MgmModel.load(MgmModel.Options.defaults(model, backend).withFormat(format).withLmHead8bit(lmHead8bit));
             KvCache cache = m.decoder().newCache(4, DType.F32)) {
            int vocab = m.config().llm().vocabSize();
            float[] expected = new float[4 * vocab];
            m.decoder().prefill(cache, new int[] {1, 306, 4, 17}, (logits, first) -> {
                float[] rows = logits.toFloatArray();
                System.arraycopy(rows, 0, expected, first * vocab, rows.length);
            });
            return expected;
        } finally {
            backend.close();
        }
    }

    @Test
    void inspectBenchAndDemo() throws Exception {
        Run r = run(null, "inspect", "--model-path", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("MGMLlamaForCausalLM") && r.out().contains("OK: every tensor"), r.out());

        r = run(null, "bench", "--model-path", model.toString(), "--device", "cpu", "--prompt-tokens", "16", "--gen-tokens",
                "8", "--runs", "1", "--warmup", "0", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode bench = JSON.readTree(r.out().strip());
        assertTrue(bench.get("decode_tok_s").asDouble() > 0 && bench.get("weight_bytes_per_token").asLong() > 0, r.out());

        r = run(null, "demo", "--device", "cpu", "--max-new-tokens", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("writing a tiny random MGM checkpoint"), r.err());
        assertTrue(r.out().contains("meaningless") && r.out().contains("timings:"), r.out());
        java.io.StringWriter again = new java.io.StringWriter();
        Path cached = DemoCommand.ensureCheckpoint(root.resolve("cache/mgm-java/demo").resolve(DemoCommand.CACHE_VERSION),
                TinyFamily.VICUNA, false, new java.io.PrintWriter(again, true));
        assertTrue(Files.isRegularFile(cached.resolve("config.json")), "the demo checkpoint is cached at " + cached);
        assertEquals("", again.toString(), "a second demo does not write it again");
    }

    @Test
    void runsWithoutJvmFlagsByRelaunching() throws Exception {
        Run r = exec(List.of(java(), "-jar", jar().toString(), "--version"), null);
        assertEquals(0, r.code(), r.err());
        assertEquals("mgm-run 0.1.0\n", r.out());
        r = exec(List.of(java(), "-jar", jar().toString(), "--model-path", model.toString(), "--device", "cpu"), "hello\n");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("USER: ASSISTANT: ") && r.out().endsWith("USER: exit...\n"), r.out());
    }

    // ------------------------------------------------------------------ errors

    @Test
    void errorPathsHaveTheirExitCodesAndOneClearLine() throws Exception {
        assertCleanError(run(null, "--model-path", root.resolve("nowhere").toString(), "--device", "cpu"), 3,
                "nowhere does not exist");

        Path noTower = Files.createDirectories(root.resolve("no-tower/MGM-broken"));
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                Files.copy(f, noTower.resolve(f.getFileName()));
            }
        }
        String config = Files.readString(noTower.resolve("config.json"));
        Files.writeString(noTower.resolve("config.json"), config.replace("model_zoo/OpenAI/clip-vit-large-patch14-336",
                "model_zoo/OpenAI/missing-clip"));
        Run r = run(null, "--model-path", noTower.toString(), "--device", "cpu");
        assertCleanError(r, 3, "vision tower 'model_zoo/OpenAI/missing-clip' not found", "looked for config.json in:",
                noTower.resolve("model_zoo/OpenAI/missing-clip").toString(), "--vision-tower");
        r = run(null, "inspect", "--model-path", noTower.toString());
        assertEquals(3, r.code());
        assertTrue(r.out().contains("PROBLEMS (") && r.out().contains("missing-clip"), r.out());

        Path bad = root.resolve("bad.jpg");
        Files.write(bad, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0, 1, 2});
        assertCleanError(run(null, "--model-path", model.toString(), "--image-file", bad.toString(), "--prompt", "x"), 3,
                "bad.jpg");
        assertCleanError(run(null, "--model-path", model.toString(), "--conv-mode", "nope"), 2,
                "unknown conversation mode \"nope\"");
        assertCleanError(run(null, "--model-path", model.toString(), "--ocr"), 2, "--ocr is not supported");
        assertCleanError(run(null, "--model-path", model.toString(), "--device", "cpu", "--assume-available-memory", "1m",
                "--prompt", "hi"), 4, "the model needs about", "--load-4bit");
        Run cuda = run(null, "--model-path", model.toString(), "--device", "cuda", "--prompt", "hi", "--max-new-tokens", "2");
        r = run(null, "--model-path", model.toString(), "--prompt", "hi", "--max-new-tokens", "2");
        assertEquals(0, r.code(), r.err());
        if (cuda.code() != 0) {
            assertCleanError(cuda, 3, "--device cuda:");
            assertTrue(r.err().contains("running on the CPU"), "auto says why it falls back: " + r.err());
        } else {
            assertFalse(r.err().contains("running on the CPU"), "a usable GPU is used by auto: " + r.err());
        }
    }
}
