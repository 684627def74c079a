package mgm.loaders.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint that ships only {@code tokenizer.model}, tokenised the way transformers' slow
 * {@code LlamaTokenizer} (4.36) does it, which MGM uses for Vicuna and Yi:
 * <ul>
 *   <li>added and special tokens ({@code <s>}, {@code </s>}, {@code <unk>}, added_tokens_decoder,
 *       added_tokens.json) are split out of the text first (leftmost-longest, with their
 *       lstrip/rstrip/single_word rules);</li>
 *   <li>{@code legacy: true} (the default when the config says nothing): each text chunk is encoded
 *       by sentencepiece on its own, so a chunk after a special token also gets the "▁" prefix
 *       ({@code "</s>USER"} gives {@code </s> ▁USER});</li>
 *   <li>{@code legacy: false}: only the start of the whole text gets "▁"; a chunk after a special
 *       token gets none unless it starts with a space ({@code "</s>USER"} gives {@code </s> USER});</li>
 *   <li>BOS/EOS from add_bos_token (default true) and add_eos_token (default false);</li>
 *   <li>decode as LlamaTokenizer.convert_tokens_to_string: special tokens are written verbatim
 *       (with legacy, a space before a special token that follows text), the rest by sentencepiece.</li>
 * </ul>
 */
public final class SentencePieceTokenizer implements Tokenizer {
    private static final String SPIECE_UNDERLINE = "\u2581";

    private final SentencePieceModel sp;      // the model as transformers loads it (legacy: unchanged)
    private final SentencePieceModel raw;     // the file as sentencepiece loads it
    private final boolean legacy;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean cleanUp;
    private final boolean spacesBetweenSpecialTokens;
    private final SpecialTokens special;
    private final String unkToken;
    private final int unkTokenLength;
    private final Map<String, AddedToken> addedByContent = new LinkedHashMap<>();
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final Set<String> allSpecialTokens = new LinkedHashSet<>();
    private final Set<Integer> allSpecialIds = new LinkedHashSet<>();
    private final AddedTokenMatcher matcher;
    private final int vocabSize;

    private SentencePieceTokenizer(SentencePieceModel model, TokenizerConfig cfg) {
        raw = model;
        legacy = cfg.legacy() == null || cfg.legacy();
        sp = legacy ? model : model.withoutDummyPrefix();
        addBos = cfg.addBosToken() == null || cfg.addBosToken();
        addEos = cfg.addEosToken() != null && cfg.addEosToken();
        cleanUp = cfg.cleanUpTokenizationSpaces() != null && cfg.cleanUpTokenizationSpaces();
        spacesBetweenSpecialTokens = cfg.spacesBetweenSpecialTokens() == null || cfg.spacesBetweenSpecialTokens();

        // added_tokens_decoder first (as saved by transformers), then added_tokens.json
        int nextId = model.size();
        for (Map.Entry<Integer, TokenizerConfig.AddedTokenSpec> e : cfg.addedTokensDecoder().entrySet()) {
            var s = e.getValue();
            register(new AddedToken(e.getKey(), s.content(), s.special(), s.singleWord(), s.lstrip(), s.rstrip(), s.normalized()));
        }
        for (Map.Entry<String, Integer> e : cfg.addedTokensJson().entrySet()) {
            if (!addedByContent.containsKey(e.getKey())) {
                register(new AddedToken(e.getValue(), e.getKey(), false, false, false, false, true));
            }
        }
        String bos = cfg.bosToken() != null ? cfg.bosToken() : cfg.hasConfigFile() ? null : pieceOrNull(model.bosId());
        String eos = cfg.eosToken() != null ? cfg.eosToken() : cfg.hasConfigFile() ? null : pieceOrNull(model.eosId());
        String unk = cfg.unkToken() != null ? cfg.unkToken() : model.idToPiece(model.unkId());
        String pad = cfg.padToken();
        if (!cfg.hasConfigFile() && bos == null) {
            bos = "<s>";
        }
        if (!cfg.hasConfigFile() && eos == null) {
            eos = "</s>";
        }
        List<String> named = new ArrayList<>();
        for (String s : new String[] {bos, eos, unk, pad}) {
            if (s != null) {
                named.add(s);
            }
        }
        named.addAll(cfg.additionalSpecialTokens());
        for (String s : named) {
            allSpecialTokens.add(s);
            if (!addedByContent.containsKey(s)) {
                int id = model.findPiece(s);
                if (id < 0) {
                    id = nextId(nextId);
                }
                register(new AddedToken(id, s, true, false, false, false, false));
            }
            allSpecialIds.add(addedByContent.get(s).id());
        }
        for (AddedToken t : addedById.values()) {
            nextId = Math.max(nextId, t.id() + 1);
        }
        vocabSize = nextId;
        matcher = new AddedTokenMatcher(new ArrayList<>(addedByContent.values()), s -> s);
        unkToken = unk;
        unkTokenLength = unk == null ? 0 : sp.encode(unk).length;
        special = new SpecialTokens(bos, idOf(bos), eos, idOf(eos), unk, idOf(unk), pad, idOf(pad));
        if (addBos && special.bosId() < 0) {
            throw new IllegalArgumentException("add_bos_token is true but there is no bos_token");
        }
        if (addEos && special.eosId() < 0) {
            throw new IllegalArgumentException("add_eos_token is true but there is no eos_token");
        }
    }

    private int nextId(int base) {
        int id = base;
        for (AddedToken t : addedById.values()) {
            id = Math.max(id, t.id() + 1);
        }
        return id;
    }

    private String pieceOrNull(int id) {
        return id >= 0 ? raw.idToPiece(id) : null;
    }

    private void register(AddedToken t) {
        if (t.content().isEmpty()) {
            return;
        }
        addedByContent.putIfAbsent(t.content(), t);
        addedById.putIfAbsent(t.id(), t);
    }

    private int idOf(String token) {
        return token == null ? -1 : tokenToId(token);
    }

    /** Loads tokenizer.model with the config files of its folder. */
    public static SentencePieceTokenizer load(Path tokenizerModel, TokenizerConfig cfg) {
        SentencePieceModel model = SentencePieceModel.load(tokenizerModel);
        try {
            return new SentencePieceTokenizer(model, cfg);
        } catch (IllegalArgumentException e) {
            throw TokenizerException.of(tokenizerModel, e.getMessage(), e);
        } catch (RuntimeException e) {
            throw TokenizerException.of(tokenizerModel, "cannot be used (" + e + ")", e);
        }
    }

    /** The sentencepiece model as the file defines it (for plain sentencepiece encode/decode). */
    public SentencePieceModel model() {
        return raw;
    }

    public boolean legacy() {
        return legacy;
    }

    boolean cleansUpSpaces() {
        return cleanUp;
    }

    /** transformers' tokenize() then convert_tokens_to_ids(), as ids. */
    private void tokenize(String text, IntList out) {
        if (legacy || text.isEmpty()) {
            tokenizeChunks(text, out);
            return;
        }
        IntList tmp = new IntList();
        tokenizeChunks(SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " "), tmp);
        int from = 0;
        if (tmp.size() > 1 && SPIECE_UNDERLINE.equals(idToToken(tmp.get(0)))
                && allSpecialTokens.contains(idToToken(tmp.get(1)))) {
            from = 1;
        }
        for (int i = from; i < tmp.size(); i++) {
            out.add(tmp.get(i));
        }
    }

    /** PreTrainedTokenizer.tokenize: split on added tokens, apply their strip rules, encode the rest. */
    private void tokenizeChunks(String text, IntList out) {
        List<String> parts = new ArrayList<>();
        List<AddedToken> tokens = new ArrayList<>();
        matcher.splitPlain(text, (t, s) -> {
            parts.add(s);
            tokens.add(t);
        });
        for (int i = 0; i < parts.size(); i++) {
            AddedToken t = tokens.get(i);
            if (t == null) {
                continue;
            }
            String left = i > 0 ? parts.get(i - 1) : null;
            String right = i + 1 < parts.size() ? parts.get(i + 1) : null;
            if (t.rstrip() && right != null && !right.isEmpty()) {
                parts.set(i + 1, PythonStrings.lstrip(right));
            }
            if (t.lstrip() && left != null && !left.isEmpty()) {
                parts.set(i - 1, PythonStrings.rstrip(left));
            }
            left = i > 0 ? parts.get(i - 1) : null;
            right = i + 1 < parts.size() ? parts.get(i + 1) : null;
            if (t.singleWord() && left != null && !left.isEmpty() && !left.endsWith(" ")) {
                parts.set(i - 1, left + parts.get(i));
                parts.set(i, "");
                tokens.set(i, null);
            } else if (t.singleWord() && right != null && !right.isEmpty() && !right.startsWith(" ")) {
                parts.set(i, parts.get(i) + right);
                parts.set(i + 1, "");
                tokens.set(i, null);
            }
        }
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            if (p.isEmpty()) {
                continue;
            }
            AddedToken t = tokens.get(i);
            if (t != null && p.equals(t.content())) {
                out.add(t.id());
            } else {
                encodeChunk(p, out);
            }
        }
    }

    /** LlamaTokenizer._tokenize. */
    private void encodeChunk(String text, IntList out) {
        if (legacy || !(text.startsWith(SPIECE_UNDERLINE) || text.startsWith(" "))) {
            out.addAll(sp.encode(text));
            return;
        }
        int[] ids = sp.encode(unkToken + text);
        out.addAll(ids, ids.length >= unkTokenLength ? unkTokenLength : 0, ids.length);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList();
        if (addSpecialTokens && addBos) {
            out.add(special.bosId());
        }
        tokenize(text, out);
        if (addSpecialTokens && addEos) {
            out.add(special.eosId());
        }
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (skipSpecialTokens && allSpecialIds.contains(id)) {
                continue;
            }
            String t = idToToken(id);
            if (t == null) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary (size " + vocabSize + ")");
            }
            tokens.add(t);
        }
        List<String> subTexts = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (String t : tokens) {
            AddedToken a = addedByContent.get(t);
            boolean legacyAdded = a != null && !allSpecialTokens.contains(t);
            if (legacyAdded) {
                if (!current.isEmpty()) {
                    String s = tokensToString(current);
                    if (!s.isEmpty()) {
                        subTexts.add(s);
                    }
                    current = new ArrayList<>();
                }
                subTexts.add(t);
            } else {
                current.add(t);
            }
        }
        if (!current.isEmpty()) {
            subTexts.add(tokensToString(current));
        }
        String text = String.join(spacesBetweenSpecialTokens ? " " : "", subTexts);
        return cleanUp ? CleanUp.apply(text) : text;
    }

    /** LlamaTokenizer.convert_tokens_to_string (transformers 4.36). */
    private String tokensToString(List<String> tokens) {
        List<String> toks = new ArrayList<>(tokens);
        if (toks.get(0).startsWith(SPIECE_UNDERLINE)) {
            toks.set(0, toks.get(0).substring(1));
        }
        StringBuilder out = new StringBuilder();
        List<String> sub = new ArrayList<>();
        boolean prevSpecial = false;
        for (int i = 0; i < toks.size(); i++) {
            String t = toks.get(i);
            if (allSpecialTokens.contains(t)) {
                if (!prevSpecial && i != 0 && legacy) {
                    out.append(' ');
                }
                out.append(sp.decodePieces(sub)).append(t);
                prevSpecial = true;
                sub.clear();
            } else {
                sub.add(t);
                prevSpecial = false;
            }
        }
        out.append(sp.decodePieces(sub));
        return out.toString();
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int tokenToId(String token) {
        AddedToken a = addedByContent.get(token);
        if (a != null) {
            return a.id();
        }
        return raw.findPiece(token);
    }

    @Override
    public String idToToken(int id) {
        AddedToken a = addedById.get(id);
        return a != null ? a.content() : raw.idToPiece(id);
    }

    @Override
    public boolean isSpecial(int id) {
        return allSpecialIds.contains(id);
    }

    @Override
    public SpecialTokens specialTokens() {
        return special;
    }
}
