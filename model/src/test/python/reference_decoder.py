#!/usr/bin/python3
"""Independent PyTorch reference of the decoders (HF transformers semantics, written from the
modeling_llama / modeling_gemma / modeling_mixtral math, not from our Java code).

Computes in the checkpoint's dtype (torch_dtype) as HF does: bf16 checkpoints run in bf16 with
fp32 softmax/norm statistics and rope tables cast to bf16. With --quant q8_0|q4_0 every linear
weight except the embeddings, lm_head and the MoE router is replaced by its GGML
quantise-dequantise round trip (what --load-8bit/--load-4bit compute with).

  /usr/bin/python3 reference_decoder.py --model DIR --ids 1,306,4966 --logits OUT.npy \
      [--greedy 32 --greedy-out OUT.json] [--quant q8_0]
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

import ggml_quant
import st_io

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class Config:
    def __init__(self, cfg):
        arch = (cfg.get("architectures") or [""])[0]
        mt = cfg.get("model_type", "")
        if "Gemma" in arch or "gemma" in mt:
            self.family = "gemma"
        elif "Mixtral" in arch or "mixtral" in mt:
            self.family = "mixtral"
        else:
            self.family = "llama"
        self.hidden = cfg["hidden_size"]
        self.inter = cfg["intermediate_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim", self.hidden // self.heads)
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = cfg.get("rope_theta", 10000.0)
        self.rope_scaling = cfg.get("rope_scaling")
        if self.family == "gemma":
            # transformers 4.39-4.47: hidden_activation, else tanh GELU (hidden_act is ignored)
            self.act = cfg.get("hidden_activation") or "gelu_pytorch_tanh"
        else:
            self.act = cfg.get("hidden_act", "silu")
        self.tie = cfg.get("tie_word_embeddings", self.family == "gemma")
        self.experts = cfg.get("num_local_experts", 0)
        self.top_k = cfg.get("num_experts_per_tok", 2)
        self.dtype = DTYPES.get(cfg.get("torch_dtype", "float32"), torch.float32)
        self.max_pos = cfg.get("max_position_embeddings", 2048)


def act_fn(name, x):
    if name in ("silu", "swish"):
        return F.silu(x)
    if name == "gelu":
        return F.gelu(x)
    if name in ("gelu_pytorch_tanh", "gelu_new", "gelu_tanh", "gelu_fast"):
        return F.gelu(x, approximate="tanh")
    raise ValueError("activation " + name)


def inv_freq(c, seq_len):
    """HF's inv_freq for a forward pass over `seq_len` positions (only dynamic NTK depends on it:
    transformers recomputes the base for the whole sequence once it outgrows max_position_embeddings)."""
    d = c.head_dim
    base = c.theta
    rs = c.rope_scaling
    kind = rs.get("rope_type", rs.get("type")) if rs else None
    if kind == "dynamic" and seq_len > c.max_pos:
        f = rs["factor"]
        base = c.theta * ((f * seq_len / c.max_pos) - (f - 1)) ** (d / (d - 2))
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    if rs:
        factor = rs["factor"]
        if kind == "linear":
            inv = inv / factor
        elif kind == "llama3":
            old = rs["original_max_position_embeddings"]
            low, high = rs["low_freq_factor"], rs["high_freq_factor"]
            wavelen = 2 * math.pi / inv
            scaled = torch.where(wavelen > old / low, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            medium = ~(wavelen < old / high) * ~(wavelen > old / low)
            inv = torch.where(medium, smoothed, scaled)
    return inv


def rms_norm(c, x, w):
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + c.eps)
    if c.family == "gemma":
        return (h * (1.0 + w.float())).to(x.dtype)
    return w * h.to(x.dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Weights:
    def __init__(self, tensors, c, quant, head_quant=None):
        self.t = tensors
        self.c = c
        self.quant = quant
        self.head_quant = head_quant

    def get(self, name, linear=False, quant=None):
        w = self.t[name]
        quant = quant or (self.quant if linear else None)
        if quant and w.shape[-1] % 32 == 0:  # rows of whole 32-blocks only, as the runtime
            fn = ggml_quant.q8_0 if quant == "q8_0" else ggml_quant.q4_0
            w = torch.from_numpy(fn(w.float().numpy())).to(self.c.dtype)
        return w.to(self.c.dtype)

    def head(self):
        """The output projection: lm_head, or the embedding table it is tied to; with head_quant its
        round trip (the embeddings themselves stay as stored)."""
        name = "lm_head.weight" if "lm_head.weight" in self.t else "model.embed_tokens.weight"
        return self.get(name, quant=self.head_quant)


def forward(c, w, embeds, start=0):
    """embeds: [T, hidden] unscaled input embeddings; returns float32 logits [T, vocab]."""
    dt = c.dtype
    x = embeds.to(dt)
    if c.family == "gemma":
        x = x * torch.tensor(c.hidden ** 0.5, dtype=dt)
    T = x.shape[0]
    pos = torch.arange(start, start + T).float()
    freqs = torch.outer(pos, inv_freq(c, start + T))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(dt)[:, None, :], emb.sin().to(dt)[:, None, :]
    mask = torch.full((T, T), float("-inf")).triu(1)
    group = c.heads // c.kv_heads
    for i in range(c.layers):
        p = "model.layers.%d." % i
        n = rms_norm(c, x, w.get(p + "input_layernorm.weight"))
        a = p + "self_attn."
        q = F.linear(n, w.get(a + "q_proj.weight", True), w.t.get(a + "q_proj.bias")).view(T, c.heads, c.head_dim)
        k = F.linear(n, w.get(a + "k_proj.weight", True), w.t.get(a + "k_proj.bias")).view(T, c.kv_heads, c.head_dim)
        v = F.linear(n, w.get(a + "v_proj.weight", True), w.t.get(a + "v_proj.bias")).view(T, c.kv_heads, c.head_dim)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = torch.einsum("thd,shd->hts", q, k) / math.sqrt(c.head_dim)
        scores = scores + mask.to(scores.dtype)[None]
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(dt)
        o = torch.einsum("hts,shd->thd", probs, v).reshape(T, c.heads * c.head_dim)
        x = x + F.linear(o, w.get(a + "o_proj.weight", True))
        n = rms_norm(c, x, w.get(p + "post_attention_layernorm.weight"))
        if c.family == "mixtral":
            m = p + "block_sparse_moe."
            router = F.linear(n, w.get(m + "gate.weight"))
            rw = torch.softmax(router, dim=1, dtype=torch.float)
            rw, sel = torch.topk(rw, c.top_k, dim=-1)
            rw = (rw / rw.sum(dim=-1, keepdim=True)).to(dt)
            out = torch.zeros_like(n)
            for e in range(c.experts):
                rows, slot = torch.where(sel == e)
                if rows.numel() == 0:
                    continue
                xe = n[rows]
                ex = m + "experts.%d." % e
                y = F.linear(act_fn(c.act, F.linear(xe, w.get(ex + "w1.weight", True))) * F.linear(xe, w.get(ex + "w3.weight", True)),
                             w.get(ex + "w2.weight", True))
                out.index_add_(0, rows, (y * rw[rows, slot, None]).to(dt))
            x = x + out
        else:
            m = p + "mlp."
            g = act_fn(c.act, F.linear(n, w.get(m + "gate_proj.weight", True)))
            x = x + F.linear(g * F.linear(n, w.get(m + "up_proj.weight", True)), w.get(m + "down_proj.weight", True))
    x = rms_norm(c, x, w.get("model.norm.weight"))
    return F.linear(x, w.head()).float()


def load(model_dir, quant=None, compute_dtype=None, head_quant=None):
    """compute_dtype (a torch dtype) overrides the config's torch_dtype, e.g. float32 compute on
    bf16 weights (what our runtime does) next to the bf16 compute HF does. head_quant ("q8_0")
    replaces the output projection by its GGML round trip too."""
    with open(os.path.join(model_dir, "config.json")) as f:
        c = Config(json.load(f))
    if compute_dtype is not None:
        c.dtype = compute_dtype
    return c, Weights(st_io.read_folder(model_dir), c, quant, head_quant)


def embed(c, w, ids):
    return w.get("model.embed_tokens.weight")[torch.tensor(ids)]


def greedy(c, w, ids, steps):
    """Greedy continuation, recomputing the whole sequence each step (no cache: simplest correct)."""
    seq = list(ids)
    out = []
    for _ in range(steps):
        logits = forward(c, w, embed(c, w, seq))
        nxt = int(torch.argmax(logits[-1]))
        out.append(nxt)
        seq.append(nxt)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--logits")
    ap.add_argument("--greedy", type=int, default=0)
    ap.add_argument("--greedy-out")
    ap.add_argument("--quant", choices=["q8_0", "q4_0"])
    ap.add_argument("--quant-head", choices=["q8_0"], help="round-trip lm_head (or the tied embedding table) too")
    ap.add_argument("--compute-dtype", choices=sorted(DTYPES), help="override torch_dtype")
    a = ap.parse_args()
    torch.manual_seed(0)
    c, w = load(a.model, a.quant, DTYPES[a.compute_dtype] if a.compute_dtype else None, a.quant_head)
    ids = [int(s) for s in a.ids.split(",")]
    with torch.no_grad():
        if a.logits:
            np.save(a.logits, forward(c, w, embed(c, w, ids)).numpy())
        if a.greedy:
            with open(a.greedy_out, "w") as f:
                json.dump({"prompt": ids, "greedy": greedy(c, w, ids, a.greedy)}, f)


if __name__ == "__main__":
    main()
