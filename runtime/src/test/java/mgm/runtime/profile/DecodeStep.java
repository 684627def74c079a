package mgm.runtime.profile;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * The op sequence of a tiny LLaMA-style decoder (hidden 64, 4 heads of 16, MLP 128, 2 layers,
 * vocabulary 50), with preallocated buffers, marked with phases and layers as the model code marks
 * them: the "tiny run" of the profiler tests, on any backend.
 */
final class DecodeStep implements AutoCloseable {
    static final int HIDDEN = 64, HEADS = 4, HEAD_DIM = 16, MLP = 128, LAYERS = 2, VOCAB = 50, CONTEXT = 32;
    /** Ops of one layer and of one whole step, for tests that count them. */
    static final int OPS_PER_LAYER = 17;
    static final int OPS_PER_STEP = 1 + LAYERS * OPS_PER_LAYER + 3;

    final Tensor embed = Tensor.allocate(DType.F32, VOCAB, HIDDEN);
    final Tensor norm = Tensor.allocate(DType.F32, HIDDEN);
    final Tensor wq = Tensor.allocate(DType.F32, HIDDEN, HIDDEN);
    final Tensor wk = Tensor.allocate(DType.F32, HIDDEN, HIDDEN);
    final Tensor wv = Tensor.allocate(DType.F32, HIDDEN, HIDDEN);
    final Tensor wo = Tensor.allocate(DType.F32, HIDDEN, HIDDEN);
    final Tensor wGate = Tensor.allocate(DType.Q8_0, MLP, HIDDEN);
    final Tensor wUp = Tensor.allocate(DType.Q8_0, MLP, HIDDEN);
    final Tensor wDown = Tensor.allocate(DType.Q4_0, HIDDEN, MLP);
    final Tensor head = Tensor.allocate(DType.BF16, VOCAB, HIDDEN);
    final Tensor invFreq = Tensor.allocate(DType.F32, HEAD_DIM / 2);
    final Tensor[] keys = new Tensor[LAYERS];
    final Tensor[] values = new Tensor[LAYERS];
    final Tensor ids = Tensor.ofInts(new int[] {7});
    final Tensor x = Tensor.allocate(DType.F32, 1, HIDDEN);
    final Tensor normed = Tensor.allocate(DType.F32, 1, HIDDEN);
    final Tensor q = Tensor.allocate(DType.F32, 1, HIDDEN);
    final Tensor k = Tensor.allocate(DType.F32, 1, HIDDEN);
    final Tensor v = Tensor.allocate(DType.F32, 1, HIDDEN);
    final Tensor q3 = q.reshape(1, HEADS, HEAD_DIM);
    final Tensor k3 = k.reshape(1, HEADS, HEAD_DIM);
    final Tensor v3 = v.reshape(1, HEADS, HEAD_DIM);
    final Tensor attn = Tensor.allocate(DType.F32, 1, HIDDEN);
    final Tensor attn3 = attn.reshape(1, HEADS, HEAD_DIM);
    final Tensor out = Tensor.allocate(DType.F32, 1, HIDDEN);
    final Tensor gate = Tensor.allocate(DType.F32, 1, MLP);
    final Tensor up = Tensor.allocate(DType.F32, 1, MLP);
    final Tensor logits = Tensor.allocate(DType.F32, 1, VOCAB);
    final Tensor token = Tensor.allocate(DType.I32, 1);

    DecodeStep() {
        for (int l = 0; l < LAYERS; l++) {
            keys[l] = Tensor.allocate(DType.F32, CONTEXT, HEADS, HEAD_DIM);
            values[l] = Tensor.allocate(DType.F32, CONTEXT, HEADS, HEAD_DIM);
        }
        java.util.Random r = new java.util.Random(5);
        for (Tensor t : new Tensor[] {embed, norm, wq, wk, wv, wo, invFreq}) {
            float[] data = new float[(int) t.numel()];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) (r.nextGaussian() * 0.1);
            }
            t.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(data));
        }
    }

    /** One decode step at {@code pos} as the decoder runs it, with its phase and layer marks. */
    void run(Backend b, int pos) {
        try (Backend.Scope _ = b.phase("decode")) {
            b.embedding(embed, ids, x);
            for (int l = 0; l < LAYERS; l++) {
                try (Backend.Scope _ = b.layer("decoder", l)) {
                    b.rmsNorm(x, norm, 1e-5f, 0f, normed);
                    b.matmul(normed, wq, null, q);
                    b.matmul(normed, wk, null, k);
                    b.matmul(normed, wv, null, v);
                    b.rope(q3, pos, invFreq, q3);
                    b.rope(k3, pos, invFreq, k3);
                    b.copyRows(k3, keys[l], pos);
                    b.copyRows(v3, values[l], pos);
                    b.attention(q3, keys[l], values[l], 0.25f, true, pos, attn3);
                    b.matmul(attn, wo, null, out);
                    b.add(x, out, x);
                    b.rmsNorm(x, norm, 1e-5f, 0f, normed);
                    b.matmul(normed, wGate, null, gate);
                    b.matmul(normed, wUp, null, up);
                    b.gatedActivation(Activation.SILU, gate, up, gate);
                    b.matmul(gate, wDown, null, out);
                    b.add(x, out, x);
                }
            }
            b.rmsNorm(x, norm, 1e-5f, 0f, normed);
            b.matmul(normed, head, null, logits);
            b.argmax(logits, token);
        }
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {embed, norm, wq, wk, wv, wo, wGate, wUp, wDown, head, invFreq, ids, x, normed, q, k, v,
                attn, out, gate, up, logits, token}) {
            t.close();
        }
        for (int l = 0; l < LAYERS; l++) {
            keys[l].close();
            values[l].close();
        }
    }
}
