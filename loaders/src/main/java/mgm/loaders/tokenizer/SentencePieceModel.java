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
    private static final byte[] SPACE_BYTES = SPACE.getBytes(StandardCharsets.UTF_8);

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
    private final boolean treatWhitespaceAsSuffix;
    // normalizer spec
    private final PrecompiledCharsMap charsMap;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final ByteTrie userDefined = new ByteTrie();
    private final List<String> userDefinedStrings = new ArrayList<>();
    // merge table: (left symbol, right symbol) -> (score order << 32 | merged id); single chars outside
    // the vocabulary get synthetic negative symbol ids
    private final LongLongMap pairs;
    private final IntIntMap charSymbols;
    private final Map<Integer, Integer> syntheticToChar;

    private SentencePieceModel(ParsedProto p) {
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
                userDefined.add(pieces[i].getBytes(StandardCharsets.UTF_8));
                userDefinedStrings.add(pieces[i]);
            }
        }
        byteFallback = p.byteFallback;
        unkId = p.unkId;
        bosId = p.bosId;
        eosId = p.eosId;
        padId = p.padId;
        unkSurface = p.unkSurface;
        treatWhitespaceAsSuffix = p.treatWhitespaceAsSuffix;
        charsMap = p.charsMap == null || p.charsMap.length == 0 ? null : PrecompiledCharsMap.parse(p.charsMap);
        addDummyPrefix = p.addDummyPrefix;
        removeExtraWhitespaces = p.removeExtraWhitespaces;
        escapeWhitespaces = p.escapeWhitespaces;
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

    // ------------------------------------------------------------------ parsing

    private static final class ParsedProto {
        final List<String> pieces = new ArrayList<>();
        final List<Float> scores = new ArrayList<>();
        final List<Integer> types = new ArrayList<>();
        int modelType = 1; // UNIGRAM is the proto default
        boolean byteFallback;
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        int padId = -1;
        String unkSurface = " \u2047 ";
        boolean treatWhitespaceAsSuffix;
        byte[] charsMap;
        String normalizerName;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
        String source = "tokenizer.model";
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
        if (bytes.length == 0) {
            throw new IllegalArgumentException("the file is empty");
        }
        ParsedProto p = new ParsedProto();
        p.source = source;
        boolean sawTrainer = false;
        ProtoReader r = new ProtoReader(bytes, 0, bytes.length);
        while (r.hasMore()) {
            int tag = r.readTag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == ProtoReader.LEN) {
                readPiece(r.readMessage(), p);
            } else if (field == 2 && wire == ProtoReader.LEN) {
                readTrainerSpec(r.readMessage(), p);
                sawTrainer = true;
            } else if (field == 3 && wire == ProtoReader.LEN) {
                readNormalizerSpec(r.readMessage(), p);
            } else {
                r.skip(wire);
            }
        }
        if (p.pieces.isEmpty()) {
            throw new IllegalArgumentException("it has no pieces");
        }
        if (!sawTrainer) {
            throw new IllegalArgumentException("it has no trainer_spec (model type unknown)");
        }
        if (p.modelType != 2) {
            String name = switch (p.modelType) {
                case 1 -> "UNIGRAM";
                case 3 -> "WORD";
                case 4 -> "CHAR";
                default -> "type " + p.modelType;
            };
            throw new IllegalArgumentException("model type " + name + " is not supported (only BPE)");
        }
        if (p.normalizerName != null && !p.normalizerName.equals("identity") && (p.charsMap == null || p.charsMap.length == 0)
                && !p.normalizerName.isEmpty() && !p.normalizerName.equals("user_defined")) {
            throw new IllegalArgumentException("normalizer " + OnigRegex.quote(p.normalizerName)
                    + " has no precompiled_charsmap");
        }
        return new SentencePieceModel(p);
    }

    private static void readPiece(ProtoReader r, ParsedProto p) {
        String piece = null;
        float score = 0f;
        int type = NORMAL;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (tag) {
                case (1 << 3) | ProtoReader.LEN -> piece = r.readString();
                case (2 << 3) | ProtoReader.I32 -> score = Float.intBitsToFloat(r.readFixed32());
                case (3 << 3) | ProtoReader.VARINT -> type = (int) r.readVarint();
                default -> r.skip(tag & 7);
            }
        }
        if (piece == null) {
            throw new IllegalArgumentException("piece " + p.pieces.size() + " has no text");
        }
        p.pieces.add(piece);
        p.scores.add(score);
        p.types.add(type);
    }

    private static void readTrainerSpec(ProtoReader r, ParsedProto p) {
        while (r.hasMore()) {
            int tag = r.readTag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (wire == ProtoReader.VARINT) {
                long v = r.readVarint();
                switch (field) {
                    case 3 -> p.modelType = (int) v;
                    case 24 -> p.treatWhitespaceAsSuffix = v != 0;
                    case 35 -> p.byteFallback = v != 0;
                    case 40 -> p.unkId = (int) v;
                    case 41 -> p.bosId = (int) v;
                    case 42 -> p.eosId = (int) v;
                    case 43 -> p.padId = (int) v;
                    default -> { }
                }
            } else if (wire == ProtoReader.LEN && field == 44) {
                p.unkSurface = r.readString();
            } else {
                r.skip(wire);
            }
        }
    }

    private static void readNormalizerSpec(ProtoReader r, ParsedProto p) {
        while (r.hasMore()) {
            int tag = r.readTag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (wire == ProtoReader.VARINT) {
                boolean v = r.readVarint() != 0;
                switch (field) {
                    case 3 -> p.addDummyPrefix = v;
                    case 4 -> p.removeExtraWhitespaces = v;
                    case 5 -> p.escapeWhitespaces = v;
                    default -> { }
                }
            } else if (wire == ProtoReader.LEN && field == 1) {
                p.normalizerName = r.readString();
            } else if (wire == ProtoReader.LEN && field == 2) {
                p.charsMap = r.readBytes();
            } else {
                r.skip(wire);
            }
        }
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
        if (!addDummyPrefix) {
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
        treatWhitespaceAsSuffix = o.treatWhitespaceAsSuffix;
        charsMap = o.charsMap;
        this.addDummyPrefix = addDummyPrefix;
        removeExtraWhitespaces = o.removeExtraWhitespaces;
        escapeWhitespaces = o.escapeWhitespaces;
        for (String s : o.userDefinedStrings) {
            userDefined.add(s.getBytes(StandardCharsets.UTF_8));
        }
        userDefinedStrings.addAll(o.userDefinedStrings);
        pairs = o.pairs;
        // share the symbol tables (built once, read-only afterwards)
        charSymbols = o.charSymbols;
        syntheticToChar = o.syntheticToChar;
    }

    // ------------------------------------------------------------------ normalizer

    /** sentencepiece's Normalizer::Normalize. */
    String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
        int[] v = new int[1];
        int pos = 0;
        if (removeExtraWhitespaces) {
            while (pos < in.length) {
                byte[] rep = normalizePrefix(in, pos, v);
                if (!(rep.length == 1 && rep[0] == ' ')) {
                    break;
                }
                pos += v[0];
            }
        }
        if (pos >= in.length) {
            return "";
        }
        byte[] ws = escapeWhitespaces ? SPACE_BYTES : new byte[] {' '};
        if (!treatWhitespaceAsSuffix && addDummyPrefix) {
            out.writeBytes(ws);
        }
        boolean prevSpace = removeExtraWhitespaces;
        while (pos < in.length) {
            byte[] rep = normalizePrefix(in, pos, v);
            int s = 0;
            while (prevSpace && s < rep.length && rep[s] == ' ') {
                s++;
            }
            if (s < rep.length) {
                for (int k = s; k < rep.length; k++) {
                    if (escapeWhitespaces && rep[k] == ' ') {
                        out.writeBytes(SPACE_BYTES);
                    } else {
                        out.write(rep[k]);
                    }
                }
                prevSpace = rep[rep.length - 1] == ' ';
            }
            pos += v[0];
            if (!removeExtraWhitespaces) {
                prevSpace = false;
            }
        }
        byte[] result = out.toByteArray();
        int len = result.length;
        if (removeExtraWhitespaces) {
            while (len >= ws.length && endsWith(result, len, ws)) {
                len -= ws.length;
            }
        }
        String norm = new String(result, 0, len, StandardCharsets.UTF_8);
        if (treatWhitespaceAsSuffix && addDummyPrefix) {
            norm += new String(ws, StandardCharsets.UTF_8);
        }
        return norm;
    }

    private static boolean endsWith(byte[] a, int len, byte[] suffix) {
        for (int i = 0; i < suffix.length; i++) {
            if (a[len - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The replacement for the longest rule at {@code pos}; consumed byte count in {@code consumed[0]}. */
    private byte[] normalizePrefix(byte[] in, int pos, int[] consumed) {
        int ud = userDefined.longestMatch(in, pos);
        if (ud > 0) {
            consumed[0] = ud;
            return java.util.Arrays.copyOfRange(in, pos, pos + ud);
        }
        if (charsMap != null) {
            int[] value = new int[1];
            int m = charsMap.longestMatch(in, pos, in.length, value);
            if (m > 0) {
                consumed[0] = m;
                try {
                    return charsMap.replacement(value[0]);
                } catch (IllegalArgumentException e) {
                    throw new TokenizerException(source + ": corrupt precompiled_charsmap: " + e.getMessage(), e);
                }
            }
        }
        int n = Utf8.validCharLength(in, pos, in.length);
        if (n == 0) {
            consumed[0] = 1;
            return Utf8.REPLACEMENT.getBytes(StandardCharsets.UTF_8);
        }
        consumed[0] = n;
        return java.util.Arrays.copyOfRange(in, pos, pos + n);
    }

    // ------------------------------------------------------------------ encode

    /** sentencepiece's Encode of {@code text} (no BOS/EOS). */
    public int[] encode(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        encodeNormalized(normalize(text), out);
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
                int ud = userDefined.longestMatch(normBytes, bytePos);
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
        BinaryHeap heap = new BinaryHeap(n);
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

    private Map<Integer, long[]> maybeAdd(BinaryHeap heap, int[] sym, boolean[] frozen, int left, int right,
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

    /** sentencepiece's DecodeIds: control pieces vanish, unknowns show as the unk surface, bytes join into UTF-8. */
    public String decode(int[] ids) {
        StringBuilder text = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean isBosWs = true;
        boolean bosWsSeen = false;
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary (0.." + (pieces.length - 1) + ")");
            }
            if (types[id] == BYTE) {
                bytes.write(TokenDecoder.byteToken(pieces[id]));
                continue;
            }
            flush(bytes, text);
            if (bosWsSeen || text.length() > 0) {
                isBosWs = false;
            }
            String piece = pieces[id];
            if (types[id] == CONTROL) {
                bosWsSeen = false;
                continue;
            }
            if (id == unkId) {
                text.append(unkSurface);
                bosWsSeen = false;
                continue;
            }
            boolean has = false;
            if (isBosWs && (addDummyPrefix || removeExtraWhitespaces)) {
                if (piece.startsWith(SPACE)) {
                    piece = piece.substring(SPACE.length());
                    has = true;
                }
                if (removeExtraWhitespaces) {
                    has = false;
                }
            }
            bosWsSeen = has;
            text.append(piece.replace(SPACE, " "));
        }
        flush(bytes, text);
        return text.toString();
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
            if (isBosWs && (addDummyPrefix || removeExtraWhitespaces)) {
                if (piece.startsWith(SPACE)) {
                    piece = piece.substring(SPACE.length());
                    has = true;
                }
                if (removeExtraWhitespaces) {
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

    /** A binary min-heap of (long key, int value); pop leaves the removed entry just past the end. */
    private static final class BinaryHeap {
        private long[] keys;
        private int[] values;
        private int size;

        BinaryHeap(int cap) {
            keys = new long[Math.max(16, cap)];
            values = new int[keys.length];
        }

        int size() {
            return size;
        }

        void push(long key, int value) {
            if (size == keys.length) {
                keys = java.util.Arrays.copyOf(keys, size * 2);
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (keys[p] <= key) {
                    break;
                }
                keys[i] = keys[p];
                values[i] = values[p];
                i = p;
            }
            keys[i] = key;
            values[i] = value;
        }

        void pop() {
            long topK = keys[0];
            int topV = values[0];
            int n = --size;
            long k = keys[n];
            int v = values[n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) {
                    break;
                }
                if (c + 1 < n && keys[c + 1] < keys[c]) {
                    c++;
                }
                if (keys[c] >= k) {
                    break;
                }
                keys[i] = keys[c];
                values[i] = values[c];
                i = c;
            }
            keys[i] = k;
            values[i] = v;
            keys[n] = topK;
            values[n] = topV;
        }

        long lastKey() {
            return keys[size];
        }

        int lastValue() {
            return values[size];
        }
    }

    /** A trie over UTF-8 bytes for the user-defined symbols (matched whole, never normalized or split). */
    private static final class ByteTrie {
        private final Map<Integer, ByteTrie> children = new HashMap<>();
        private boolean terminal;

        void add(byte[] key) {
            ByteTrie t = this;
            for (byte b : key) {
                t = t.children.computeIfAbsent(b & 0xFF, x -> new ByteTrie());
            }
            t.terminal = true;
        }

        int longestMatch(byte[] in, int pos) {
            if (children.isEmpty()) {
                return 0;
            }
            ByteTrie t = this;
            int best = 0;
            for (int i = pos; i < in.length; i++) {
                t = t.children.get(in[i] & 0xFF);
                if (t == null) {
                    break;
                }
                if (t.terminal) {
                    best = i - pos + 1;
                }
            }
            return best;
        }
    }
}
