package mgm.loaders.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads tokenizer.json in one streaming pass: the model's vocab and merges (hundreds of thousands
 * of entries) go straight into maps and arrays; everything else, which is small, becomes a tree.
 */
final class TokenizerJsonReader {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Vocab tokens arrive as field names: interning hundreds of thousands of them only costs time. */
    private static final com.fasterxml.jackson.core.JsonFactory FACTORY = com.fasterxml.jackson.core.JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build();

    /** The file without model.vocab / model.merges, plus those two when they have the BPE shapes. */
    record Parsed(ObjectNode root, Map<String, Integer> vocab, String[][] merges) {}

    private TokenizerJsonReader() {}

    static Parsed read(Path file) {
        try (JsonParser p = FACTORY.createParser(file.toFile())) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw TokenizerException.of(file, "is empty, expected a JSON object");
            }
            if (t != JsonToken.START_OBJECT) {
                throw TokenizerException.of(file, "is not a JSON object");
            }
            ObjectNode root = MAPPER.createObjectNode();
            Map<String, Integer> vocab = null;
            String[][] merges = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("model") && v == JsonToken.START_OBJECT) {
                    ObjectNode model = MAPPER.createObjectNode();
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String key = p.currentName();
                        JsonToken mv = p.nextToken();
                        if (key.equals("vocab") && mv == JsonToken.START_OBJECT) {
                            vocab = readVocab(p);
                        } else if (key.equals("merges") && mv == JsonToken.START_ARRAY) {
                            merges = readMerges(p);
                        } else {
                            model.set(key, MAPPER.readTree(p));
                        }
                    }
                    root.set("model", model);
                } else {
                    root.set(name, MAPPER.readTree(p));
                }
            }
            return new Parsed(root, vocab, merges);
        } catch (JsonProcessingException e) {
            throw TokenizerException.of(file, "malformed JSON: " + e.getOriginalMessage().replace('\n', ' ')
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + " column "
                    + e.getLocation().getColumnNr()), e);
        } catch (NoSuchFileException e) {
            throw TokenizerException.of(file, "does not exist");
        } catch (IOException e) {
            throw TokenizerException.of(file, "cannot be read: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw TokenizerException.of(file, e.getMessage(), e);
        }
    }

    private static Map<String, Integer> readVocab(JsonParser p) throws IOException {
        Map<String, Integer> vocab = new HashMap<>(1 << 16);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String token = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
                throw new IllegalArgumentException("vocab entry " + OnigRegex.quote(token) + " has a non-integer id");
            }
            vocab.put(token, p.getIntValue());
        }
        return vocab;
    }

    private static String[][] readMerges(JsonParser p) throws IOException {
        List<String[]> merges = new ArrayList<>(1 << 16);
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            int n = merges.size() + 1;
            if (t == JsonToken.VALUE_STRING) {
                String line = p.getText();
                int sp = line.indexOf(' ');
                if (sp < 0 || line.indexOf(' ', sp + 1) >= 0) {
                    throw new IllegalArgumentException("merge " + n + " " + OnigRegex.quote(line)
                            + " is not two tokens separated by one space");
                }
                merges.add(new String[] {line.substring(0, sp), line.substring(sp + 1)});
            } else if (t == JsonToken.START_ARRAY) {
                String a = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                String b = a != null && p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                if (b == null || p.nextToken() != JsonToken.END_ARRAY) {
                    throw new IllegalArgumentException("merge " + n + " is neither \"a b\" nor [\"a\", \"b\"]");
                }
                merges.add(new String[] {a, b});
            } else {
                throw new IllegalArgumentException("merge " + n + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        return merges.toArray(new String[0][]);
    }
}
