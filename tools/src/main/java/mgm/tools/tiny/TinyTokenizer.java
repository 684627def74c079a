package mgm.tools.tiny;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mgm.tools.tiny.TinyFamily.TokenizerStyle;

/**
 * A small but real tokenizer in one family's style, trained with {@link BpeTrainer} on a short
 * English corpus (so prompts split into word-like pieces):
 * <ul>
 * <li>SentencePiece-style BPE (LLaMA-2/Vicuna, Mistral/Mixtral, Yi, Gemma): "▁" marks spaces,
 *     byte-fallback tokens {@code <0x00>..<0xFF>}, single characters last, the family's special
 *     tokens first ({@code <unk> <s> </s>}; Yi's {@code <|startoftext|> <|endoftext|>} and ChatML
 *     tokens; Gemma's {@code <pad> <eos> <bos> <unk>} and turn markers);</li>
 * <li>byte-level BPE (LLaMA-3): GPT-2 byte alphabet, LLaMA-3's pre-tokenizer regex, special tokens
 *     after the merged vocabulary at LLaMA-3's offsets ({@code <|begin_of_text|>} first,
 *     {@code <|eot_id|>} ninth after it).</li>
 * </ul>
 */
final class TinyTokenizer {
    /** LLaMA-3's pre-tokenizer split pattern, as in its tokenizer.json. */
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String SPACE = "\u2581";
    private static final String[] LLAMA3_SPECIALS = {"<|begin_of_text|>", "<|end_of_text|>",
        "<|reserved_special_token_0|>", "<|reserved_special_token_1|>", "<|reserved_special_token_2|>",
        "<|reserved_special_token_3|>", "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_4|>",
        "<|eot_id|>"};

    final TokenizerStyle style;
    /** Token strings by id. */
    final List<String> tokens;
    /** Merges in rank order, each "left right". */
    final List<String> merges;
    /** Ids of the special (added) tokens, in id order. */
    final Map<String, Integer> specials;

    private TinyTokenizer(TokenizerStyle style, List<String> tokens, List<String> merges, Map<String, Integer> specials) {
        this.style = style;
        this.tokens = tokens;
        this.merges = merges;
        this.specials = specials;
    }

    int size() {
        return tokens.size();
    }

    int id(String special) {
        Integer id = specials.get(special);
        if (id == null) {
            throw new IllegalStateException("no special token " + special);
        }
        return id;
    }

    String bos() {
        return switch (style) {
            case LLAMA2, MISTRAL -> "<s>";
            case YI -> "<|startoftext|>";
            case GEMMA -> "<bos>";
            case LLAMA3 -> "<|begin_of_text|>";
        };
    }

    String eos() {
        return switch (style) {
            case LLAMA2, MISTRAL -> "</s>";
            case YI -> "<|im_end|>";
            case GEMMA -> "<eos>";
            case LLAMA3 -> "<|eot_id|>";
        };
    }

    /** The token used for padding/unknown, or null when the style has none. */
    String unk() {
        return switch (style) {
            case LLAMA2, MISTRAL, YI, GEMMA -> "<unk>";
            case LLAMA3 -> "<|reserved_special_token_0|>";
        };
    }

    boolean addsBos() {
        return style != TokenizerStyle.YI;
    }

    /** Trains a tokenizer of about {@code targetSize} tokens on the bundled corpus. */
    static TinyTokenizer train(TokenizerStyle style, int targetSize) {
        List<String> lines = corpus();
        return style == TokenizerStyle.LLAMA3 ? byteLevel(lines, targetSize) : sentencePiece(style, lines, targetSize);
    }

    private static TinyTokenizer sentencePiece(TokenizerStyle style, List<String> lines, int targetSize) {
        List<String> specialList = switch (style) {
            case LLAMA2, MISTRAL -> List.of("<unk>", "<s>", "</s>");
            case YI -> List.of("<unk>", "<|startoftext|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_sep|>");
            case GEMMA -> List.of("<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>");
            case LLAMA3 -> throw new IllegalArgumentException("byte-level style");
        };
        boolean prependSpace = style != TokenizerStyle.GEMMA;
        Map<List<String>, Long> pieces = new LinkedHashMap<>();
        for (String line : lines) {
            String normalized = (prependSpace ? SPACE : "") + line.replace(" ", SPACE);
            for (String piece : splitBeforeSpaces(normalized)) {
                List<String> symbols = new ArrayList<>();
                piece.codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
                pieces.merge(symbols, 1L, Long::sum);
            }
        }
        Map<String, Long> alphabetCounts = new LinkedHashMap<>();
        for (Map.Entry<List<String>, Long> e : pieces.entrySet()) {
            for (String s : e.getKey()) {
                alphabetCounts.merge(s, e.getValue(), Long::sum);
            }
        }
        if (style == TokenizerStyle.GEMMA) {
            alphabetCounts.merge("\n", 1L, Long::sum); // Gemma has a real newline piece, not a byte fallback
        }
        int base = specialList.size() + 256 + alphabetCounts.size();
        BpeTrainer.Result r = BpeTrainer.train(pieces, Math.max(0, targetSize - base));
        List<String> tokens = new ArrayList<>(specialList);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        List<String> merges = new ArrayList<>();
        for (String[] m : r.merges()) {
            tokens.add(m[0] + m[1]);
            merges.add(m[0] + " " + m[1]);
        }
        List<Map.Entry<String, Long>> chars = new ArrayList<>(alphabetCounts.entrySet());
        chars.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
        for (Map.Entry<String, Long> c : chars) {
            if (!tokens.contains(c.getKey())) {
                tokens.add(c.getKey());
            }
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (int i = 0; i < specialList.size(); i++) {
            specials.put(specialList.get(i), i);
        }
        return new TinyTokenizer(style, tokens, merges, specials);
    }

    /** "▁a▁cat" -> ["▁a", "▁cat"]; a leading piece without "▁" stays as it is. */
    private static List<String> splitBeforeSpaces(String s) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 1; i < s.length(); i++) {
            if (s.startsWith(SPACE, i)) {
                out.add(s.substring(start, i));
                start = i;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    private static TinyTokenizer byteLevel(List<String> lines, int targetSize) {
        String[] byteChars = ByteLevel.byteToChar();
        Pattern split = Pattern.compile(LLAMA3_REGEX, Pattern.UNICODE_CHARACTER_CLASS);
        Map<List<String>, Long> pieces = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = split.matcher(line);
            while (m.find()) {
                List<String> symbols = new ArrayList<>();
                for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                    symbols.add(byteChars[b & 0xff]);
                }
                pieces.merge(symbols, 1L, Long::sum);
            }
        }
        int base = 256 + LLAMA3_SPECIALS.length;
        BpeTrainer.Result r = BpeTrainer.train(pieces, Math.max(0, targetSize - base));
        List<String> tokens = new ArrayList<>(ByteLevel.alphabetInIdOrder());
        List<String> merges = new ArrayList<>();
        for (String[] m : r.merges()) {
            tokens.add(m[0] + m[1]);
            merges.add(m[0] + " " + m[1]);
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (String s : LLAMA3_SPECIALS) {
            specials.put(s, tokens.size());
            tokens.add(s);
        }
        return new TinyTokenizer(TokenizerStyle.LLAMA3, tokens, merges, specials);
    }

    /** Special-token strings in the corpus (chat templates): split out before training, as tokenizers do before BPE. */
    private static final Pattern SPECIAL_IN_TEXT = Pattern.compile("<\\|[a-z_]+\\|>|<start_of_turn>|<end_of_turn>");

    /** The corpus as the BPE model sees it: lines with special-token strings cut out. */
    static List<String> corpus() {
        List<String> out = new ArrayList<>();
        for (String line : corpusLines()) {
            for (String part : SPECIAL_IN_TEXT.split(line)) {
                if (!part.isBlank()) {
                    out.add(part);
                }
            }
        }
        return out;
    }

    private static List<String> corpusLines() {
        try (InputStream in = TinyTokenizer.class.getResourceAsStream("corpus.txt")) {
            if (in == null) {
                throw new IllegalStateException("the tokenizer corpus (mgm/tools/tiny/corpus.txt) is missing from the jar");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String> lines = new ArrayList<>();
            for (String l : text.split("\n")) {
                if (!l.isBlank()) {
                    lines.add(l.strip());
                }
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** GPT-2's reversible byte-to-printable-character map (used by byte-level BPE). */
    static final class ByteLevel {
        private ByteLevel() {}

        /** The bytes in GPT-2's order: printable ranges first, then the rest; this order gives ids 0..255. */
        static int[] byteOrder() {
            List<Integer> bs = new ArrayList<>();
            for (int b = '!'; b <= '~'; b++) {
                bs.add(b);
            }
            for (int b = 0xA1; b <= 0xAC; b++) {
                bs.add(b);
            }
            for (int b = 0xAE; b <= 0xFF; b++) {
                bs.add(b);
            }
            for (int b = 0; b < 256; b++) {
                if (!bs.contains(b)) {
                    bs.add(b);
                }
            }
            return bs.stream().mapToInt(Integer::intValue).toArray();
        }

        static String[] byteToChar() {
            String[] out = new String[256];
            int[] order = byteOrder();
            int extra = 0;
            for (int i = 0; i < 256; i++) {
                int b = order[i];
                boolean printable = i < 188;
                out[b] = String.valueOf((char) (printable ? b : 256 + extra++));
            }
            return out;
        }

        static List<String> alphabetInIdOrder() {
            String[] chars = byteToChar();
            List<String> out = new ArrayList<>();
            for (int b : byteOrder()) {
                out.add(chars[b]);
            }
            return out;
        }
    }
}
