package mgm.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.image.RgbImage;
import mgm.loaders.tokenizer.ImagePrompt;
import mgm.model.ChatSession;
import mgm.model.MgmModel;
import mgm.model.generate.Generator;
import mgm.model.generate.SamplingParams;
import picocli.CommandLine;

/**
 * MGM's chat CLI (mgm/serve/cli.py): the images are decoded and encoded once, the user is
 * prompted with the template's role, the answer is streamed as it is generated, and the
 * conversation goes on (with the KV cache of earlier turns reused) until an empty line or the end
 * of input. With {@code --prompt}, one answer is printed and the program exits.
 */
final class Chat {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CommandLine commandLine;
    private final ModelOptions modelOptions;
    private final SamplingOptions samplingOptions;
    private final ChatOptions options;
    private final PrintWriter out;
    private final PrintWriter err;

    Chat(CommandLine commandLine, ModelOptions modelOptions, SamplingOptions samplingOptions, ChatOptions options) {
        this.commandLine = commandLine;
        this.modelOptions = modelOptions;
        this.samplingOptions = samplingOptions;
        this.options = options;
        this.out = commandLine.getOut();
        this.err = commandLine.getErr();
    }

    int run() {
        if (options.ocr) {
            throw MgmRun.CommandFailure.usage("--ocr is not supported: MGM runs PaddleOCR (a Python library) for it, "
                    + "which mgm-java does not include; type any text you want the model to read into the prompt instead");
        }
        if (options.modelBase != null) {
            throw MgmRun.CommandFailure.usage("--model-base is not supported: mgm-java loads full checkpoints (the folder "
                    + "with config.json and all weights, as released); pass it with --model-path");
        }
        Path modelPath = modelOptions.requireModelPath(commandLine);
        modelOptions.validate();
        samplingOptions.validate();
        Templates.check(options.convMode);
        if (options.prompt != null && options.prompt.isEmpty()) {
            throw MgmRun.CommandFailure.usage("--prompt is empty");
        }
        List<RgbImage> images = Images.decode(options.imageFiles);
        try (ModelOptions.Loaded loaded = modelOptions.load(commandLine, err)) {
            MgmModel model = loaded.model();
            if (!images.isEmpty() && !model.isMultimodal()) {
                throw MgmRun.CommandFailure.usage("--image-file: the model at " + modelPath
                        + " takes no images (its config.json names no vision tower)");
            }
            ConversationTemplate template = Templates.select(modelPath, options.convMode, model.tokenizer(), err);
            SamplingParams sampling = samplingOptions.params(modelPath);
            try (ChatSession session = new ChatSession(model, template, images)) {
                return options.prompt != null
                        ? oneShot(session, sampling, images.size())
                        : interactive(session, template, sampling, images.size());
            }
        }
    }

    private int oneShot(ChatSession session, SamplingParams sampling, int imageCount) {
        try (Interrupts interrupts = Interrupts.install(err, null)) {
            ChatSession.Reply reply;
            try {
                reply = answer(session, interrupts, userText(options.prompt, imageCount, true), sampling);
            } catch (IllegalArgumentException e) {
                throw MgmRun.CommandFailure.usage(e.getMessage()); // e.g. a prompt longer than the context
            }
            if (options.stats) {
                err.println(Timings.line(reply.stats()));
            }
            afterAnswer(reply);
            return reply.stats().stopReason() == Generator.StopReason.CANCELLED ? MgmRun.EXIT_INTERRUPTED : MgmRun.EXIT_OK;
        }
    }

    private int interactive(ChatSession session, ConversationTemplate template, SamplingParams sampling, int imageCount) {
        String user = Templates.displayRole(template, false) + ": ";
        String assistant = Templates.displayRole(template, true) + ": ";
        try (LineInput input = LineInput.open(out);
             Interrupts interrupts = Interrupts.install(err, input.terminal())) {
            boolean first = true;
            while (true) {
                String line;
                try {
                    line = input.readLine(user);
                } catch (LineInput.Interrupted e) {
                    out.println("exit...");
                    return MgmRun.EXIT_INTERRUPTED;
                }
                if (line == null || line.isEmpty()) {
                    out.println("exit...");
                    return MgmRun.EXIT_OK;
                }
                out.print(assistant);
                out.flush();
                ChatSession.Reply reply;
                try {
                    reply = answer(session, interrupts, userText(line, imageCount, first), sampling);
                } catch (IllegalArgumentException e) {
                    // e.g. the conversation no longer fits the context; the turn was not kept
                    out.println();
                    err.println("mgm-run: " + e.getMessage());
                    continue;
                }
                first = false;
                err.println(Timings.line(reply.stats()));
                afterAnswer(reply);
            }
        }
    }

    private String userText(String line, int imageCount, boolean first) {
        return userText(line, imageCount, first, options.gen);
    }

    /**
     * MGM's order: the --gen request is appended, then on the first turn one {@code <image>\n} per
     * image goes in front, numbered {@code Image k:} when there are several (MGM numbers them in the
     * rendered prompt; only the first message holds markers, so numbering it gives the same prompt).
     */
    static String userText(String line, int imageCount, boolean first, boolean gen) {
        String text = gen ? line + GenRequest.MARKER : line;
        if (first && imageCount > 0) {
            text = (ImagePrompt.IMAGE_TOKEN + "\n").repeat(imageCount) + text;
            text = ImagePrompt.numberImages(text);
        }
        return text;
    }

    private ChatSession.Reply answer(ChatSession session, Interrupts interrupts, String text, SamplingParams sampling) {
        TrimmedStream stream = new TrimmedStream();
        interrupts.startAnswer();
        ChatSession.Reply reply;
        try {
            reply = session.ask(text, sampling, samplingOptions.maxNewTokens, piece -> {
                String ready = stream.push(piece);
                if (!ready.isEmpty()) {
                    out.print(ready);
                    out.flush();
                }
                return !interrupts.stopRequested();
            });
        } finally {
            interrupts.endAnswer();
        }
        out.println();
        out.flush();
        switch (reply.stats().stopReason()) {
            case CANCELLED -> err.println("mgm-run: answer stopped (Ctrl-C); press Ctrl-C again to exit");
            case CONTEXT_FULL -> err.println("mgm-run: the context is full (" + (reply.stats().promptTokens()
                    + reply.stats().generatedTokens()) + " tokens); start a new chat or raise --context");
            default -> { }
        }
        return reply;
    }

    private void afterAnswer(ChatSession.Reply reply) {
        if (options.gen) {
            err.println(GenRequest.report(reply.text()));
        }
        if (options.debug) {
            ObjectNode o = JSON.createObjectNode();
            o.put("prompt", reply.prompt());
            o.put("outputs", reply.rawText());
            var ids = o.putArray("output_ids");
            for (int t : reply.tokens()) {
                ids.add(t);
            }
            o.put("stop", reply.stats().stopReason().name().toLowerCase(java.util.Locale.ROOT));
            try {
                err.println(JSON.writeValueAsString(o));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        err.flush();
    }
}
