package mgm.loaders;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads the JSON files of a model folder (configs, shard indexes, safetensors headers) strictly:
 * duplicate keys and trailing garbage are errors, nesting and sizes are bounded, and every
 * failure is a one-line {@link CheckpointException} naming the file and the position.
 */
public final class JsonFiles {
    /** Larger than any real config or index; bounds the memory a hostile file can take. */
    public static final long MAX_JSON_BYTES = 256L << 20;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // Python's json writes NaN/Infinity; accept them here, validation rejects them where it matters.
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private JsonFiles() {}

    /** Reads and parses {@code file}; {@code what} names it in errors (e.g. "config"). */
    public static JsonNode read(Path file, String what) {
        return parse(readBytes(file, MAX_JSON_BYTES, what), file, what);
    }

    /** Parses UTF-8 JSON text that came from {@code file}. */
    public static JsonNode parse(byte[] json, Path file, String what) {
        try {
            JsonNode node = MAPPER.readTree(json);
            if (node == null || node.isMissingNode()) {
                throw new CheckpointException(file, what + " is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + " column " + at.getColumnNr();
            throw new CheckpointException(file, what + " is not valid JSON" + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot parse " + what + ": " + e.getMessage(), e);
        }
    }

    /** The whole file, refusing files larger than {@code maxBytes}. */
    public static byte[] readBytes(Path file, long maxBytes, String what) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > maxBytes) {
                throw new CheckpointException(file, what + " is " + size + " bytes, more than the " + maxBytes + " allowed");
            }
            byte[] bytes = new byte[(int) size];
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                if (ch.read(buf) < 0) {
                    throw new CheckpointException(file, what + " shrank while being read");
                }
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, what + " not found");
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read " + what + ": " + e, e);
        }
    }

    /** A short description of a JSON node's type for error messages ("a string", "an array" ...). */
    public static String typeOf(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "missing";
        }
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
