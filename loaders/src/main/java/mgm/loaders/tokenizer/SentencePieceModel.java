package mgm.loaders.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece {@code tokenizer.model} (ModelProto) of the BPE type, parsed from the protobuf
 * wire format, encoding and decoding exactly as the sentencepiece library does: the normalizer
 * (precompiled rules, dummy prefix, whitespace handling), then merges of adjacent symbols by the
 * highest piece score (leftmost on ties), then byte fallback or unk for what is not in the vocabulary.
 */
public final class SentencePieceModel {
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    private static final String SPACE = "\u2581";
    /** A character that is neither a piece nor part of one: it can never merge. */
    private static final int NO_SYMBOL = -1;

    private final String source;
    private final String[] pieces;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> normalPieces = new HashMap<>(); // NORMAL, USER_DEFINED, UNUSED
    private final Map<String, Integer> reservedPieces = new HashMap<>(); // CONTROL, UNKNOWN, BYTE
    private final int[] byteIds = new int[256];
    private final boolean byteFallback;
    private final int unkId;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final String unkSurface;
    // normalizer spec
    private final SentencePieceNormalizer normalizer;
    private final List<String> userDefinedStrings = new ArrayList<>();
    // merge table: (left symbol, right symbol) -> (score order << 32 | merged id); single chars outside
    // the vocabulary get synthetic negative symbol ids
    private final LongLongMap pairs;
    private final IntIntMap charSymbols;
    private final Map<Integer, Integer> syntheticToChar;

    private SentencePieceModel(SentencePieceProto p) {
        charSymbols = new IntIntMap(1024);
        syntheticToChar = new HashMap<>();
        source = p.source;
        int n = p.pieces.size();
        pieces = p.pieces.toArray(new String[0]);
        scores = new float[n];
        types = new int[n];
        java.util.Arrays.fill(byteIds, -1);
        for (int i = 0; i < n; i++) {
            scores[i] = p.scores.get(i);
            types[i] = p.types.get(i);
            switch (types[i]) {
                case NORMAL, USER_DEFINED, UNUSED -> normalPieces.putIfAbsent(pieces[i], i);
                case CONTROL, UNKNOWN -> reservedPieces.putIfAbsent(pieces[i], i);
                case BYTE -> {
                    reservedPieces.putIfAbsent(pieces[i], i);
                    int b = TokenDecoder.byteToken(pieces[i]);
                    if (b < 0) {
                        throw new IllegalArgumentException("byte piece " + i + " " + OnigRegex.quote(pieces[i])
                                + " is not of the form <0xXX>");
                    }
                    byteIds[b] = i;
                }
                default -> throw new IllegalArgumentException("piece " + i + " has unknown type " + types[i]);
            }
            if (types[i] == USER_DEFINED) {
                userDefinedStrings.add(pieces[i]);
            }
        }
        byteFallback = p.byteFallback;
        unkId = p.unkId;
        bosId = p.bosId;
        eosId = p.eosId;
        padId = p.padId;
        unkSurface = p.unkSurface;
        normalizer = new SentencePieceNormalizer(source,
                p.charsMap == null || p.charsMap.length == 0 ? null : PrecompiledCharsMap.parse(p.charsMap),
                userDefinedStrings, p.addDummyPrefix, p.removeExtraWhitespaces, p.escapeWhitespaces,
                p.treatWhitespaceAsSuffix);
        if (unkId < 0 || unkId >= n || types[unkId] != UNKNOWN) {
            throw new IllegalArgumentException("unk_id " + unkId + " is not a piece of type UNKNOWN");
        }
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) {
                    throw new IllegalArgumentException(String.format("byte_fallback is on but piece <0x%02X> is missing", b));
                }
            }
        }
        pairs = buildPairs();
        for (int id = 0; id < n; id++) {
            String piece = pieces[id];
            if ((types[id] == NORMAL || types[id] == USER_DEFINED || types[id] == UNUSED)
                    && piece.codePointCount(0, piece.length()) == 1) {
                charSymbol(piece.codePointAt(0));
            }
        }
    }

    private int symbolOf(String s) {
        Integer id = normalPieces.get(s);
        if (id != null) {
            return id;
        }
        if (s.codePointCount(0, s.length()) == 1) {
            return charSymbol(s.codePointAt(0));
        }
        return Integer.MIN_VALUE;
    }

    /** Registers (at construction only) the symbol of a character: its piece id, or a synthetic negative id. */
    private int charSymbol(int cp) {
        int sym = charSymbols.get(cp);
        if (sym != -1) {
            return sym;
        }
        Integer id = normalPieces.get(new String(Character.toChars(cp)));
        if (id != null) {
            charSymbols.put(cp, id);
            return id;
        }
        if (sym == -1) {
            sym = -2 - syntheticToChar.size();
            charSymbols.put(cp, sym);
            syntheticToChar.put(sym, cp);
        }
        return sym;
    }

    /** Symbol of one input character at encode time (read-only: the tables are complete after construction). */
    private int encodeSymbol(int cp) {
        int id = charSymbols.get(cp);
        return id == -1 ? NO_SYMBOL : id;
    }

    /** Every way to build each piece from two symbols, keyed by the pair. */
    private LongLongMap buildPairs() {
        LongLongMap m = new LongLongMap(pieces.length * 4);
        for (int id = 0; id < pieces.length; id++) {
            if (types[id] != NORMAL && types[id] != USER_DEFINED && types[id] != UNUSED) {
                continue;
            }
            String p = pieces[id];
            if (normalPieces.get(p) != id) {
                continue;
            }
            long order = scoreOrder(scores[id]);
            for (int k = p.offsetByCodePoints(0, 1); k < p.length(); k = p.offsetByCodePoints(k, 1)) {
                int l = symbolOf(p.substring(0, k));
                int r = symbolOf(p.substring(k));
                if (l == Integer.MIN_VALUE || r == Integer.MIN_VALUE) {
                    continue;
                }
                m.putIfAbsent(BpeModel.pairKey(l, r), (order << 32) | id);
            }
        }
        return m;
    }

    /** Maps a score to a non-negative 32-bit order where a higher score sorts first. */
    private static long scoreOrder(float score) {
        int bits = Float.floatToIntBits(score);
        int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return 0x7FFFFFFFL - sortable; // in [0, 2^32)
    }

    /** Reads and validates a tokenizer.model file. */
    public static SentencePieceModel load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw TokenizerException.of(file, "does not exist");
        } catch (IOException e) {
            throw TokenizerException.of(file, "cannot be read: " + e.getMessage(), e);
        }
        try {
            return parse(bytes, file.toString());
        } catch (IllegalArgumentException e) {
            throw TokenizerException.of(file, "not a usable SentencePiece model: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw TokenizerException.of(file, "not a usable SentencePiece model (" + e + ")", e);
        }
    }

    static SentencePieceModel parse(byte[] bytes, String source) {
        return new SentencePieceModel(SentencePieceProto.parse(bytes, source));
    }

    // ------------------------------------------------------------------ accessors

    public int size() {
        return pieces.length;
    }

    public String idToPiece(int id) {
        return id >= 0 && id < pieces.length ? pieces[id] : null;
    }

    /** Id of a piece (any type), or the unk id, as sentencepiece's PieceToId. */
    public int pieceToId(String piece) {
        Integer id = normalPieces.get(piece);
        if (id == null) {
            id = reservedPieces.get(piece);
        }
        return id == null ? unkId : id;
    }

    /** Id of a piece, or -1 when the model has no such piece. */
    int findPiece(String piece) {
        Integer id = normalPieces.get(piece);
        if (id == null) {
            id = reservedPieces.get(piece);
        }
        return id == null ? -1 : id;
    }

    public float score(int id) {
        return scores[id];
    }

    public boolean isControl(int id) {
        return id >= 0 && id < types.length && types[id] == CONTROL;
    }

    public boolean isUnknown(int id) {
        return id == unkId;
    }

    public boolean isByte(int id) {
        return id >= 0 && id < types.length && types[id] == BYTE;
    }

    public int unkId() {
        return unkId;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    /** This model with add_dummy_prefix forced off (what transformers does for legacy=false). */
    SentencePieceModel withoutDummyPrefix() {
        if (!normalizer.addDummyPrefix) {
            return this;
        }
        return new SentencePieceModel(this, false);
    }

    private SentencePieceModel(SentencePieceModel o, boolean addDummyPrefix) {
        source = o.source;
        pieces = o.pieces;
        scores = o.scores;
        types = o.types;
        normalPieces.putAll(o.normalPieces);
        reservedPieces.putAll(o.reservedPieces);
        System.arraycopy(o.byteIds, 0, byteIds, 0, 256);
        byteFallback = o.byteFallback;
        unkId = o.unkId;
        bosId = o.bosId;
        eosId = o.eosId;
        padId = o.padId;
        unkSurface = o.unkSurface;
        normalizer = o.normalizer.withAddDummyPrefix(addDummyPrefix);
        userDefinedStrings.addAll(o.userDefinedStrings);
        pairs = o.pairs;
        // share the symbol tables (built once, read-only afterwards)
        charSymbols = o.charSymbols;
        syntheticToChar = o.syntheticToChar;
    }

    // ------------------------------------------------------------------ normalizer

    // ------------------------------------------------------------------ encode

    /** sentencepiece's Encode of {@code text} (no BOS/EOS). */
    public int[] encode(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        encodeNormalized(normalizer.normalize(text), out);
        return out.toArray();
    }

    void encodeNormalized(String norm, IntList out) {
        if (norm.isEmpty()) {
            return;
        }
        int cap = norm.length() + 1;
        int[] sym = new int[cap];
        int[] start = new int[cap];
        int[] end = new int[cap];
        int[] prev = new int[cap];
        int[] next = new int[cap];
        boolean[] frozen = new boolean[cap];
        int n = 0;
        byte[] normBytes = userDefinedStrings.isEmpty() ? null : norm.getBytes(StandardCharsets.UTF_8);
        int bytePos = 0;
        int i = 0;
        while (i < norm.length()) {
            int len;
            boolean freeze = false;
            if (normBytes != null) {
                int ud = normalizer.userDefinedMatch(normBytes, bytePos);
                if (ud > 0) {
                    String matched = new String(normBytes, bytePos, ud, StandardCharsets.UTF_8);
                    len = matched.length();
                    freeze = true;
                    bytePos += ud;
                } else {
                    int cp = norm.codePointAt(i);
                    len = Character.charCount(cp);
                    bytePos += new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
                }
            } else {
                len = Character.charCount(norm.codePointAt(i));
            }
            sym[n] = freeze ? normalPieces.get(norm.substring(i, i + len)) : encodeSymbol(norm.codePointAt(i));
            start[n] = i;
            end[n] = i + len;
            frozen[n] = freeze;
            prev[n] = n - 1;
            next[n] = -1;
            if (n > 0) {
                next[n - 1] = n;
            }
            n++;
            i += len;
        }
        // agenda: key = score order << 31 | left; value = merged id
        LongIntHeap heap = new LongIntHeap(n);
        Map<Integer, long[]> revMerge = null;
        for (int k = 0; k + 1 < n; k++) {
            revMerge = maybeAdd(heap, sym, frozen, k, k + 1, revMerge);
        }
        while (heap.size() > 0) {
            heap.pop();
            long key = heap.lastKey();
            int merged = heap.lastValue();
            int left = (int) (key & 0x7FFFFFFF);
            int right = next[left];
            if (sym[left] == Integer.MIN_VALUE || right < 0 || sym[right] == Integer.MIN_VALUE) {
                continue;
            }
            long m = pairs.get(BpeModel.pairKey(sym[left], sym[right]));
            if (m == LongLongMap.MISSING || (int) m != merged || frozen[left] || frozen[right]) {
                continue;
            }
            sym[left] = merged;
            end[left] = end[right];
            sym[right] = Integer.MIN_VALUE;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                revMerge = maybeAdd(heap, sym, frozen, prev[left], left, revMerge);
            }
            if (next[left] >= 0) {
                revMerge = maybeAdd(heap, sym, frozen, left, next[left], revMerge);
            }
        }
        int first = out.size();
        for (int k = 0; k != -1; k = next[k]) {
            emitSymbol(sym[k], norm.substring(start[k], end[k]), revMerge, out, first);
        }
    }

    private Map<Integer, long[]> maybeAdd(LongIntHeap heap, int[] sym, boolean[] frozen, int left, int right,
                                          Map<Integer, long[]> revMerge) {
        if (frozen[left] || frozen[right]) {
            return revMerge;
        }
        long m = pairs.get(BpeModel.pairKey(sym[left], sym[right]));
        if (m == LongLongMap.MISSING) {
            return revMerge;
        }
        int merged = (int) m;
        heap.push(((m >>> 32) << 31) | left, merged);
        if (types[merged] == UNUSED) {
            if (revMerge == null) {
                revMerge = new HashMap<>();
            }
            revMerge.put(merged, new long[] {sym[left], sym[right]});
        }
        return revMerge;
    }

    /** Resegments unused pieces, then maps a final symbol to ids (byte fallback or fused unk). */
    private void emitSymbol(int symbol, String text, Map<Integer, long[]> revMerge, IntList out, int first) {
        if (symbol >= 0 && types[symbol] == UNUSED && revMerge != null && revMerge.containsKey(symbol)) {
            long[] lr = revMerge.get(symbol);
            String l = symbolText((int) lr[0]);
            emitSymbol((int) lr[0], l, revMerge, out, first);
            emitSymbol((int) lr[1], text.substring(l.length()), revMerge, out, first);
            return;
        }
        int id = symbol >= 0 ? symbol : pieceToId(text);
        if (id != unkId) {
            out.add(id);
            return;
        }
        if (byteFallback) {
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                out.add(byteIds[b & 0xFF]);
            }
            return;
        }
        // consecutive unknowns collapse into one
        if (out.size() > first && out.get(out.size() - 1) == unkId) {
            return;
        }
        out.add(unkId);
    }

    private String symbolText(int symbol) {
        if (symbol >= 0) {
            return pieces[symbol];
        }
        return new String(Character.toChars(syntheticToChar.get(symbol)));
    }

    // ------------------------------------------------------------------ decode

    /**
     * sentencepiece's DecodeIds (which decodes the ids' pieces): control pieces vanish, unknowns show
     * as the unk surface, runs of byte pieces become UTF-8 text.
     */
    public String decode(int[] ids) {
        List<String> ps = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary (0.." + (pieces.length - 1) + ")");
            }
            ps.add(pieces[id]);
        }
        return decodePieces(ps);
    }

    /**
     * sentencepiece's DecodePieces: like {@link #decode} but on piece strings; a string that is not a
     * piece decodes as itself (it maps to the unk id, whose piece differs).
     */
    String decodePieces(List<String> ps) {
        StringBuilder text = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean isBosWs = true;
        boolean bosWsSeen = false;
        for (String piece : ps) {
            int id = pieceToId(piece);
            if (types[id] == BYTE) {
                bytes.write(TokenDecoder.byteToken(pieces[id]));
                continue;
            }
            flush(bytes, text);
            if (bosWsSeen || text.length() > 0) {
                isBosWs = false;
            }
            if (types[id] == CONTROL) {
                bosWsSeen = false;
                continue;
            }
            if (id == unkId) {
                text.append(pieces[unkId].equals(piece) ? unkSurface : piece);
                bosWsSeen = false;
                continue;
            }
            boolean has = false;
            if (isBosWs && (normalizer.addDummyPrefix || normalizer.removeExtraWhitespaces)) {
                if (piece.startsWith(SPACE)) {
                    piece = piece.substring(SPACE.length());
                    has = true;
                }
                if (normalizer.removeExtraWhitespaces) {
                    has = false;
                }
            }
            bosWsSeen = has;
            text.append(piece.replace(SPACE, " "));
        }
        flush(bytes, text);
        return text.toString();
    }

    private static void flush(ByteArrayOutputStream bytes, StringBuilder text) {
        if (bytes.size() > 0) {
            byte[] b = bytes.toByteArray();
            text.append(Utf8.decodePerByte(b, 0, b.length));
            bytes.reset();
        }
    }
}
