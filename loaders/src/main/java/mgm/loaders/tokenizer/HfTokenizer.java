package mgm.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (the tokenizers library's format) with the settings of its
 * tokenizer_config.json: added tokens split out first, then per piece normalizer, pre-tokenizer and
 * BPE, then the post-processor; decoding through the decoder chain and transformers' clean-up.
 */
public final class HfTokenizer implements Tokenizer {
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final PostProcessor postProcessor;
    private final TokenDecoder decoder;
    private final Map<Integer, AddedToken> addedById;
    private final Map<String, Integer> addedByContent;
    private final AddedTokenMatcher rawMatcher;
    private final AddedTokenMatcher normalizedMatcher;
    private final boolean cleanUp;
    private final SpecialTokens special;
    private final int vocabSize;

    private HfTokenizer(TokenizerJsonReader.Parsed parsed, TokenizerConfig cfg) {
        JsonNode root = parsed.root();
        normalizer = TextNormalizer.fromJson(root.get("normalizer"));
        preTokenizer = PreTokenizer.fromJson(root.get("pre_tokenizer"));
        JsonNode m = root.get("model");
        if (m == null || !m.isObject()) {
            throw new IllegalArgumentException("has no \"model\" object");
        }
        model = BpeModel.fromJson(m, parsed.vocab(), parsed.merges());
        decoder = TokenDecoder.fromJson(root.get("decoder"));

        List<AddedToken> added = new ArrayList<>();
        addedById = new HashMap<>();
        addedByContent = new HashMap<>();
        JsonNode at = root.get("added_tokens");
        if (at != null && !at.isNull()) {
            if (!at.isArray()) {
                throw new IllegalArgumentException("\"added_tokens\" must be an array");
            }
            for (JsonNode t : at) {
                if (!t.path("id").canConvertToInt()) {
                    throw new IllegalArgumentException("an added token has no integer \"id\"");
                }
                boolean sp = Json.bool(t, "special", false);
                addAdded(added, new AddedToken(t.get("id").asInt(), Json.text(t, "content"), sp,
                        Json.bool(t, "single_word", false), Json.bool(t, "lstrip", false),
                        Json.bool(t, "rstrip", false), Json.bool(t, "normalized", !sp)));
            }
        }
        // transformers registers the named special tokens of the config as special added tokens.
        List<String> named = new ArrayList<>();
        for (String s : new String[] {cfg.bosToken(), cfg.eosToken(), cfg.unkToken(), cfg.padToken()}) {
            if (s != null) {
                named.add(s);
            }
        }
        named.addAll(cfg.additionalSpecialTokens());
        for (String s : named) {
            if (!addedByContent.containsKey(s)) {
                int id = model.tokenToId(s);
                if (id >= 0) {
                    addAdded(added, new AddedToken(id, s, true, false, false, false, false));
                }
            }
        }
        List<AddedToken> raw = new ArrayList<>();
        List<AddedToken> norm = new ArrayList<>();
        for (AddedToken t : added) {
            (t.normalized() ? norm : raw).add(t);
        }
        rawMatcher = new AddedTokenMatcher(raw, s -> s);
        normalizedMatcher = new AddedTokenMatcher(norm, normalizer::normalize);

        int maxId = model.size() - 1;
        for (int id : addedById.keySet()) {
            maxId = Math.max(maxId, id);
        }
        vocabSize = maxId + 1;
        special = new SpecialTokens(cfg.bosToken(), idOrMinus(cfg.bosToken()), cfg.eosToken(), idOrMinus(cfg.eosToken()),
                cfg.unkToken(), idOrMinus(cfg.unkToken()), cfg.padToken(), idOrMinus(cfg.padToken()));

        PostProcessor pp = PostProcessor.fromJson(root.get("post_processor"));
        if (cfg.bosEosFlagsApply()) {
            pp = flagTemplate(cfg);
        }
        postProcessor = pp;
        cleanUp = cfg.cleanUp();
    }

    /** LlamaTokenizerFast/GemmaTokenizerFast rebuild the template from add_bos_token (default true) and add_eos_token. */
    private PostProcessor flagTemplate(TokenizerConfig cfg) {
        boolean bos = cfg.addBosToken() == null || cfg.addBosToken();
        boolean eos = cfg.addEosToken() != null && cfg.addEosToken();
        if (bos && special.bosId() < 0) {
            throw new IllegalArgumentException("add_bos_token is true but the bos_token "
                    + (special.bos() == null ? "is not set" : OnigRegex.quote(special.bos()) + " is not in the vocab"));
        }
        if (eos && special.eosId() < 0) {
            throw new IllegalArgumentException("add_eos_token is true but the eos_token is not in the vocab");
        }
        return new PostProcessor(bos ? new int[] {special.bosId()} : new int[0], eos ? new int[] {special.eosId()} : new int[0]);
    }

    private void addAdded(List<AddedToken> added, AddedToken t) {
        if (t.content().isEmpty()) {
            return;
        }
        if (t.id() < 0) {
            throw new IllegalArgumentException("added token " + OnigRegex.quote(t.content()) + " has a negative id");
        }
        added.add(t);
        addedById.put(t.id(), t);
        addedByContent.putIfAbsent(t.content(), t.id());
    }

    private int idOrMinus(String token) {
        return token == null ? -1 : tokenToId(token);
    }

    /** Loads a tokenizer.json with the given config files' settings. */
    public static HfTokenizer load(Path tokenizerJson, TokenizerConfig cfg) {
        TokenizerJsonReader.Parsed parsed = TokenizerJsonReader.read(tokenizerJson);
        try {
            return new HfTokenizer(parsed, cfg);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw TokenizerException.of(tokenizerJson, e.getMessage(), e);
        } catch (RuntimeException e) {
            // a structurally odd file (wrong node kinds deep inside): still one clear line
            throw TokenizerException.of(tokenizerJson, "invalid tokenizer.json (" + e + ")", e);
        }
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList ids = new IntList(Math.max(16, text.length() / 3));
        encodeInto(text, ids, null);
        int[] out = ids.toArray();
        return addSpecialTokens ? postProcessor.apply(out) : out;
    }

    /** The ids of each added token and of each pre-tokenized word, in order (no special tokens). */
    List<int[]> encodeWords(String text) {
        List<int[]> words = new ArrayList<>();
        encodeInto(text, new IntList(), words);
        return words;
    }

    private void encodeInto(String text, IntList ids, List<int[]> wordIds) {
        List<Piece> words = new ArrayList<>();
        rawMatcher.split(text, m -> {
            if (m.token() != null) {
                add(ids, wordIds, m.token().id());
                return;
            }
            String normalized = normalizer.normalize(text.substring(m.start(), m.end()));
            boolean atOrigin = m.start() == 0;
            normalizedMatcher.split(normalized, m2 -> {
                if (m2.token() != null) {
                    add(ids, wordIds, m2.token().id());
                    return;
                }
                words.clear();
                preTokenizer.split(new Piece(normalized.substring(m2.start(), m2.end()), atOrigin && m2.start() == 0), words);
                for (Piece w : words) {
                    int before = ids.size();
                    model.tokenize(w.text(), ids);
                    if (wordIds != null && ids.size() > before) {
                        int[] g = new int[ids.size() - before];
                        for (int i = 0; i < g.length; i++) {
                            g[i] = ids.get(before + i);
                        }
                        wordIds.add(g);
                    }
                }
            });
        });
    }

    private static void add(IntList ids, List<int[]> wordIds, int id) {
        ids.add(id);
        if (wordIds != null) {
            wordIds.add(new int[] {id});
        }
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            AddedToken a = addedById.get(id);
            if (a != null) {
                if (!(skipSpecialTokens && a.special())) {
                    tokens.add(a.content());
                }
                continue;
            }
            String t = model.idToToken(id);
            if (t != null) {
                tokens.add(t);
            }
        }
        String text = decoder == null ? String.join(" ", tokens) : String.join("", decoder.decodeChain(tokens));
        return cleanUp ? CleanUp.apply(text) : text;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int tokenToId(String token) {
        Integer id = addedByContent.get(token);
        return id != null ? id : model.tokenToId(token);
    }

    @Override
    public String idToToken(int id) {
        AddedToken a = addedById.get(id);
        return a != null ? a.content() : model.idToToken(id);
    }

    @Override
    public boolean isSpecial(int id) {
        AddedToken a = addedById.get(id);
        return a != null && a.special();
    }

    @Override
    public SpecialTokens specialTokens() {
        return special;
    }

    /** Whether decode applies transformers' clean_up_tokenization. */
    public boolean cleansUpSpaces() {
        return cleanUp;
    }
}
