package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import mgm.runtime.Tensor;

/** Views of the first T rows of the scratch buffers, shaped for each step of a layer. */
final class Rows {
    final int tokens;
    final Tensor x;
    final Tensor normed;
    final Tensor q;
    final Tensor k;
    final Tensor v;
    final Tensor q3;
    final Tensor k3;
    final Tensor v3;
    final Tensor attn;
    final Tensor attn3;
    final Tensor out;
    final Tensor gate;
    final Tensor up;
    final Tensor lastX;
    final Tensor lastNormed;
    /** The outputs of the projections that share an input ({@link mgm.runtime.Backend#matmuls}). */
    final Tensor[] qkv;
    final Tensor[] gateUp;

    Rows(Scratch s, LlmConfig c, int t) {
        tokens = t;
        x = s.x.slice(0, 0, t);
        normed = s.normed.slice(0, 0, t);
        q = s.q.slice(0, 0, t);
        k = s.k.slice(0, 0, t);
        v = s.v.slice(0, 0, t);
        q3 = q.reshape(t, c.numHeads(), c.headDim());
        k3 = k.reshape(t, c.numKvHeads(), c.headDim());
        v3 = v.reshape(t, c.numKvHeads(), c.headDim());
        attn = s.attn.slice(0, 0, t);
        attn3 = attn.reshape(t, c.numHeads(), c.headDim());
        out = s.out.slice(0, 0, t);
        gate = s.gate.slice(0, 0, t);
        up = s.up.slice(0, 0, t);
        lastX = x.slice(0, t - 1, t);
        lastNormed = normed.slice(0, t - 1, t);
        qkv = new Tensor[] {q, k, v};
        gateUp = new Tensor[] {gate, up};
    }
}
