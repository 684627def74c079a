package mgm.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What transformers reads beside the vocabulary: tokenizer_config.json, special_tokens_map.json and
 * added_tokens.json (each optional). Values absent from every file are null.
 *
 * @param addedTokensDecoder added_tokens_decoder of tokenizer_config.json (id to token), in file order
 * @param addedTokensJson    added_tokens.json (content to id)
 * @param hasConfigFile      whether tokenizer_config.json exists (class defaults apply only then)
 */
public record TokenizerConfig(
        String tokenizerClass,
        Boolean addBosToken,
        Boolean addEosToken,
        Boolean legacy,
        Boolean cleanUpTokenizationSpaces,
        Boolean spacesBetweenSpecialTokens,
        String bosToken,
        String eosToken,
        String unkToken,
        String padToken,
        List<String> additionalSpecialTokens,
        Map<Integer, AddedTokenSpec> addedTokensDecoder,
        Map<String, Integer> addedTokensJson,
        boolean hasConfigFile) {

    /** An added token as tokenizer_config.json declares it. */
    public record AddedTokenSpec(String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                                 boolean normalized) {}

    public static final TokenizerConfig EMPTY = new TokenizerConfig(null, null, null, null, null, null, null, null,
            null, null, List.of(), Map.of(), Map.of(), false);

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Reads the config files of a checkpoint folder (missing files are fine; malformed ones are errors). */
    public static TokenizerConfig load(Path dir) {
        JsonNode cfg = readOptional(dir.resolve("tokenizer_config.json"));
        JsonNode map = readOptional(dir.resolve("special_tokens_map.json"));
        JsonNode added = readOptional(dir.resolve("added_tokens.json"));
        Path cfgFile = dir.resolve("tokenizer_config.json");
        try {
            Map<Integer, AddedTokenSpec> decoder = new LinkedHashMap<>();
            if (cfg != null && cfg.get("added_tokens_decoder") instanceof JsonNode d && d.isObject()) {
                var it = d.properties().iterator();
                while (it.hasNext()) {
                    var e = it.next();
                    int id;
                    try {
                        id = Integer.parseInt(e.getKey());
                    } catch (NumberFormatException ex) {
                        throw new IllegalArgumentException("added_tokens_decoder key " + OnigRegex.quote(e.getKey())
                                + " is not an id");
                    }
                    JsonNode t = e.getValue();
                    decoder.put(id, new AddedTokenSpec(Json.text(t, "content"), Json.bool(t, "special", false),
                            Json.bool(t, "single_word", false), Json.bool(t, "lstrip", false),
                            Json.bool(t, "rstrip", false), Json.bool(t, "normalized", true)));
                }
            }
            Map<String, Integer> addedJson = new LinkedHashMap<>();
            if (added != null) {
                if (!added.isObject()) {
                    throw TokenizerException.of(dir.resolve("added_tokens.json"), "must be an object {\"token\": id}");
                }
                var it = added.properties().iterator();
                while (it.hasNext()) {
                    var e = it.next();
                    if (!e.getValue().canConvertToInt()) {
                        throw TokenizerException.of(dir.resolve("added_tokens.json"),
                                "id of " + OnigRegex.quote(e.getKey()) + " is not an integer");
                    }
                    addedJson.put(e.getKey(), e.getValue().asInt());
                }
            }
            List<String> additional = new ArrayList<>();
            for (JsonNode src : new JsonNode[] {map, cfg}) {
                if (src != null && src.get("additional_special_tokens") instanceof JsonNode a && a.isArray()) {
                    for (JsonNode t : a) {
                        String s = tokenString(t);
                        if (s != null && !additional.contains(s)) {
                            additional.add(s);
                        }
                    }
                }
            }
            return new TokenizerConfig(
                    Json.optText(cfg, "tokenizer_class"),
                    Json.optBool(cfg, "add_bos_token"),
                    Json.optBool(cfg, "add_eos_token"),
                    Json.optBool(cfg, "legacy"),
                    Json.optBool(cfg, "clean_up_tokenization_spaces"),
                    Json.optBool(cfg, "spaces_between_special_tokens"),
                    special(cfg, map, "bos_token"),
                    special(cfg, map, "eos_token"),
                    special(cfg, map, "unk_token"),
                    special(cfg, map, "pad_token"),
                    List.copyOf(additional),
                    decoder,
                    addedJson,
                    cfg != null);
        } catch (IllegalArgumentException e) {
            throw TokenizerException.of(cfgFile, e.getMessage(), e);
        }
    }

    /** tokenizer_config.json wins over special_tokens_map.json, as transformers merges them. */
    private static String special(JsonNode cfg, JsonNode map, String key) {
        String s = cfg == null ? null : tokenString(cfg.get(key));
        if (s == null && map != null) {
            s = tokenString(map.get(key));
        }
        return s;
    }

    /** A special token written as "text" or as an AddedToken object {"content": "text", ...}. */
    private static String tokenString(JsonNode t) {
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isObject() && t.get("content") instanceof JsonNode c && c.isTextual()) {
            return c.asText();
        }
        return null;
    }

    static JsonNode readOptional(Path file) {
        if (!Files.exists(file)) {
            return null;
        }
        return readJson(file);
    }

    static JsonNode readJson(Path file) {
        try {
            JsonNode n = MAPPER.readTree(file.toFile());
            if (n == null || n.isMissingNode()) {
                throw TokenizerException.of(file, "is empty, expected a JSON object");
            }
            if (!n.isObject()) {
                throw TokenizerException.of(file, "is not a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw TokenizerException.of(file, "malformed JSON: " + e.getOriginalMessage().replace('\n', ' ')
                    + " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr(), e);
        } catch (IOException e) {
            throw TokenizerException.of(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** Whether transformers' slow/fast class for this config rewrites the BOS/EOS template from the flags. */
    boolean bosEosFlagsApply() {
        if (tokenizerClass == null) {
            return false;
        }
        String c = tokenizerClass.replace("Fast", "");
        return c.equals("LlamaTokenizer") || c.equals("GemmaTokenizer") || c.equals("CodeLlamaTokenizer");
    }

    /** clean_up_tokenization_spaces as transformers 4.36 resolves it: explicit value, else the class default. */
    boolean cleanUp() {
        if (cleanUpTokenizationSpaces != null) {
            return cleanUpTokenizationSpaces;
        }
        if (!hasConfigFile) {
            return false; // a bare tokenizer.json: the tokenizers library does no clean-up
        }
        return !bosEosFlagsApply(); // Llama/Gemma classes default to false, the base class to true
    }
}
