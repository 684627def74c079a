package mgm.tools;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The chat's own options (MGM's cli.py flags plus one-shot and statistics). */
final class ChatOptions {
    @Option(names = "--image-file", paramLabel = "IMG", split = ",",
            description = "Image(s) to talk about; repeat the option or give a comma-separated list (MGM numbers "
                    + "several as 'Image 1:', 'Image 2:', ...).")
    List<Path> imageFiles = new ArrayList<>();

    @Option(names = "--conv-mode", paramLabel = "MODE",
            description = "Conversation template: vicuna_v1, llama_3, gemma, mistral_instruct, chatml_direct, ... "
                    + "(default: auto, from the model name as MGM does, LLaMA-3 detected from the tokenizer).")
    String convMode;

    @Option(names = "--prompt", paramLabel = "TEXT",
            description = "Answer this one question, print the answer and exit (no interactive chat).")
    String prompt;

    @Option(names = "--gen", description = "Ask for an image-generation prompt (MGM appends ' <GEN>') and print the "
            + "prompt the model writes between <h> and </h>; no diffusion model is bundled, so no image is made.")
    boolean gen;

    @Option(names = "--ocr", description = "MGM's PaddleOCR hints: not supported by mgm-java (exits with status 2).")
    boolean ocr;

    @Option(names = "--model-base", paramLabel = "DIR", description = "MGM's base LLM + mm_projector.bin layout (stage-1 "
            + "checkpoints): not supported (exits with status 2); use a full checkpoint folder.")
    java.nio.file.Path modelBase;

    @Option(names = "--stats", description = "Print the timings line after a --prompt answer too (the chat always does).")
    boolean stats;

    @Option(names = "--debug", description = "Print the rendered prompt and the raw output after each answer, and stack "
            + "traces of internal errors.")
    void setDebug(boolean on) {
        debug = on;
        MgmRun.debug |= on;
    }

    boolean debug;
}
