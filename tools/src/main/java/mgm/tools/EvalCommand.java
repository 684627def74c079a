package mgm.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.chat.TemplateSelector;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.RgbImage;
import mgm.loaders.tokenizer.ImagePrompt;
import mgm.model.MgmModel;
import mgm.model.generate.SamplingParams;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mgm-run eval}: MGM's {@code mgm/eval/model_vqa_loader.py} (TextVQA, MME, GQA, POPE style
 * benchmarks): each question is asked on its own as {@code <image>\n} + text in the template, the
 * answer is appended to the answers file as one JSON line; questions already answered there are
 * skipped, so an interrupted run resumes where it stopped.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Answers an MGM benchmark question file (model_vqa_loader format); resumable.",
        description = {"Answers a JSONL question file in MGM's model_vqa_loader format and appends the answers as JSONL:",
                "  in:  {\"question_id\": ..., \"image\": \"name.jpg\", \"text\": \"...\"}   (image optional)",
                "  out: {\"question_id\", \"prompt\", \"text\", \"answer_id\", \"model_id\", \"metadata\": {}}",
                "Questions already in the answers file are skipped (resume by running the same command again)."},
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run eval --model-path MGM-7B --question-file llava_textvqa_val_v051_ocr.jsonl \\",
                "      --image-folder textvqa/train_images --answers-file answers/MGM-7B.jsonl",
                "  mgm-run eval --model-path MGM-8B --conv-mode llama_3 --question-file q.jsonl --image-folder img \\",
                "      --answers-file a.jsonl --num-chunks 4 --chunk-idx 0"})
final class EvalCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--question-file", required = true, paramLabel = "Q.jsonl", description = "Questions, one JSON object per line.")
    Path questionFile;

    @Option(names = "--image-folder", paramLabel = "DIR", defaultValue = ".",
            description = "Folder the questions' \"image\" names are relative to (default: the current folder).")
    Path imageFolder;

    @Option(names = "--answers-file", required = true, paramLabel = "A.jsonl", description = "Answers, appended one line each.")
    Path answersFile;

    @Option(names = "--conv-mode", paramLabel = "MODE", description = "Conversation template (default: auto, as the chat).")
    String convMode;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "Sampling temperature; 0 = greedy, as MGM's eval scripts (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top_p", paramLabel = "P", description = "Nucleus sampling mass when sampling (default: 1).")
    Float topP;

    @Option(names = "--num_beams", paramLabel = "1", defaultValue = "1", description = "Beam search is not supported: only 1.")
    int numBeams;

    @Option(names = {"--max-new-tokens", "--max_new_tokens"}, paramLabel = "N", defaultValue = "128",
            description = "Most tokens per answer (default: ${DEFAULT-VALUE}, as model_vqa_loader).")
    int maxNewTokens;

    @Option(names = {"--num-chunks"}, paramLabel = "N", defaultValue = "1", description = "Split the questions into N chunks ...")
    int numChunks;

    @Option(names = {"--chunk-idx"}, paramLabel = "K", defaultValue = "0", description = "... and answer chunk K (0-based).")
    int chunkIdx;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Sampler seed when --temperature > 0.")
    long seed;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        PrintWriter err = cl.getErr();
        if (numBeams != 1) {
            throw new CommandLine.ParameterException(cl, "--num_beams: only 1 (no beam search) is supported");
        }
        if (numChunks < 1 || chunkIdx < 0 || chunkIdx >= numChunks) {
            throw new CommandLine.ParameterException(cl, "--chunk-idx must be in [0, --num-chunks)");
        }
        if (!(temperature >= 0) || maxNewTokens < 1 || (topP != null && !(topP > 0 && topP <= 1))) {
            throw new CommandLine.ParameterException(cl, "--temperature must be >= 0, --top_p in (0, 1], --max-new-tokens >= 1");
        }
        Path modelPath = model.requireModelPath(cl);
        model.validate();
        Templates.check(convMode);
        List<EvalQuestions.Question> questions = EvalQuestions.chunk(EvalQuestions.read(questionFile), numChunks, chunkIdx);
        Set<String> answered = EvalQuestions.answeredIds(answersFile);
        List<EvalQuestions.Question> todo = questions.stream().filter(q -> !answered.contains(q.key())).toList();
        int skipped = questions.size() - todo.size();
        if (todo.isEmpty()) {
            cl.getOut().println("eval: all " + questions.size() + " questions are already answered in " + answersFile);
            return 0;
        }
        if (skipped > 0) {
            err.println("mgm-run: resuming: " + skipped + " of " + questions.size() + " questions already answered in "
                    + answersFile);
        }
        try {
            Path parent = answersFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent); // as MGM's os.makedirs(dirname(answers_file))
            }
        } catch (IOException e) {
            throw MgmRun.CommandFailure.file(answersFile + ": its folder cannot be created: " + e.getMessage());
        }
        String modelId = TemplateSelector.modelName(modelPath.toString());
        SamplingParams sampling = new SamplingParams(temperature, 0, topP == null ? 1f : topP, 1f, seed);
        int failed = 0;
        long start = System.nanoTime();
        try (ModelOptions.Loaded loaded = model.load(cl, err)) {
            MgmModel m = loaded.model();
            ConversationTemplate template = Templates.select(modelPath, convMode, m.tokenizer(), err);
            ImageDecoder decoder = new ImageDecoder();
            ProgressBar progress = new ProgressBar(err, ProgressBar.onTerminal());
            try (SingleTurn turns = new SingleTurn(m, template);
                 OutputStream answers = Files.newOutputStream(answersFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                for (int i = 0; i < todo.size(); i++) {
                    EvalQuestions.Question q = todo.get(i);
                    progress.update("eval", i, todo.size());
                    try {
                        answers.write(answer(turns, decoder, q, m, modelId, sampling).getBytes(StandardCharsets.UTF_8));
                        answers.flush();
                    } catch (MgmRun.CommandFailure | IllegalArgumentException e) {
                        failed++;
                        progress.message("mgm-run: question " + q.id() + " (line " + q.line() + "): " + e.getMessage());
                    }
                }
                progress.update("eval", todo.size(), todo.size());
            } catch (IOException e) {
                throw MgmRun.CommandFailure.file(answersFile + ": cannot be written: " + e.getMessage());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        cl.getOut().println("eval: answered " + (todo.size() - failed) + " question(s) in " + ProgressBar.seconds(seconds)
                + (skipped > 0 ? ", " + skipped + " were already answered" : "")
                + (failed > 0 ? ", " + failed + " failed (run again to retry them)" : "") + " -> " + answersFile);
        return failed > 0 ? MgmRun.EXIT_FILE : 0;
    }

    private String answer(SingleTurn turns, ImageDecoder decoder, EvalQuestions.Question q, MgmModel m, String modelId,
                          SamplingParams sampling) {
        List<RgbImage> images = List.of();
        String text = q.text();
        if (q.image() != null) {
            if (!m.isMultimodal()) {
                throw MgmRun.CommandFailure.usage("the model takes no images");
            }
            images = List.of(Images.decode(decoder, imageFolder.resolve(q.image())));
            text = ImagePrompt.IMAGE_TOKEN + "\n" + text;
        }
        SingleTurn.Answer a = turns.ask(text, images, sampling, maxNewTokens);
        ObjectNode o = JSON.createObjectNode();
        o.set("question_id", q.id());
        o.put("prompt", q.text());
        o.put("text", a.text());
        o.put("answer_id", ShortUuid.random());
        o.put("model_id", modelId);
        o.putObject("metadata");
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
