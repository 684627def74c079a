package mgm.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.DType;

/**
 * Attention of one query token against many cached keys (the decode step), split over the keys
 * instead of the heads: a work item is a run of consecutive key positions for every head, so a
 * thread streams whole cache rows ({@code [Hkv, Dh]} contiguous) in address order, where a split by
 * heads made each thread read a 512-byte piece of every 2 KB row (a 640-key TinyLlama step ran at 8
 * GB/s instead of the memory's ~30). Each item keeps its heads' partial softmax (max, sum of
 * exponentials, unnormalised value sum); the caller's thread then merges them rescaled to the
 * global max (as flash-decoding does). Rows are read once for up to four query heads of a GQA
 * group ({@link GroupRowKernels}); BF16 / F16 rows are widened in registers there (2x less work than
 * widening into a buffer), except for an item whose F16 rows hold an Inf / NaN, or a query beyond
 * 2^15: those take the exact path, which widens with {@link HalfRows} (key rows one at a time,
 * used while in L1, value rows once per item) and then reads the F32 rows. The kernels read the
 * caches and the widened rows at absolute addresses ({@link AbsoluteMemory}), the extents checked
 * once per call in {@link #set}.
 */
final class DecodeAttentionTask extends RangeTask {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /**
     * Fewer visible keys than this stay on {@link AttentionTask}. In decode the cache comes from
     * memory (the layer's weights streamed through since it was last read), and there this task
     * was faster from 16 keys on: F16 16/4 heads of 128, two threads, medians of 20 alternating
     * rounds: 16 / 32 / 48 / 64 / 100 / 127 keys 12 / 14 / 17 / 24 / 34 / 39 us against 27 / 24 / 52
     * / 53 / 65 / 91; 32/32 heads (MHA) 16 / 64 / 100 keys 33 / 71 / 129 against 44 / 139 / 231; 8
     * keys 19 against 9. (The bound was 128: a TinyLlama decode after a 64-token prompt spent 145-184
     * us per layer in attention, 51-70 us now.)
     */
    static final int MIN_KEYS = 16;
    /** Keys per work item at least (smaller items cost more in merging than they gain in balance). */
    static final int MIN_CHUNK = 32;

    /** Per thread: the item's scores, one padded row per query head. */
    private final float[][][] scores;
    /** Per thread: the item's key, then value rows widened to F32 (BF16 / F16 caches), off heap like the F32 cache rows. */
    private final MemorySegment[] rowBuf;
    private float[] query = new float[0];
    /** The query in {@link GroupRowKernels}' order, times 2^112 for an F16 cache. */
    private float[] queryArranged = new float[0];
    /** Per thread: the GroupRowKernels' record of F16 exponents seen, one call's dot products (up to two keys of four heads), and a block of scratch. */
    private final int[][] seen;
    private final float[][] dots;
    private final float[][] block;
    /** Whether this call takes {@link #attendHalfChunk} (BF16 / F16 K and V, a query that survives the 2^112 scaling). */
    private boolean halfRows;
    /** Where {@link #touchRows} leaves its sum, so that its reads are not optimised away. */
    @SuppressWarnings("unused")
    private int sink;
    /** Per item and head: the score max, the sum of exp(score - max), and the value sum weighted by those exponentials. */
    private float[] partMax = new float[0];
    private float[] partSum = new float[0];
    private float[] partOut = new float[0];
    /** While merging one head: each item's exp(max - global max). */
    private float[] itemWeight = new float[0];

    private MemorySegment k, v;
    private long kb, vb, kS, kH, vS, vH;
    /** Absolute addresses ({@link AbsoluteMemory}) of byte kb of k and vb of v, their extents checked in {@link #set}. */
    private long kAt, vAt;
    /** Per thread: the absolute address of rowBuf. */
    private final long[] rowBufAt;
    private DType kType, vType;
    private int hq, hkv, group, dh, keys, chunk, chunks;
    private float scale;

    DecodeAttentionTask(int threads) {
        scores = new float[threads][0][];
        rowBuf = new MemorySegment[threads];
        rowBufAt = new long[threads];
        seen = ThreadScratch.ints(threads, GroupRowKernels.L);
        dots = ThreadScratch.floats(threads, 8);
        block = ThreadScratch.floats(threads, GroupRowKernels.BLOCK);
    }

    /**
     * Sets up one query token (heads at element stride qH from byte qb) against keys 0 .. keys-1;
     * returns the item count. Segments are whole storages; strides in elements.
     */
    int set(MemorySegment q, long qb, long qH, MemorySegment k, long kb, long kS, long kH, DType kType, MemorySegment v, long vb,
            long vS, long vH, DType vType, int hq, int hkv, int dh, int keys, int capacity, float scale, int threads) {
        this.k = k;
        this.kb = kb;
        this.kS = kS;
        this.kH = kH;
        this.kType = kType;
        this.v = v;
        this.vb = vb;
        this.vS = vS;
        this.vH = vH;
        this.vType = vType;
        this.hq = hq;
        this.hkv = hkv;
        this.group = hq / hkv;
        this.dh = dh;
        this.keys = keys;
        this.scale = scale;
        // the kernels read the caches at absolute addresses: the rows the call may touch, checked once
        kAt = AbsoluteMemory.address(k, kb, kType.byteSize((keys - 1) * kS + (hkv - 1) * kH + dh));
        vAt = AbsoluteMemory.address(v, vb, vType.byteSize((keys - 1) * vS + (hkv - 1) * vH + dh));
        long keyRowBytes = kType.byteSize((long) hkv * dh);
        this.chunk = itemKeys(keys, threads, keyRowBytes);
        this.chunks = (keys + chunk - 1) / chunk;
        if (query.length < hq * dh) {
            query = new float[hq * dh];
        }
        for (int h = 0; h < hq; h++) {
            MemorySegment.copy(q, FL, qb + 4L * h * qH, query, h * dh, dh);
        }
        halfRows = kType != DType.F32 && vType != DType.F32;
        if (halfRows) {
            if (queryArranged.length < hq * dh) {
                queryArranged = new float[hq * dh];
            }
            float factor = kType == DType.F16 ? GroupRowKernels.F16_SCALE : 1f;
            for (int h = 0; h < hq; h++) {
                VecMath.evenOdd(query, queryArranged, h * dh, dh, factor);
            }
            // |q| < 2^15 keeps q * 2^112 finite; larger (rare) queries take the exact path
            halfRows = kType != DType.F16 || !VecMath.anyMagnitudeAtLeast(query, hq * dh, 0x1p15f);
        }
        // room for the most items a call makes (the item count grows with the keys up to that)
        int most = Math.max(chunks, 4 * threads);
        if (partMax.length < chunks * hq) {
            partMax = new float[most * hq];
            partSum = new float[most * hq];
        }
        if (itemWeight.length < chunks) {
            itemWeight = new float[most];
        }
        if (partOut.length < chunks * hq * dh) {
            partOut = new float[most * hq * dh];
        }
        // scratch for the longest item a call on this cache can make, so that it is made once, not as
        // the cache fills (see ensureRowBuffer)
        int longest = Math.max(chunk, longestItem(capacity, threads, keyRowBytes));
        for (int w = 0; w < scores.length; w++) {
            if (scores[w].length < hq || scores[w][0].length < VecMath.padded(chunk)) {
                scores[w] = ThreadScratch.floats(hq, VecMath.padded(longest));
            }
            if ((kType != DType.F32 || vType != DType.F32) && (rowBuf[w] == null || rowBuf[w].byteSize() < 4L * chunk * hkv * dh)) {
                ensureRowBuffer(w, 4L * longest * hkv * dh);
            }
        }
        return split(chunks, 1);
    }

    void release() {
        k = v = null;
    }

    @Override
    void range(long from, long to, int worker) {
        for (int c = (int) from; c < to; c++) {
            attendChunk(c, worker);
        }
    }

    /**
     * Keys of item c: scores for every head, their partial softmax, the weighted value sums. Scores
     * go key by key (every head of a row, then the next row: the rows are read in address order),
     * value sums by kv head with the accumulators in registers (the item's rows are streamed into
     * L2 first). Measured on 640 F32 keys, 16 / 4 heads of 128: head by head for the scores too was
     * 20-30% slower from memory, key by key for the value sums (accumulators in memory) 15-60%;
     * reading each row once for the four heads of its group instead of once per head: 1 thread
     * 288 -> 209 us with the cache in L3, 353 -> 322 us from memory (2 threads 118 -> 111 / same).
     */
    private void attendChunk(int c, int worker) {
        if (halfRows && attendHalfChunk(c, worker)) {
            return;
        }
        int j0 = c * chunk;
        int n = Math.min(keys, j0 + chunk) - j0;
        float[][] sc = scores[worker];
        MemorySegment buf = rowBuf[worker];
        // where key row j0 + jj starts: base + jj * rowStride, its heads headStride apart (absolute address, F32)
        long base = kType == DType.F32 ? kAt + 4L * j0 * kS : rowBufAt[worker];
        long rowStride = kType == DType.F32 ? 4L * kS : 0;
        long headStride = kType == DType.F32 ? 4L * kH : 4L * dh;
        for (int jj = 0; jj < n; jj++) {
            if (kType != DType.F32) {
                // one key row at a time, used while in L1 (the whole item first: 8% slower on F16)
                widenRows(k, kType, kb, kS, kH, j0 + jj, 1, buf);
            }
            long row = base + jj * rowStride;
            float[] d = dots[worker];
            for (int hk = 0; hk < hkv; hk++) {
                for (int h0 = hk * group; h0 < (hk + 1) * group; h0 += 4) {
                    int nh = Math.min(4, (hk + 1) * group - h0);
                    GroupRowKernels.dotsF32(row + hk * headStride, query, h0 * dh, dh, nh, d);
                    for (int t = 0; t < nh; t++) {
                        sc[h0 + t][jj] = scale * d[t];
                    }
                }
            }
        }
        partialSoftmax(c, sc, n, 1f);
        if (vType == DType.F32) {
            sink += touchRows(vAt, vType, vS, vH, j0, n);  // as in attendHalfChunk (BF16 / F16 rows stream in through widenRows)
        }
        if (vType != DType.F32) {
            widenRows(v, vType, vb, vS, vH, j0, n, buf);
        }
        base = vType == DType.F32 ? vAt + 4L * j0 * vS : rowBufAt[worker];
        rowStride = vType == DType.F32 ? 4L * vS : 4L * hkv * dh;
        headStride = vType == DType.F32 ? 4L * vH : 4L * dh;
        for (int hk = 0; hk < hkv; hk++) {
            for (int h0 = hk * group; h0 < (hk + 1) * group; h0 += 4) {
                int nh = Math.min(4, (hk + 1) * group - h0);
                GroupRowKernels.weightedSumsF32(sc, h0, nh, n, base + hk * headStride, rowStride, dh, partOut, (c * hq + h0) * dh);
            }
        }
    }

    /**
     * Key bytes per work item (its rows of every kv head) that {@link #itemKeys} aims at: an item's
     * key and value rows are streamed into L2 ({@link #touchRows}) and read from there, so together
     * they should fit in half of a 1 MB L2; and each item costs a fixed amount besides (streams
     * started, a softmax and value-sum passes per head, a share of the merge), so items should not be
     * smaller than that. Items had been a quarter of a thread's keys whatever their size (32-key
     * items at 256 keys). F16 cache, two threads, medians of 2000 calls in 8 rounds alternating in
     * one JVM, caches taken in turn so that they come from memory (Zen 5 host): TinyLlama's 16 / 4
     * heads of 128 at 128 / 256 / 400 / 640 / 1024 keys 0.73 / 0.72 / 0.71 / 0.97 / 0.97 of the
     * time; LLaMA-3's 32 / 8 at 256 / 400 keys 0.73 / 0.87; one thread, 256 / 640 keys 0.80 / 0.94;
     * unchanged where a thread's keys exceed four such items (MHA rows of 8 KB, 1536+ GQA keys).
     * Items of 512 KB were worse there (2048 keys: 1.06; LLaMA-3 at 1024: 1.06).
     */
    static final long ITEM_KEY_BYTES = 320 * 1024;
    /** Items per thread at most: below that, a slow thread holds the others back longer. */
    static final int MAX_ITEMS_PER_THREAD = 4;

    /**
     * Keys per work item of a call over {@code keys} keys of {@code keyRowBytes} bytes each (every
     * kv head): as many items per thread as {@link #ITEM_KEY_BYTES} asks, from one up to
     * {@link #MAX_ITEMS_PER_THREAD}, of at least MIN_CHUNK keys (rounding the size up may leave
     * fewer items).
     */
    static int itemKeys(int keys, int threads, long keyRowBytes) {
        long perThread = Math.ceilDiv(keys * keyRowBytes, threads);
        long itemsPerThread = Math.clamp(Math.ceilDiv(perThread, ITEM_KEY_BYTES), 1, MAX_ITEMS_PER_THREAD);
        int wanted = (int) Math.max(1, Math.min(itemsPerThread * threads, keys / MIN_CHUNK));
        return (keys + wanted - 1) / wanted;
    }

    /**
     * The most keys an item ({@link #itemKeys}) holds in a call over at most {@code capacity} keys:
     * below 2 MIN_CHUNK keys a call is one item; above, items of {@link #ITEM_KEY_BYTES} at most
     * until a thread has {@link #MAX_ITEMS_PER_THREAD} of them, then a growing share of the keys.
     */
    static int longestItem(int capacity, int threads, long keyRowBytes) {
        long bytesBound = Math.ceilDiv(ITEM_KEY_BYTES, keyRowBytes);
        long shareBound = Math.ceilDiv(capacity, (long) MAX_ITEMS_PER_THREAD * threads);
        return (int) Math.min(capacity, Math.max(2 * MIN_CHUNK - 1, Math.max(bytesBound, shareBound)));
    }

    /**
     * Worker w's buffer for widened rows (BF16 / F16 rows that {@link #attendChunk} widens: a cache
     * of F32 beside halves, or one of {@link #attendHalfChunk}'s rare exceptions, known only while an
     * item runs), {@code bytes} long. {@link #set} asks for room for the longest item its cache allows:
     * made at each call's item size, the buffer had been allocated and cleared anew whenever the
     * item grew (at every step of a 7B decode below 64 keys, up to 1 MB per thread); grown twofold
     * instead, it made set's growth branch so rare that C2 compiled it as a trap, and the decode
     * step that took it deoptimised set (the vector helpers compiled into it then ran in the
     * interpreter and C1 for the next few hundred calls, allocating ~20 KB per call).
     */
    private void ensureRowBuffer(int w, long bytes) {
        rowBuf[w] = Arena.ofAuto().allocate(bytes, 64);
        rowBufAt[w] = AbsoluteMemory.address(rowBuf[w], 0, bytes);
    }

    /**
     * {@link #attendChunk} for BF16 / F16 caches with {@link GroupRowKernels}: each row of a kv head is
     * widened in registers once for up to four query heads of its group, nothing goes through a
     * buffer. Returns false, leaving the item to the exact path, when an F16 row holds an Inf / NaN.
     */
    private boolean attendHalfChunk(int c, int worker) {
        int j0 = c * chunk;
        int n = Math.min(keys, j0 + chunk) - j0;
        float[][] sc = scores[worker];
        int[] saw = seen[worker];
        float[] d = dots[worker];
        java.util.Arrays.fill(saw, 0);
        boolean kBf16 = kType == DType.BF16, vBf16 = vType == DType.BF16;
        sink += touchRows(kAt, kType, kS, kH, j0, n);  // as the value rows below (see touchRows)
        if (group == 1) {
            // MHA: no two query heads share a row, so two keys of two heads go in one call over F16 rows (four
            // independent FMA chains), two keys of one head over BF16 ones; an odd last key is read as both keys
            // (next = 0), a lone last head as both heads
            for (int jj = 0; jj < n; jj += 2) {
                boolean pair = jj + 1 < n;
                long next = pair ? 2L * kS : 0;
                for (int hk = 0; hk < hkv; hk += kBf16 ? 1 : 2) {
                    long o = kAt + 2L * ((j0 + jj) * kS + hk * kH);
                    int nh = kBf16 ? 1 : Math.min(2, hkv - hk);
                    if (kBf16) {
                        GroupRowKernels.dotsKeyPair(o, next, true, query, queryArranged, hk * dh, dh, 1, d, saw);
                    } else {
                        GroupRowKernels.dotsKeyPairHeadPair(o, next, nh > 1 ? 2L * kH : 0, query, queryArranged, hk * dh, nh > 1 ? dh : 0,
                                dh, nh, d, saw);
                    }
                    for (int t = 0; t < nh; t++) {
                        sc[hk + t][jj] = scale * d[t];
                        if (pair) {
                            sc[hk + t][jj + 1] = scale * d[4 + t];
                        }
                    }
                }
            }
        } else {
            // keys in pairs (two rows per call: see dotsKeyPair); an odd last key is read as both rows (next = 0)
            for (int jj = 0; jj < n; jj += 2) {
                boolean pair = jj + 1 < n;
                for (int hk = 0; hk < hkv; hk++) {
                    long o = kAt + 2L * ((j0 + jj) * kS + hk * kH);
                    for (int h0 = hk * group; h0 < (hk + 1) * group; h0 += 4) {
                        int nh = Math.min(4, (hk + 1) * group - h0);
                        GroupRowKernels.dotsKeyPair(o, pair ? 2L * kS : 0, kBf16, query, queryArranged, h0 * dh, dh, nh, d, saw);
                        for (int t = 0; t < nh; t++) {
                            sc[h0 + t][jj] = scale * d[t];
                            if (pair) {
                                sc[h0 + t][jj + 1] = scale * d[4 + t];
                            }
                        }
                    }
                }
            }
        }
        partialSoftmax(c, sc, n, vBf16 ? 1f : GroupRowKernels.F16_SCALE);  // F16 rows: the weights carry 2^112
        sink += touchRows(vAt, vType, vS, vH, j0, n);
        if (group == 1 && !vBf16) {
            for (int hk = 0; hk < hkv; hk += 2) {  // MHA over F16 rows: two heads per pass, each its own rows
                long o = vAt + 2L * (j0 * vS + hk * vH);
                int nh = Math.min(2, hkv - hk);
                GroupRowKernels.weightedSumsHeadPair(sc, hk, nh, n, o, nh > 1 ? 2L * vH : 0, 2L * vS, dh, partOut, (c * hq + hk) * dh,
                        saw, block[worker]);
            }
        } else {
            for (int hk = 0; hk < hkv; hk++) {
                long o = vAt + 2L * (j0 * vS + hk * vH);
                for (int h0 = hk * group; h0 < (hk + 1) * group; h0 += 4) {
                    int nh = Math.min(4, (hk + 1) * group - h0);
                    GroupRowKernels.weightedSums(sc, h0, nh, n, o, 2L * vS, vBf16, dh, partOut, (c * hq + h0) * dh, saw, block[worker]);
                }
            }
        }
        return kBf16 && vBf16 || !GroupRowKernels.sawSpecial(saw);
    }

    /**
     * Item c's partial softmax of each head's n scores (rows of sc): the max and the sum of
     * exp(score - max) into partMax / partSum, the exponentials (times weightFactor) left in sc as
     * the weights of the value sums.
     */
    private void partialSoftmax(int c, float[][] sc, int n, float weightFactor) {
        for (int h = 0; h < hq; h++) {
            float max = VecMath.max(sc[h], n);
            partMax[c * hq + h] = max;
            partSum[c * hq + h] = VecMath.expSum(sc[h], n, max);
            if (weightFactor != 1f) {
                VecMath.scale(sc[h], n, weightFactor);
            }
        }
    }

    /**
     * Reads one byte per cache line of rows j0 .. j0 + n - 1 (every head) of a cache, in address
     * order, before an item's pass over them. The value sums go head by head and 2L elements at a
     * time, each pass reading one line of every row at the row stride, which from memory waited on
     * the lines one pass after another; streamed in first, the rows are in L2 for those passes
     * (640-key F16 step from memory, same JVM, alternating rounds: 1 thread 200 -> 171 us, 2
     * threads 149-169 -> 135-167 us; an F32 cache: 1 thread 282 -> 257 us, 2 threads unchanged at
     * 136 us). The BF16 / F16 key rows likewise: the scores read them in address order, but two
     * rows at a time ({@link GroupRowKernels#dotsKeyPair}), and from memory that pass ran slower
     * than the one-row form until the rows were streamed in first (64 caches of 640 F16 keys, 16 / 4
     * heads of 128, taken in turn: whole call with both changes against neither, medians of 1000
     * calls in 8 alternating rounds: 2 threads 110-139 -> 97-131 us, better in 8 of 8 rounds, 1 thread
     * 175-242 -> 153-213 us, 7 of 8; BF16 cache 7 of 8, 0.88; MHA 32 / 32 heads, with the key rows
     * streamed in and read as before, 7 of 8, 0.89; an F32 cache gained nothing, so its rows are
     * read as they are). The reads go to absolute addresses ({@link AbsoluteMemory}) as the kernels'
     * do: through the cache's segment each carried a bounds check (256 / 640 keys, Zen 5 host,
     * alternating rounds: 0.97-0.98 of the call's time from memory, 1.00 with the cache in L2).
     */
    private int touchRows(long at, DType type, long rowStride, long headStride, int j0, int n) {
        MemorySegment all = AbsoluteMemory.ALL;  // at: kAt or vAt, the rows' extent checked in set
        int sum = 0;
        long elt = type.byteSize(1);
        for (int j = j0; j < j0 + n; j++) {
            for (int hk = 0; hk < hkv; hk++) {
                long o = at + elt * (j * rowStride + hk * headStride);
                for (long b = 0; b < elt * dh; b += 64) {
                    sum += all.get(ValueLayout.JAVA_BYTE, o + b);
                }
            }
        }
        return sum;
    }

    /** Rows j0 .. j0 + n - 1 of a BF16 / F16 cache (every head) widened to F32 into buf, packed [n][Hkv][Dh]; returns buf. */
    private MemorySegment widenRows(MemorySegment seg, DType type, long base, long rowStride, long headStride, int j0, int n,
                                    MemorySegment buf) {
        for (int jj = 0; jj < n; jj++) {
            for (int hk = 0; hk < hkv; hk++) {
                HalfRows.widen(seg, type, base + 2L * ((j0 + jj) * rowStride + hk * headStride), dh, buf, 4L * (jj * hkv + hk) * dh);
            }
        }
        return buf;
    }

    /**
     * The items' partial softmaxes merged per head, written to out (heads at element stride oH from
     * byte ob): {@code sum_c o_c e^(m_c - M) / sum_c l_c e^(m_c - M)} with M the largest item max.
     * Runs on the caller's thread after the items.
     */
    void merge(MemorySegment out, long ob, long oH) {
        for (int h = 0; h < hq; h++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < chunks; c++) {
                max = Math.max(max, partMax[c * hq + h]);
            }
            float total = 0f;
            for (int c = 0; c < chunks; c++) {
                itemWeight[c] = (float) Math.exp(partMax[c * hq + h] - max);
                total += partSum[c * hq + h] * itemWeight[c];
            }
            float inv = 1f / total;
            long o = ob + 4L * h * oH;
            int i = 0;
            for (; i + L <= dh; i += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int c = 0; c < chunks; c++) {
                    acc = FloatVector.fromArray(F, partOut, (c * hq + h) * dh + i).fma(FloatVector.broadcast(F, itemWeight[c]), acc);
                }
                acc.lanewise(VectorOperators.MUL, FloatVector.broadcast(F, inv)).intoMemorySegment(out, o + 4L * i, LE);
            }
            for (; i < dh; i++) {
                float acc = 0f;
                for (int c = 0; c < chunks; c++) {
                    acc = Math.fma(partOut[(c * hq + h) * dh + i], itemWeight[c], acc);
                }
                out.set(FL, o + 4L * i, acc * inv);
            }
        }
    }
}
