package mgm.model;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * Fetches named weights with the shapes a model expects and brings them to a backend: norms and
 * biases as F32, linear weights in their stored dtype or quantised to Q8_0/Q4_0. Tensors it creates
 * (conversions, quantised copies, uploads) are owned by it and released by {@link #close()};
 * memory-mapped tensors are never copied on a host backend.
 */
public final class WeightLoader implements AutoCloseable {
    /** The tensor name of an untied output projection (and of a quantised one in a saved checkpoint). */
    public static final String LM_HEAD = "lm_head.weight";

    /** {@link #packed} leaves tensors from this size on where they are. */
    private static final long PACK_MAX_BYTES = 32L << 20;
    /** Where {@link #packed} starts each tensor: the alignment of a fresh host allocation. */
    private static final long PACK_ALIGN = 64;

    /** Elements converted at a time when quantising, to bound the F32 scratch. */
    private static final long CHUNK_ELEMENTS = 1L << 22;

    private final Weights weights;
    private final Backend backend;
    private final WeightFormat format;
    /** Whether the output projection is quantised to Q8_0 ({@link #outputHead}); otherwise it stays as stored. */
    private final boolean lmHead8bit;
    private final List<Tensor> owned;
    /** Linear weights held quantised (quantised here, or already quantised on disk), by name. */
    private final Map<String, Tensor> quantized;

    public WeightLoader(Weights weights, Backend backend, WeightFormat format) {
        this(weights, backend, format, false);
    }

    /**
     * @param lmHead8bit quantise the output projection to Q8_0 ({@link #outputHead}) whatever the
     *                   format of the other linear weights
     */
    public WeightLoader(Weights weights, Backend backend, WeightFormat format, boolean lmHead8bit) {
        this(weights, backend, format, lmHead8bit, new ArrayList<>(), new LinkedHashMap<>());
    }

    private WeightLoader(Weights weights, Backend backend, WeightFormat format, boolean lmHead8bit, List<Tensor> owned,
                         Map<String, Tensor> quantized) {
        this.weights = weights;
        this.backend = backend;
        this.format = format;
        this.lmHead8bit = lmHead8bit;
        this.owned = owned;
        this.quantized = quantized;
    }

    /**
     * The same weights with linear layers kept as stored (MGM never quantises the vision towers or
     * the mining projectors); tensors it creates are released with this loader.
     */
    public WeightLoader stored() {
        return format == WeightFormat.STORED ? this
                : new WeightLoader(weights, backend, WeightFormat.STORED, false, owned, quantized);
    }

    public Backend backend() {
        return backend;
    }

    public boolean has(String name) {
        return weights.has(name);
    }

    /** A weight with exactly this shape (a negative size matches anything), as stored. */
    public Tensor raw(String name, long... shape) {
        Tensor t = weights.get(name);
        long[] have = t.shape();
        boolean ok = have.length == shape.length;
        for (int i = 0; ok && i < shape.length; i++) {
            ok = shape[i] < 0 || shape[i] == have[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(have)
                    + " but the config implies " + Arrays.toString(shape).replace("-1", "*"));
        }
        return t;
    }

    /** A norm weight, bias or other small vector, converted to F32 on the backend. */
    public Tensor vector(String name, long size) {
        return toF32(raw(name, size));
    }

    /** Any weight converted to F32 on the backend (small tensors: embeddings of towers, positions). */
    public Tensor f32(String name, long... shape) {
        return toF32(raw(name, shape));
    }

    /**
     * A linear weight [out, in], in the load format (quantised when asked and the row length allows)
     * and in the backend's matmul layout ({@link Backend#prepareLinear}: maybe K-tiled, so use it
     * only as a matmul weight).
     */
    public Tensor linear(String name, long out, long in) {
        Tensor t = linear(raw(name, out, in));
        if (t.dtype().isQuantized()) {
            quantized.put(name, t);
        }
        return t;
    }

    /** The load format. */
    public WeightFormat format() {
        return format;
    }

    /**
     * Every named linear weight this loader holds quantised, in load order (on the backend; valid
     * until {@link #close()}): what {@link QuantizedCheckpoint#save} writes instead of the stored tensors.
     */
    public Map<String, Tensor> quantized() {
        return Collections.unmodifiableMap(quantized);
    }

    /** A weight kept exactly as stored (embeddings, MoE routers — as bitsandbytes leaves them), on the backend. */
    public Tensor stored(String name, long... shape) {
        Tensor t = raw(name, shape);
        requireWeightType(name, t);
        return upload(t);
    }

    /**
     * The output projection {@code [vocab, hidden]} read from tensor {@code name} (lm_head.weight,
     * or the embedding table a tied head shares), for matmuls only. As stored (as bitsandbytes
     * leaves it), unless the loader was asked to quantise it and its rows divide into Q8_0 blocks:
     * then a Q8_0 copy in the matmul layout, listed in {@link #quantized()} as
     * {@code lm_head.weight} so that a saved checkpoint carries it (for a tied head too: the
     * embedding table itself stays as stored). A head already quantised on disk (a saved
     * checkpoint) is used in its dtype either way. Returns null for a tied head kept as stored:
     * the caller uses the embedding table itself.
     */
    public Tensor outputHead(String name, long vocab, long hidden) {
        Tensor t = raw(name, vocab, hidden);
        requireWeightType(name, t);
        boolean onDisk = t.dtype().isQuantized();
        if (!onDisk && !(lmHead8bit && t.dim(-1) % DType.Q8_0.blockSize() == 0)) {
            // as stored, and not in the matmul layout either (a K-tiled copy would double its memory)
            return name.equals(LM_HEAD) ? upload(t) : null;
        }
        Tensor head = linear(t, onDisk ? t.dtype() : DType.Q8_0);
        quantized.put(LM_HEAD, head);
        return head;
    }

    /** Brings an already-fetched linear weight into the load format and the backend's matmul layout. */
    public Tensor linear(Tensor w) {
        return linear(w, format.dtype());
    }

    /**
     * Brings {@code w} into dtype {@code q} (null: as stored; also as stored when its rows do not
     * divide into q's blocks) and the backend's matmul layout.
     */
    private Tensor linear(Tensor w, DType q) {
        requireWeightType("linear weight", w);
        if (q == null || w.dtype() == q || w.dim(-1) % q.blockSize() != 0) {
            return prepared(upload(w));
        }
        Tensor quantised = backend.allocate(q, w.shape());
        owned.add(quantised);
        convertChunked(w, quantised);
        dropMappedPages(w);
        return prepared(quantised);
    }

    /**
     * The backend's matmul layout of {@code t}. What it replaces is let go at once: an intermediate
     * of ours is closed; a weight mapped from the checkpoint has its pages dropped from this process
     * (they are re-read from the file if touched again), so that a model copied into K tiles does not
     * also keep its file resident (a 7B BF16 model peaked at 23.4 GB resident without this).
     */
    private Tensor prepared(Tensor t) {
        Tensor p = backend.prepareLinear(t);
        if (p != t) {
            owned.add(p);
            if (owned.remove(t)) {
                t.close();
            } else {
                dropMappedPages(t);
            }
        }
        return p;
    }

    /**
     * Drops the pages of a weight mapped from the checkpoint from this process once it has been
     * copied or quantised (re-read from the file if touched again): otherwise the whole stored
     * model stays resident beside its converted copy (a 7B BF16 model quantised to Q8_0 at load
     * peaked at 20.3 GB resident).
     */
    private static void dropMappedPages(Tensor t) {
        if (t.device().isHost() && t.segment().isMapped()) {
            t.segment().unload();
        }
    }

    /**
     * {@code tensors} with the host tensors this loader made among them (quantised or re-laid-out
     * copies, F32 vectors) moved side by side into one new allocation; returned in order, each the
     * given tensor or its moved copy, and the moved originals are closed (and replaced in
     * {@link #quantized()}). Why: host allocations get transparent huge pages for their whole 2 MiB
     * pages only, so a 6.5 MB matrix streams its last 0.5 MB through 4 KiB pages and a 0.3 MB one
     * all of it; one allocation per decoder layer leaves a single tail per layer. Tensors that are
     * mapped from the checkpoint, on a device, null, or of 32 MiB ({@link #PACK_MAX_BYTES}) and more
     * (at least 94% in huge pages already; moving them would only cost time) are returned as given.
     * Costs one copy of the moved bytes and, while it runs, their memory twice; when that memory
     * cannot be had, the tensors are returned as given.
     */
    public Tensor[] packed(Tensor... tensors) {
        Tensor[] result = tensors.clone();
        IdentityHashMap<Tensor, Long> offsets = new IdentityHashMap<>();
        long total = 0;
        for (Tensor t : tensors) {
            if (t != null && !offsets.containsKey(t) && movable(t)) {
                offsets.put(t, total);
                total += (t.byteSize() + PACK_ALIGN - 1) / PACK_ALIGN * PACK_ALIGN;
            }
        }
        if (offsets.size() < 2) {
            return result;
        }
        Tensor slab;
        try {
            slab = Tensor.allocate(DType.I8, total);
        } catch (OutOfMemoryError e) {
            return result;  // an optimisation only: without room for the copy, the tensors stay where they are
        }
        owned.add(slab);
        IdentityHashMap<Tensor, Tensor> moved = new IdentityHashMap<>();
        for (Map.Entry<Tensor, Long> e : offsets.entrySet()) {
            Tensor t = e.getKey();
            long at = e.getValue();
            MemorySegment.copy(t.segment(), 0, slab.segment(), at, t.byteSize());
            moved.put(t, Tensor.wrap(slab.storage(), at, t.dtype(), false, t.shape()));
        }
        for (int i = 0; i < result.length; i++) {
            if (result[i] != null && moved.containsKey(result[i])) {
                result[i] = moved.get(result[i]);
            }
        }
        quantized.replaceAll((name, t) -> moved.getOrDefault(t, t));
        owned.removeIf(moved::containsKey);
        moved.keySet().forEach(Tensor::close);
        return result;
    }

    /** Whether {@link #packed} moves {@code t}: a contiguous host tensor this loader made, below the size cap. */
    private boolean movable(Tensor t) {
        if (!t.device().isHost() || !t.ownsStorage() || !t.isContiguous() || t.byteSize() == 0
                || t.byteSize() >= PACK_MAX_BYTES) {
            return false;
        }
        for (Tensor o : owned) {
            if (o == t) {
                return true;
            }
        }
        return false;
    }

    /** Registers a tensor derived from weights (e.g. a transposed copy) so that {@link #close()} releases it. */
    public Tensor owned(Tensor t) {
        owned.add(t);
        return t;
    }

    /** Converts a host weight into {@code dst} a block of rows at a time (host-to-device copies are transfers). */
    private void convertChunked(Tensor src, Tensor dst) {
        long rows = src.dim(0);
        long cols = src.numel() / rows;
        long rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / cols);
        Tensor hostSrc = src.rank() == 2 ? src : src.reshape(rows, cols);
        Tensor target = dst.rank() == 2 ? dst : dst.reshape(rows, cols);
        if (src.dtype() == DType.F32) {
            for (long r = 0; r < rows; r += rowsPerChunk) {
                long end = Math.min(rows, r + rowsPerChunk);
                backend.copyRows(hostSrc.slice(0, r, end), target, r);
            }
            return;
        }
        try (Tensor scratch = backend.allocate(DType.F32, Math.min(rows, rowsPerChunk), cols)) {
            for (long r = 0; r < rows; r += rowsPerChunk) {
                long end = Math.min(rows, r + rowsPerChunk);
                Tensor part = scratch.slice(0, 0, end - r);
                backend.copy(hostSrc.slice(0, r, end), part);
                backend.copyRows(part, target, r);
            }
        }
    }

    private Tensor toF32(Tensor t) {
        if (t.dtype() == DType.F32) {
            return upload(t);
        }
        Tensor f = backend.allocate(DType.F32, t.shape());
        owned.add(f);
        backend.copy(t, f);
        return f;
    }

    private Tensor upload(Tensor t) {
        Tensor d = backend.toDevice(t);
        if (d != t) {
            owned.add(d);
        }
        return d;
    }

    private static void requireWeightType(String name, Tensor t) {
        if (!t.dtype().isWeightType()) {
            throw new IllegalArgumentException("tensor '" + name + "' has dtype " + t.dtype()
                    + "; weights must be F32, F16, BF16, Q8_0 or Q4_0");
        }
    }

    @Override
    public void close() {
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
        quantized.clear();
    }
}
