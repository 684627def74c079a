package mgm.tools.tiny;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.tools.tiny.TinyFamily.TokenizerStyle;

/**
 * Writes a {@link TinyTokenizer} as the files an HF checkpoint folder carries:
 * {@code tokenizer.json} (the fast tokenizer, laid out like the family's real one),
 * {@code tokenizer_config.json} and {@code special_tokens_map.json}.
 */
final class TokenizerFiles {
    private TokenizerFiles() {}

    static void write(Path folder, TinyTokenizer t, int modelMaxLength) throws IOException {
        Files.writeString(folder.resolve("tokenizer.json"), Json.write(tokenizerJson(t), false), StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("tokenizer_config.json"), Json.write(tokenizerConfig(t, modelMaxLength), false),
                StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("special_tokens_map.json"), Json.write(specialTokensMap(t), false),
                StandardCharsets.UTF_8);
    }

    static Map<String, Object> tokenizerJson(TinyTokenizer t) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        List<Object> added = new ArrayList<>();
        for (Map.Entry<String, Integer> s : t.specials.entrySet()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("id", s.getValue());
            a.put("content", s.getKey());
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
            added.add(a);
        }
        root.put("added_tokens", added);
        boolean byteLevel = t.style == TokenizerStyle.LLAMA3;
        if (byteLevel) {
            root.put("normalizer", null);
            root.put("pre_tokenizer", map("type", "Sequence", "pretokenizers", List.of(
                    map("type", "Split", "pattern", map("Regex", TinyTokenizer.LLAMA3_REGEX), "behavior", "Isolated",
                            "invert", false),
                    byteLevelStep(false, true, false))));
            root.put("post_processor", map("type", "Sequence", "processors", List.of(
                    byteLevelStep(true, false, true), template(t))));
            root.put("decoder", byteLevelStep(true, true, true));
        } else {
            Map<String, Object> replace = map("type", "Replace", "pattern", map("String", " "), "content", TinyTokenizer.SPACE);
            if (t.style == TokenizerStyle.GEMMA) {
                root.put("normalizer", replace);
            } else {
                root.put("normalizer", map("type", "Sequence", "normalizers",
                        List.of(map("type", "Prepend", "prepend", TinyTokenizer.SPACE), replace)));
            }
            root.put("pre_tokenizer", null);
            root.put("post_processor", template(t));
            List<Object> decoders = new ArrayList<>(List.of(
                    map("type", "Replace", "pattern", map("String", TinyTokenizer.SPACE), "content", " "),
                    map("type", "ByteFallback"), map("type", "Fuse")));
            if (t.style != TokenizerStyle.GEMMA) {
                decoders.add(map("type", "Strip", "content", " ", "start", 1, "stop", 0));
            }
            root.put("decoder", map("type", "Sequence", "decoders", decoders));
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", byteLevel ? null : "<unk>");
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", !byteLevel);
        model.put("byte_fallback", !byteLevel);
        if (byteLevel) {
            model.put("ignore_merges", true);
        }
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int i = 0; i < t.tokens.size(); i++) {
            if (!byteLevel || !t.specials.containsKey(t.tokens.get(i))) {
                vocab.put(t.tokens.get(i), i);
            }
        }
        model.put("vocab", vocab);
        model.put("merges", t.merges);
        root.put("model", model);
        return root;
    }

    private static Map<String, Object> byteLevelStep(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        return map("type", "ByteLevel", "add_prefix_space", addPrefixSpace, "trim_offsets", trimOffsets,
                "use_regex", useRegex);
    }

    /** The BOS-adding post-processor (a template with only the sequence when the style adds no BOS). */
    private static Map<String, Object> template(TinyTokenizer t) {
        String bos = t.bos();
        Map<String, Object> seqA = map("Sequence", map("id", "A", "type_id", 0));
        Map<String, Object> seqB = map("Sequence", map("id", "B", "type_id", 1));
        if (!t.addsBos()) {
            return map("type", "TemplateProcessing", "single", List.of(seqA), "pair", List.of(seqA, seqB),
                    "special_tokens", Map.of());
        }
        Map<String, Object> bos0 = map("SpecialToken", map("id", bos, "type_id", 0));
        Map<String, Object> bos1 = map("SpecialToken", map("id", bos, "type_id", 1));
        return map("type", "TemplateProcessing", "single", List.of(bos0, seqA), "pair", List.of(bos0, seqA, bos1, seqB),
                "special_tokens", map(bos, map("id", bos, "ids", List.of(t.id(bos)), "tokens", List.of(bos))));
    }

    static Map<String, Object> tokenizerConfig(TinyTokenizer t, int modelMaxLength) {
        Map<String, Object> c = new LinkedHashMap<>();
        boolean byteLevel = t.style == TokenizerStyle.LLAMA3;
        if (!byteLevel) {
            c.put("add_bos_token", t.addsBos());
            c.put("add_eos_token", false);
        }
        Map<String, Object> decoder = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> s : t.specials.entrySet()) {
            decoder.put(String.valueOf(s.getValue()), map("content", s.getKey(), "lstrip", false, "normalized", false,
                    "rstrip", false, "single_word", false, "special", true));
        }
        c.put("added_tokens_decoder", decoder);
        List<String> extra = switch (t.style) {
            case YI -> List.of("<|im_start|>", "<|im_end|>", "<|im_sep|>");
            case GEMMA -> List.of("<start_of_turn>", "<end_of_turn>");
            default -> List.of();
        };
        if (!extra.isEmpty()) {
            c.put("additional_special_tokens", extra);
        }
        c.put("bos_token", t.bos());
        c.put("clean_up_tokenization_spaces", byteLevel);
        c.put("eos_token", t.eos());
        if (!byteLevel) {
            c.put("legacy", t.style == TokenizerStyle.MISTRAL);
        }
        c.put("model_max_length", modelMaxLength);
        c.put("pad_token", t.style == TokenizerStyle.GEMMA ? "<pad>" : t.unk());
        c.put("padding_side", "right");
        if (!byteLevel) {
            c.put("sp_model_kwargs", Map.of());
            c.put("spaces_between_special_tokens", false);
        }
        c.put("tokenizer_class", switch (t.style) {
            case LLAMA2, MISTRAL, YI -> "LlamaTokenizer";
            case GEMMA -> "GemmaTokenizer";
            case LLAMA3 -> "PreTrainedTokenizerFast";
        });
        c.put("unk_token", t.unk());
        if (!byteLevel) {
            c.put("use_default_system_prompt", false);
        }
        return c;
    }

    static Map<String, Object> specialTokensMap(TinyTokenizer t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bos_token", token(t.bos()));
        m.put("eos_token", token(t.eos()));
        m.put("pad_token", token(t.style == TokenizerStyle.GEMMA ? "<pad>" : t.unk()));
        m.put("unk_token", token(t.unk()));
        return m;
    }

    private static Map<String, Object> token(String content) {
        return map("content", content, "lstrip", false, "normalized", false, "rstrip", false, "single_word", false);
    }

    /** An ordered map from alternating keys and values. */
    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
