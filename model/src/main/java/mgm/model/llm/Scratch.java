package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import java.util.ArrayList;
import java.util.List;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * Activation buffers of a decoder, planned once for the largest chunk of tokens; {@link Rows}
 * are views of their first T rows.
 */
final class Scratch implements AutoCloseable {
    /** Rows of logits computed at a time when every position's logits are wanted (bounds memory). */
    static final int MAX_LOGIT_ROWS = 64;

    final Tensor x;
    final Tensor normed;
    final Tensor q;
    final Tensor k;
    final Tensor v;
    final Tensor attn;
    final Tensor out;
    final Tensor gate;
    final Tensor up;
    final Tensor logits;
    final Tensor lastLogits;
    final Tensor tokenId;
    final int logitRows;
    private final Tensor hostTokenId;
    private final Backend backend;
    private final LlmConfig config;
    private final List<Tensor> all = new ArrayList<>();

    Scratch(Backend backend, LlmConfig c, int maxChunk) {
        this.backend = backend;
        this.config = c;
        this.logitRows = Math.min(maxChunk, MAX_LOGIT_ROWS);
        try {
            x = alloc(DType.F32, maxChunk, c.hiddenSize());
            normed = alloc(DType.F32, maxChunk, c.hiddenSize());
            q = alloc(DType.F32, maxChunk, c.qDim());
            k = alloc(DType.F32, maxChunk, c.kvDim());
            v = alloc(DType.F32, maxChunk, c.kvDim());
            attn = alloc(DType.F32, maxChunk, c.qDim());
            out = alloc(DType.F32, maxChunk, c.hiddenSize());
            gate = alloc(DType.F32, maxChunk, c.intermediateSize());
            up = alloc(DType.F32, maxChunk, c.intermediateSize());
            logits = alloc(DType.F32, logitRows, c.vocabSize());
            lastLogits = alloc(DType.F32, 1, c.vocabSize());
            tokenId = alloc(DType.I32, 1);
            hostTokenId = backend.device().isHost() ? tokenId : Tensor.allocate(DType.I32, 1);
            if (hostTokenId != tokenId) {
                all.add(hostTokenId);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
    }

    static long bytes(LlmConfig c, int maxChunk) {
        long perRow = 4L * (3L * c.hiddenSize() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.intermediateSize());
        return perRow * maxChunk + 4L * c.vocabSize() * (Math.min(maxChunk, MAX_LOGIT_ROWS) + 1);
    }

    /** Views of the first {@code t} rows of every buffer. */
    Rows rows(int t) {
        return new Rows(this, config, t);
    }

    /** Puts a token id where the embedding op reads it (a host write, then an upload on a device). */
    void setToken(int token) {
        hostTokenId.setFloat(token, 0);
        if (hostTokenId != tokenId) {
            backend.copy(hostTokenId, tokenId);
        }
    }

    private Tensor alloc(DType dtype, long... shape) {
        Tensor t = backend.allocate(dtype, shape);
        all.add(t);
        return t;
    }

    @Override
    public void close() {
        for (Tensor t : all) {
            t.close();
        }
        all.clear();
    }
}
