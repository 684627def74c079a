package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * The decoder forward pass shared by the LLaMA family, Gemma and Mixtral:
 *
 * <pre>
 *   h = x + o_proj(attention(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1)))    n1 = RMSNorm_in(x)
 *   x = h + FFN(RMSNorm_post(h))          FFN = down(act(gate(n)) * up(n))  or a top-k mixture of them
 *   logits = lm_head(RMSNorm_final(x))
 * </pre>
 *
 * Prompts run in chunks of up to {@code maxChunk} tokens as GEMMs; each generated token runs as
 * GEMVs through preallocated one-row views, so the decode step allocates nothing. One decoder
 * serves one thread at a time; each sequence keeps its own {@link KvCache}.
 */
public final class Decoder implements AutoCloseable {
    /** Profiling marks ({@link Backend#phase}, {@link Backend#layer}): free on an unprofiled backend. */
    public static final String PREFILL = "prefill", DECODE = "decode", LAYER = "decoder";

    private final LlmConfig config;
    private final DecoderWeights weights;
    private final Backend backend;
    private final RopeFrequencies ropeFrequencies;
    private final int maxChunk;
    private final float attentionScale;
    /** Gemma scales every input embedding by sqrt(hidden), rounded to the activation dtype as HF does. */
    private final float embeddingScale;
    /** Gemma's RMSNorm multiplies by (1 + w): its weights are stored as offsets around 0. */
    private final float normWeightOffset;
    private final Scratch scratch;
    private final Rows oneRow;
    private final MixtureOfExperts moe;
    /**
     * How decode steps are issued: as one CUDA graph on a device (recorded once, then updated and
     * replayed). Mixtral reads its expert choice back to the host mid-step, so it runs op by op.
     */
    private Backend.RepeatedStep decodeStep;
    /** The ops of one decode step, on {@link #stepCache} (fields, so that a step allocates nothing). */
    private final Runnable decodeOps = this::decodeOps;
    private KvCache stepCache;

    /**
     * Per layer, the weights that read the same normed rows, for {@link Backend#matmuls}: q / k / v
     * (with their biases, or null where the family has none), gate / up (dense layers) or each
     * expert's gate / up (Mixtral layers).
     */
    private final Tensor[][] qkv;
    private final Tensor[][] qkvBiases;
    private final Tensor[][] gateUp;
    private final Tensor[][][] expertGateUp;

    /** Frequencies on the backend and the sequence length they were computed for (dynamic NTK). */
    private final Tensor invFreq;
    private float[] invFreqHost;

    public Decoder(LlmConfig config, DecoderWeights weights, Backend backend, int maxChunk) {
        if (maxChunk < 1) {
            throw new IllegalArgumentException("maxChunk " + maxChunk + " must be >= 1");
        }
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.maxChunk = maxChunk;
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
        this.embeddingScale = config.family() == LlmConfig.Family.GEMMA
                ? HfRounding.toActivationDtype(config, (float) Math.sqrt(config.hiddenSize())) : 1f;
        this.normWeightOffset = config.family() == LlmConfig.Family.GEMMA ? 1f : 0f;
        this.ropeFrequencies = new RopeFrequencies(config);
        this.scratch = new Scratch(backend, config, maxChunk);
        this.oneRow = scratch.rows(1);
        this.moe = config.isMoe() ? new MixtureOfExperts(backend, config, maxChunk) : null;
        this.decodeStep = moe == null ? backend.repeatedStep() : Backend.RepeatedStep.DIRECT;
        int layers = weights.layers().length;
        this.qkv = new Tensor[layers][];
        this.qkvBiases = new Tensor[layers][];
        this.gateUp = new Tensor[layers][];
        this.expertGateUp = new Tensor[layers][][];
        for (int i = 0; i < layers; i++) {
            LayerWeights w = weights.layers()[i];
            qkv[i] = new Tensor[] {w.wq(), w.wk(), w.wv()};
            boolean biased = w.bq() != null || w.bk() != null || w.bv() != null;
            qkvBiases[i] = biased ? new Tensor[] {w.bq(), w.bk(), w.bv()} : null;
            if (moe == null) {
                gateUp[i] = new Tensor[] {w.wGate(), w.wUp()};
            } else {
                expertGateUp[i] = new Tensor[w.expertGate().length][];
                for (int e = 0; e < w.expertGate().length; e++) {
                    expertGateUp[i][e] = new Tensor[] {w.expertGate()[e], w.expertUp()[e]};
                }
            }
        }
        this.invFreqHost = ropeFrequencies.forLength(0);
        this.invFreq = backend.allocate(DType.F32, config.headDim() / 2);
        try (Tensor host = hostF32(invFreqHost)) {
            backend.copy(host, invFreq);
        }
    }

    public LlmConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    public DecoderWeights weights() {
        return weights;
    }

    /** A new sequence with room for {@code maxLength} positions, keys/values stored as {@code kvDtype}. */
    public KvCache newCache(int maxLength, DType kvDtype) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("context length " + maxLength + " must be >= 1");
        }
        return new KvCache(backend, config, maxLength, kvDtype);
    }

    /** Bytes of scratch this decoder allocates (activations for one chunk), for memory estimates. */
    public static long scratchBytes(LlmConfig c, int maxChunk) {
        return Scratch.bytes(c, maxChunk) + (c.isMoe() ? MixtureOfExperts.bytes(c, maxChunk) : 0);
    }

    /** Receives logits {@code [rows, vocab]} for consecutive positions starting at {@code firstPosition}. */
    public interface LogitsSink {
        void accept(Tensor logits, int firstPosition);
    }

    /**
     * Runs token ids through the decoder, appending them to {@code cache}. Returns the last
     * position's logits {@code [1, vocab]} (a buffer reused by the next call); {@code everyPosition},
     * when not null, receives the logits of every position.
     */
    public Tensor prefill(KvCache cache, int[] ids, LogitsSink everyPosition) {
        checkRoom(cache, ids.length);
        for (int id : ids) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        Tensor last = null;
        try (Backend.Scope _ = backend.phase(PREFILL)) {
            for (int start = 0; start < ids.length; start += maxChunk) {
                int t = Math.min(maxChunk, ids.length - start);
                Rows r = t == 1 ? oneRow : scratch.rows(t);
                int[] part = java.util.Arrays.copyOfRange(ids, start, start + t);
                try (Tensor hostIds = Tensor.ofInts(part)) {
                    if (backend.device().isHost()) {
                        backend.embedding(weights.embedTokens(), hostIds, r.x);
                    } else {
                        try (Tensor deviceIds = backend.toDevice(hostIds)) {
                            backend.embedding(weights.embedTokens(), deviceIds, r.x);
                        }
                    }
                }
                updateFrequencies(cache.length() + t);
                last = runChunk(cache, r, everyPosition);
            }
        }
        return last;
    }

    /**
     * Runs input embeddings {@code [T, hidden]} (F32, on this backend; text embeddings with image
     * features spliced in) through the decoder, appending to {@code cache}. Gemma's sqrt(hidden)
     * scale is applied here, to every row, as HF does for {@code inputs_embeds}.
     */
    public Tensor prefill(KvCache cache, Tensor embeddings, LogitsSink everyPosition) {
        if (embeddings.rank() != 2 || embeddings.dim(1) != config.hiddenSize()) {
            throw new IllegalArgumentException("input embeddings " + embeddings.describe() + " must be [T, "
                    + config.hiddenSize() + "]");
        }
        int total = (int) embeddings.dim(0);
        checkRoom(cache, total);
        Tensor last = null;
        try (Backend.Scope _ = backend.phase(PREFILL)) {
            for (int start = 0; start < total; start += maxChunk) {
                int t = Math.min(maxChunk, total - start);
                Rows r = t == 1 ? oneRow : scratch.rows(t);
                backend.copy(embeddings.slice(0, start, start + t), r.x);
                updateFrequencies(cache.length() + t);
                last = runChunk(cache, r, everyPosition);
            }
        }
        return last;
    }

    /** One generated token: returns its logits {@code [1, vocab]} (a reused buffer). Allocates nothing. */
    public Tensor decode(KvCache cache, int token) {
        checkRoom(cache, 1);
        if (token < 0 || token >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + config.vocabSize() + ")");
        }
        try (Backend.Scope _ = backend.phase(DECODE)) {
            // Host-to-device work first: a recorded step may not contain it.
            scratch.setToken(token);
            updateFrequencies(cache.length() + 1);
            stepCache = cache;
            int before = cache.length();
            try {
                decodeStep.run(decodeOps);
            } catch (IllegalArgumentException e) {
                throw e;  // bad input fails the same way with or without a graph
            } catch (RuntimeException e) {
                if (decodeStep == Backend.RepeatedStep.DIRECT) {
                    throw e;
                }
                // A device that cannot record or update the step as a graph still decodes, kernel by
                // kernel: nothing of the step ran (recording does not execute), so undo its host-side
                // bookkeeping and run it directly from now on.
                System.getLogger(Decoder.class.getName()).log(System.Logger.Level.WARNING,
                        "decode step could not run as a graph on " + backend.name() + " (" + e.getMessage()
                                + "); decoding kernel by kernel");
                decodeStep.close();
                decodeStep = Backend.RepeatedStep.DIRECT;
                cache.truncate(before);
                decodeStep.run(decodeOps);
            } finally {
                stepCache = null;
            }
            return scratch.lastLogits;
        }
    }

    private void decodeOps() {
        backend.embedding(weights.embedTokens(), scratch.tokenId, oneRow.x);
        runChunk(stepCache, oneRow, null);
    }

    /** Embeds ids without running the decoder (for splicing image features between text). Unscaled. */
    public void embed(Tensor ids, Tensor out) {
        backend.embedding(weights.embedTokens(), ids, out);
    }

    private void checkRoom(KvCache cache, int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("nothing to run: 0 tokens");
        }
        if (cache.length() + tokens > cache.maxLength()) {
            throw new IllegalArgumentException("the sequence would be " + (cache.length() + tokens) + " tokens ("
                    + cache.length() + " in context + " + tokens + " new) but the context length is " + cache.maxLength());
        }
    }

    private Tensor runChunk(KvCache cache, Rows r, LogitsSink everyPosition) {
        int start = cache.length();
        if (embeddingScale != 1f) {
            backend.scale(r.x, embeddingScale, r.x);
        }
        for (int layer = 0; layer < config.numLayers(); layer++) {
            try (Backend.Scope _ = backend.layer(LAYER, layer)) {
                runLayer(layer, cache, r, start);
            }
        }
        cache.advance(r.tokens);
        float eps = (float) config.rmsNormEps();
        float offset = normWeightOffset;
        if (everyPosition != null) {
            backend.rmsNorm(r.x, weights.finalNorm(), eps, offset, r.normed);
            for (int row = 0; row < r.tokens; row += scratch.logitRows) {
                int n = Math.min(scratch.logitRows, r.tokens - row);
                Tensor logits = scratch.logits.slice(0, 0, n);
                backend.matmul(r.normed.slice(0, row, row + n), weights.lmHead(), null, logits);
                everyPosition.accept(logits, start + row);
            }
        } else {
            backend.rmsNorm(r.lastX, weights.finalNorm(), eps, offset, r.lastNormed);
        }
        backend.matmul(r.lastNormed, weights.lmHead(), null, scratch.lastLogits);
        return scratch.lastLogits;
    }

    private void runLayer(int layer, KvCache cache, Rows r, int start) {
        LayerWeights w = weights.layers()[layer];
        float eps = (float) config.rmsNormEps();
        float offset = normWeightOffset;

        backend.rmsNorm(r.x, w.attnNorm(), eps, offset, r.normed);
        backend.matmuls(r.normed, qkv[layer], qkvBiases[layer], r.qkv);
        backend.rope(r.q3, start, invFreq, r.q3);
        backend.rope(r.k3, start, invFreq, r.k3);
        backend.copyRows(r.k3, cache.keys(layer), start);
        backend.copyRows(r.v3, cache.values(layer), start);
        backend.attention(r.q3, cache.keys(layer), cache.values(layer), attentionScale, true, start, r.attn3);
        backend.matmul(r.attn, w.wo(), null, r.out);
        backend.add(r.x, r.out, r.x);

        backend.rmsNorm(r.x, w.mlpNorm(), eps, offset, r.normed);
        if (moe != null) {
            moe.forward(w, expertGateUp[layer], r.normed, r.x, r.tokens);
        } else {
            backend.matmuls(r.normed, gateUp[layer], null, r.gateUp);
            backend.gatedActivation(config.activation(), r.gate, r.up, r.gate);
            backend.matmul(r.gate, w.wDown(), null, r.out);
            backend.add(r.x, r.out, r.x);
        }
    }

    private void updateFrequencies(int seqLen) {
        if (!ropeFrequencies.dependsOnLength()) {
            return;
        }
        float[] f = ropeFrequencies.forLength(seqLen);
        if (!java.util.Arrays.equals(f, invFreqHost)) {
            invFreqHost = f;
            try (Tensor host = hostF32(f)) {
                backend.copy(host, invFreq);
            }
        }
    }

    private static Tensor hostF32(float[] v) {
        return Tensor.of(v, v.length);
    }

    @Override
    public void close() {
        decodeStep.close();
        scratch.close();
        invFreq.close();
        if (moe != null) {
            moe.close();
        }
    }
}
