package mgm.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import mgm.loaders.tokenizer.Tokenizer;
import mgm.loaders.tokenizer.TokenizerException;
import mgm.loaders.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mgm-run tokenize}: one JSON object per input line, {@code {"text": ..., "add_special_tokens": true|false}},
 * gives the output line at the same position, {@code {"ids": [...], "decoded": ...}} (the decode of
 * those ids with special tokens kept). The output file appears whole or not at all.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Tokenizes JSONL text with a checkpoint's tokenizer.",
        description = "Tokenizes JSONL text with a checkpoint's tokenizer (tokenizer.json, else tokenizer.model).",
        footerHeading = "%nExamples:%n",
        footer = {"  echo '{\"text\": \"USER: <image>\\nWhat is this?\"}' > in.jsonl",
                "  mgm-run tokenize --model-path MGM-7B --input-jsonl in.jsonl --output-jsonl out.jsonl --prefer slow"})
final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model-path", required = true, paramLabel = "DIR",
            description = "Checkpoint folder with tokenizer.json or tokenizer.model (+ tokenizer_config.json, ...).")
    Path modelPath;

    @Option(names = "--input-jsonl", required = true, paramLabel = "IN",
            description = "Input lines {\"text\": \"...\", \"add_special_tokens\": true|false} (the flag defaults to true).")
    Path input;

    @Option(names = "--output-jsonl", required = true, paramLabel = "OUT",
            description = "Output lines {\"ids\": [...], \"decoded\": \"...\"}, written atomically.")
    Path output;

    @Option(names = "--prefer", paramLabel = "fast|slow", defaultValue = "fast",
            description = "When both exist: fast = tokenizer.json (default), slow = tokenizer.model with the slow "
                    + "LlamaTokenizer rules (MGM's use_fast=False for Vicuna and Yi).")
    String prefer;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Tokenizers.Prefer p = switch (prefer) {
            case "fast" -> Tokenizers.Prefer.FAST;
            case "slow" -> Tokenizers.Prefer.SLOW;
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--prefer must be fast or slow, got '" + prefer + "'");
        };
        Tokenizer tok;
        try {
            tok = Tokenizers.load(modelPath, p);
        } catch (TokenizerException e) {
            throw new MgmRun.CommandFailure(MgmRun.EXIT_FILE, e.getMessage());
        }
        List<String> lines = readLines(input);
        List<String> out = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            out.add(tokenizeLine(tok, lines.get(i), i + 1));
        }
        writeAtomically(output, out);
        return 0;
    }

    private String tokenizeLine(Tokenizer tok, String line, int lineNo) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw fileError(input + ": line " + lineNo + ": malformed JSON: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (n == null || !n.isObject()) {
            throw fileError(input + ": line " + lineNo + ": expected a JSON object {\"text\": ...}");
        }
        JsonNode text = n.get("text");
        if (text == null || !text.isTextual()) {
            throw fileError(input + ": line " + lineNo + ": \"text\" must be a string");
        }
        JsonNode add = n.get("add_special_tokens");
        if (add != null && !add.isBoolean()) {
            throw fileError(input + ": line " + lineNo + ": \"add_special_tokens\" must be true or false");
        }
        int[] ids = tok.encode(text.asText(), add == null || add.asBoolean());
        ObjectNode o = JSON.createObjectNode();
        ArrayNode a = o.putArray("ids");
        for (int id : ids) {
            a.add(id);
        }
        o.put("decoded", tok.decode(ids, false));
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> readLines(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            String s = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            List<String> lines = new ArrayList<>(List.of(s.split("\r?\n", -1)));
            if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
                lines.remove(lines.size() - 1); // the final newline ends the last line
            }
            return lines;
        } catch (NoSuchFileException e) {
            throw fileError(file + ": does not exist");
        } catch (CharacterCodingException e) {
            throw fileError(file + ": is not valid UTF-8");
        } catch (IOException e) {
            throw fileError(file + ": cannot be read: " + e.getMessage());
        }
    }

    /** Writes to a temporary file beside the target, then renames it over the target. */
    static void writeAtomically(Path file, List<String> lines) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            if (dir == null || !Files.isDirectory(dir)) {
                throw fileError(file + ": its folder does not exist");
            }
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (String l : lines) {
                    w.write(l);
                    w.write('\n');
                }
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw fileError(file + ": cannot be written: " + e.getMessage());
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the target was not touched
                }
            }
        }
    }

    private static MgmRun.CommandFailure fileError(String message) {
        return new MgmRun.CommandFailure(MgmRun.EXIT_FILE, message);
    }
}
