package mgm.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The files of MGM's {@code model_vqa_loader} evaluation: a JSONL question file
 * ({@code question_id}, {@code text}, optional {@code image}) and a JSONL answers file that is
 * appended to, one whole line per answer, so that a run can be resumed.
 */
final class EvalQuestions {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EvalQuestions() {}

    /** One question; {@code id} is kept as its JSON value (number or string), as MGM writes it back. */
    record Question(JsonNode id, String text, String image, int line) {
        /** The id as a key for "already answered" (JSON text, so 7 and "7" differ as in Python). */
        String key() {
            return id.toString();
        }
    }

    static List<Question> read(Path file) {
        List<Question> out = new ArrayList<>();
        List<String> lines = lines(file);
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = parse(file, line, i + 1);
            JsonNode id = n.get("question_id");
            if (id == null || !(id.isTextual() || id.isIntegralNumber())) {
                throw fail(file, i + 1, "\"question_id\" must be a number or a string");
            }
            JsonNode text = n.get("text");
            if (text == null || !text.isTextual()) {
                throw fail(file, i + 1, "\"text\" must be a string");
            }
            JsonNode image = n.get("image");
            if (image != null && !image.isNull() && !image.isTextual()) {
                throw fail(file, i + 1, "\"image\" must be a file name");
            }
            if (!seen.add(id.toString())) {
                throw fail(file, i + 1, "question_id " + id + " appears twice");
            }
            out.add(new Question(id, text.asText(), image == null || image.isNull() ? null : image.asText(), i + 1));
        }
        return out;
    }

    /** MGM's get_chunk: split into {@code n} consecutive chunks of ceil(len / n) and take chunk {@code k}. */
    static List<Question> chunk(List<Question> all, int n, int k) {
        int size = (int) Math.ceil(all.size() / (double) n);
        int from = Math.min(all.size(), k * size);
        int to = Math.min(all.size(), from + size);
        return all.subList(from, to);
    }

    /**
     * The question ids already in an answers file (none when it does not exist). A last line cut
     * short by an interrupted run is removed from the file, so that appending continues cleanly.
     */
    static Set<String> answeredIds(Path file) {
        Set<String> ids = new LinkedHashSet<>();
        if (!Files.exists(file)) {
            return ids;
        }
        dropPartialLastLine(file);
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            JsonNode n = parse(file, lines.get(i), i + 1);
            JsonNode id = n.get("question_id");
            if (id == null) {
                throw fail(file, i + 1, "no \"question_id\": is this an answers file?");
            }
            ids.add(id.toString());
        }
        return ids;
    }

    private static void dropPartialLastLine(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size == 0) {
                return;
            }
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, size - 1);
            if (one.get(0) == '\n') {
                return;
            }
            long keep = size - 1;
            ByteBuffer chunk = ByteBuffer.allocate(8192);
            while (keep > 0) {
                long from = Math.max(0, keep - chunk.capacity());
                chunk.clear().limit((int) (keep - from));
                ch.read(chunk, from);
                int i = chunk.position() - 1;
                while (i >= 0 && chunk.get(i) != '\n') {
                    i--;
                }
                if (i >= 0) {
                    keep = from + i + 1;
                    break;
                }
                keep = from;
            }
            ch.truncate(keep);
        } catch (IOException e) {
            throw MgmRun.CommandFailure.file(file + ": cannot be repaired: " + e.getMessage());
        }
    }

    private static List<String> lines(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            String s = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            return List.of(s.split("\r?\n", -1));
        } catch (NoSuchFileException e) {
            throw MgmRun.CommandFailure.file(file + ": does not exist");
        } catch (CharacterCodingException e) {
            throw MgmRun.CommandFailure.file(file + ": is not valid UTF-8");
        } catch (IOException e) {
            throw MgmRun.CommandFailure.file(file + ": cannot be read: " + e.getMessage());
        }
    }

    private static JsonNode parse(Path file, String line, int lineNo) {
        try {
            JsonNode n = JSON.readTree(line);
            if (n == null || !n.isObject()) {
                throw fail(file, lineNo, "expected a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw fail(file, lineNo, "malformed JSON: " + e.getOriginalMessage().replace('\n', ' '));
        }
    }

    private static MgmRun.CommandFailure fail(Path file, int line, String problem) {
        return MgmRun.CommandFailure.file(file + ": line " + line + ": " + problem);
    }
}
