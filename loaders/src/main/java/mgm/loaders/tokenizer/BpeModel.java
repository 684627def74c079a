package mgm.loaders.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * tokenizers' BPE model: a word becomes one symbol per character (byte-fallback or unk when the
 * character is not in the vocabulary), then adjacent pairs are merged lowest merge rank first,
 * leftmost on ties, until no pair has a merge. The merge loop is a binary heap over a linked list
 * of symbols, O(n log n) in the word length, so one huge "word" (SentencePiece-style files with no
 * pre-tokenizer treat the whole text as one) stays fast.
 */
final class BpeModel {
    /** Words at most this long are cached (like the reference's MAX_LENGTH). */
    private static final int CACHE_MAX_WORD = 256;
    private static final int CACHE_CAPACITY = 10_000;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final LongLongMap merges; // (left << 32 | right) -> (rank << 32 | merged id)
    private final IntIntMap charIds;  // code point -> id of the one-char token
    private final int[] byteIds;      // byte -> id of "<0xXX>", or -1
    private final boolean allBytes;
    private final int unkId;
    private final String unkToken;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final String prefix;
    private final String suffix;
    /** Words may be cut before a '▁' that follows a non-'▁' char: no merge result spans such a boundary. */
    private final boolean splitAtMetaspace;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    BpeModel(Map<String, Integer> vocab, String[][] mergePairs, String unkToken, boolean fuseUnk,
             boolean byteFallback, boolean ignoreMerges, String continuingSubwordPrefix, String endOfWordSuffix) {
        this.vocab = vocab;
        int maxId = -1;
        for (int id : vocab.values()) {
            if (id < 0) {
                throw new IllegalArgumentException("vocab has a negative id " + id);
            }
            maxId = Math.max(maxId, id);
        }
        if (maxId >= 4L * vocab.size() + 1024) {
            throw new IllegalArgumentException("vocab ids are not dense: " + vocab.size() + " tokens but the largest id is " + maxId);
        }
        idToToken = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
        }
        this.prefix = continuingSubwordPrefix;
        this.suffix = endOfWordSuffix;
        merges = new LongLongMap(mergePairs.length);
        boolean metaspaceSafe = true;
        for (int rank = 0; rank < mergePairs.length; rank++) {
            String a = mergePairs[rank][0];
            String b = mergePairs[rank][1];
            Integer ia = vocab.get(a);
            Integer ib = vocab.get(b);
            String merged = a + (prefix != null && b.startsWith(prefix) ? b.substring(prefix.length()) : b);
            Integer im = vocab.get(merged);
            if (ia == null || ib == null || im == null) {
                String missing = ia == null ? a : ib == null ? b : merged;
                throw new IllegalArgumentException("merge " + (rank + 1) + " (" + OnigRegex.quote(a) + " "
                        + OnigRegex.quote(b) + ") uses " + OnigRegex.quote(missing) + ", which is not in the vocab");
            }
            merges.putIfAbsent(pairKey(ia, ib), ((long) rank << 32) | im);
            if (metaspaceSafe && hasWordThenMetaspace(merged)) {
                metaspaceSafe = false;
            }
        }
        charIds = new IntIntMap(1024);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String t = e.getKey();
            if (!t.isEmpty() && t.codePointCount(0, t.length()) == 1) {
                charIds.put(t.codePointAt(0), e.getValue());
            }
        }
        byteIds = new int[256];
        boolean all = true;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", b));
            byteIds[b] = id == null ? -1 : id;
            all &= id != null;
        }
        allBytes = all;
        this.unkToken = unkToken;
        Integer u = unkToken == null ? null : vocab.get(unkToken);
        this.unkId = u == null ? -1 : u;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.splitAtMetaspace = metaspaceSafe && !ignoreMerges && prefix == null && suffix == null;
    }

    private static boolean hasWordThenMetaspace(String t) {
        for (int i = t.indexOf('\u2581', 1); i > 0; i = t.indexOf('\u2581', i + 1)) {
            if (t.charAt(i - 1) != '\u2581') {
                return true;
            }
        }
        return false;
    }

    static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    int tokenToId(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    String idToToken(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    int size() {
        return idToToken.length;
    }

    /** Appends the ids of one pre-tokenized word. */
    void tokenize(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                out.add(id);
                return;
            }
        }
        if (splitAtMetaspace && word.length() > 1) {
            int start = 0;
            for (int i = 1; i < word.length(); i++) {
                if (word.charAt(i) == '\u2581' && word.charAt(i - 1) != '\u2581') {
                    tokenizeCached(word.substring(start, i), out);
                    start = i;
                }
            }
            tokenizeCached(start == 0 ? word : word.substring(start), out);
            return;
        }
        tokenizeCached(word, out);
    }

    private void tokenizeCached(String word, IntList out) {
        if (word.length() > CACHE_MAX_WORD) {
            mergeWord(word, out);
            return;
        }
        int[] hit = cache.get(word);
        if (hit != null) {
            out.addAll(hit);
            return;
        }
        int before = out.size();
        mergeWord(word, out);
        if (cache.size() >= CACHE_CAPACITY) {
            cache.clear();
        }
        int[] ids = new int[out.size() - before];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = out.get(before + i);
        }
        cache.put(word, ids);
    }

    /** Per-thread working arrays so the merge loop allocates nothing in the steady state. */
    private static final class Scratch {
        int[] sym = new int[256];
        int[] prev = new int[256];
        int[] next = new int[256];
        long[] heapKey = new long[256];
        int[] heapVal = new int[256];
        int heapSize;

        void ensure(int n) {
            if (sym.length < n) {
                int cap = Math.max(n, sym.length * 2);
                sym = java.util.Arrays.copyOf(sym, cap);
                prev = new int[cap];
                next = new int[cap];
            }
        }

        void push(long key, int val) {
            if (heapSize == heapKey.length) {
                heapKey = java.util.Arrays.copyOf(heapKey, heapSize * 2);
                heapVal = java.util.Arrays.copyOf(heapVal, heapSize * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (heapKey[p] <= key) {
                    break;
                }
                heapKey[i] = heapKey[p];
                heapVal[i] = heapVal[p];
                i = p;
            }
            heapKey[i] = key;
            heapVal[i] = val;
        }

        /** Removes the minimum; its key and value are left in slot heapSize. */
        void pop() {
            long topKey = heapKey[0];
            int topVal = heapVal[0];
            int n = --heapSize;
            long key = heapKey[n];
            int val = heapVal[n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) {
                    break;
                }
                if (c + 1 < n && heapKey[c + 1] < heapKey[c]) {
                    c++;
                }
                if (heapKey[c] >= key) {
                    break;
                }
                heapKey[i] = heapKey[c];
                heapVal[i] = heapVal[c];
                i = c;
            }
            heapKey[i] = key;
            heapVal[i] = val;
            heapKey[n] = topKey;
            heapVal[n] = topVal;
        }
    }

    private void mergeWord(String w, IntList out) {
        Scratch s = SCRATCH.get();
        s.ensure(w.length() * 4 + 4);
        int n = 0;
        int pendingUnk = -1; // count of pending unk symbols is 0/1 (the reference fuses or flushes)
        int len = w.length();
        int i = 0;
        while (i < len) {
            int cp = w.codePointAt(i);
            int cpEnd = i + Character.charCount(cp);
            boolean first = i == 0;
            boolean last = cpEnd == len;
            int id;
            String str = null;
            if ((prefix == null || first) && (suffix == null || !last)) {
                id = charIds.get(cp);
            } else {
                str = (prefix != null && !first ? prefix : "") + w.substring(i, cpEnd)
                        + (suffix != null && last ? suffix : "");
                Integer v = vocab.get(str);
                id = v == null ? -1 : v;
            }
            if (id >= 0) {
                if (pendingUnk >= 0) {
                    s.sym[n++] = pendingUnk;
                    pendingUnk = -1;
                }
                s.sym[n++] = id;
            } else {
                boolean done = false;
                if (byteFallback) {
                    byte[] bytes = (str != null ? str : w.substring(i, cpEnd)).getBytes(StandardCharsets.UTF_8);
                    boolean ok = allBytes;
                    if (!ok) {
                        ok = true;
                        for (byte b : bytes) {
                            ok &= byteIds[b & 0xFF] >= 0;
                        }
                    }
                    if (ok) {
                        s.ensure(n + bytes.length + 2);
                        for (byte b : bytes) {
                            s.sym[n++] = byteIds[b & 0xFF];
                        }
                        done = true;
                    }
                }
                if (!done && unkToken != null) {
                    if (unkId < 0) {
                        throw new IllegalStateException("the unk token " + OnigRegex.quote(unkToken) + " is not in the vocab");
                    }
                    if (pendingUnk >= 0 && !fuseUnk) {
                        s.sym[n++] = pendingUnk;
                    }
                    pendingUnk = unkId;
                }
            }
            i = cpEnd;
        }
        if (pendingUnk >= 0) {
            s.sym[n++] = pendingUnk;
        }
        if (n == 0) {
            return;
        }
        mergeAll(s, n);
        for (int p = 0; p != -1; p = s.next[p]) {
            out.add(s.sym[p]);
        }
    }

    private void mergeAll(Scratch s, int n) {
        int[] sym = s.sym;
        int[] prev = s.prev;
        int[] next = s.next;
        s.heapSize = 0;
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        for (int i = 0; i + 1 < n; i++) {
            long m = merges.get(pairKey(sym[i], sym[i + 1]));
            if (m != LongLongMap.MISSING) {
                s.push((m & 0xFFFFFFFF00000000L) | i, (int) m);
            }
        }
        while (s.heapSize > 0) {
            s.pop();
            long key = s.heapKey[s.heapSize];
            int newId = s.heapVal[s.heapSize];
            int pos = (int) key;
            int nx = next[pos];
            if (sym[pos] < 0 || nx < 0) {
                continue;
            }
            long m = merges.get(pairKey(sym[pos], sym[nx]));
            if (m == LongLongMap.MISSING || (int) m != newId) {
                continue; // stale entry
            }
            sym[pos] = newId;
            sym[nx] = -1;
            int nn = next[nx];
            next[pos] = nn;
            if (nn >= 0) {
                prev[nn] = pos;
            }
            int pv = prev[pos];
            if (pv >= 0) {
                long mp = merges.get(pairKey(sym[pv], newId));
                if (mp != LongLongMap.MISSING) {
                    s.push((mp & 0xFFFFFFFF00000000L) | pv, (int) mp);
                }
            }
            if (nn >= 0) {
                long mn = merges.get(pairKey(newId, sym[nn]));
                if (mn != LongLongMap.MISSING) {
                    s.push((mn & 0xFFFFFFFF00000000L) | pos, (int) mn);
                }
            }
        }
    }

    /**
     * Builds the model from the "model" object of a tokenizer.json; {@code vocabIn}/{@code mergesIn},
     * when not null, are the already-parsed vocab and merges (the streaming reader leaves them out of the tree).
     */
    static BpeModel fromJson(com.fasterxml.jackson.databind.JsonNode model, Map<String, Integer> vocabIn,
                             String[][] mergesIn) {
        String type = Json.optText(model, "type");
        if (type != null && !type.equals("BPE")) {
            throw new IllegalArgumentException("model type " + OnigRegex.quote(type)
                    + " is not supported (only BPE: the LLaMA, Mistral, Yi, Gemma and LLaMA-3 families)");
        }
        if (type == null && mergesIn == null && !model.has("merges")) {
            throw new IllegalArgumentException("model has no \"type\" and no \"merges\"; only BPE is supported");
        }
        com.fasterxml.jackson.databind.JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
            throw new IllegalArgumentException("BPE dropout " + dropout + " is not supported (inference uses none)");
        }
        Map<String, Integer> vocab = vocabIn;
        if (vocab == null) {
            com.fasterxml.jackson.databind.JsonNode v = Json.object(model, "vocab");
            vocab = new HashMap<>(v.size() * 2);
            var it = v.properties().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (!e.getValue().canConvertToInt()) {
                    throw new IllegalArgumentException("vocab entry " + OnigRegex.quote(e.getKey()) + " has a non-integer id");
                }
                vocab.put(e.getKey(), e.getValue().asInt());
            }
        }
        String[][] pairs = mergesIn;
        if (pairs == null) {
            com.fasterxml.jackson.databind.JsonNode m = Json.array(model, "merges");
            pairs = new String[m.size()][];
            for (int i = 0; i < m.size(); i++) {
                com.fasterxml.jackson.databind.JsonNode e = m.get(i);
                if (e.isTextual()) {
                    String line = e.asText();
                    int sp = line.indexOf(' ');
                    if (sp < 0 || line.indexOf(' ', sp + 1) >= 0) {
                        throw new IllegalArgumentException("merge " + (i + 1) + " " + OnigRegex.quote(line)
                                + " is not two tokens separated by one space");
                    }
                    pairs[i] = new String[] {line.substring(0, sp), line.substring(sp + 1)};
                } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()) {
                    pairs[i] = new String[] {e.get(0).asText(), e.get(1).asText()};
                } else {
                    throw new IllegalArgumentException("merge " + (i + 1) + " is neither \"a b\" nor [\"a\", \"b\"]");
                }
            }
        }
        return new BpeModel(vocab, pairs, Json.optText(model, "unk_token"), Json.bool(model, "fuse_unk", false),
                Json.bool(model, "byte_fallback", false), Json.bool(model, "ignore_merges", false),
                Json.optText(model, "continuing_subword_prefix"), Json.optText(model, "end_of_word_suffix"));
    }
}
