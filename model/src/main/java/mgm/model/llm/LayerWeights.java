package mgm.model.llm;

import mgm.runtime.Tensor;

/**
 * One decoder layer's weights on the backend. Attention biases are null when absent (LLaMA
 * family). Dense layers have gate/up/down; Mixtral layers have a router and per-expert
 * gate (w1), up (w3) and down (w2) instead.
 */
record LayerWeights(
        Tensor attnNorm,
        Tensor wq, Tensor wk, Tensor wv, Tensor wo,
        Tensor bq, Tensor bk, Tensor bv,
        Tensor mlpNorm,
        Tensor wGate, Tensor wUp, Tensor wDown,
        Tensor router,
        Tensor[] expertGate, Tensor[] expertUp, Tensor[] expertDown) {
}
