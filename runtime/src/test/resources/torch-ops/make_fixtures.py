#!/usr/bin/python3
"""Writes torch_ops.json: small random inputs and the outputs PyTorch computes for them, one
case per op, so that ReferenceBackend is checked against an independent implementation.
Run with Debian's python3-torch (1.13): /usr/bin/python3 make_fixtures.py"""
import json
import math
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
cases = []


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.flatten().tolist()]}


def add(name, inputs, output, **params):
    cases.append({"name": name, "inputs": {k: t(v) for k, v in inputs.items()}, "output": t(output), "params": params})


# matmul as nn.Linear: x [M,K], w [N,K], bias [N]
x = torch.randn(3, 37); w = torch.randn(5, 37); b = torch.randn(5)
add("matmul", {"x": x, "w": w, "bias": b}, F.linear(x, w, b))

# rmsNorm, LLaMA and Gemma (1 + w) forms
x = torch.randn(4, 24); w = torch.randn(24); eps = 1e-6
var = x.pow(2).mean(-1, keepdim=True)
add("rmsNorm", {"x": x, "weight": w}, w * (x * torch.rsqrt(var + eps)), eps=eps, offset=0.0)
add("rmsNorm", {"x": x, "weight": w}, (x * torch.rsqrt(var + eps)) * (1.0 + w), eps=eps, offset=1.0)

# layerNorm
x = torch.randn(3, 19) * 3 + 1; w = torch.randn(19); b = torch.randn(19)
add("layerNorm", {"x": x, "weight": w, "bias": b}, F.layer_norm(x, (19,), w, b, 1e-5), eps=1e-5)

# softmax
x = torch.randn(2, 3, 11) * 4
add("softmax", {"x": x}, torch.softmax(x, -1))

# rope, HF rotate_half; positions start at 5
T, H, D = 4, 3, 8
x = torch.randn(T, H, D)
theta = 10000.0
inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
pos = torch.arange(5, 5 + T).float()
freqs = torch.outer(pos, inv_freq)
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
def rotate_half(v):
    return torch.cat((-v[..., D // 2:], v[..., :D // 2]), dim=-1)
add("rope", {"x": x, "invFreq": inv_freq}, x * cos + rotate_half(x) * sin, startPos=5)

# attention: causal GQA prefill with 2 cached keys; and non-causal
Tq, S, Hq, Hkv, D = 3, 5, 4, 2, 6
q = torch.randn(Tq, Hq, D); k = torch.randn(S, Hkv, D); v = torch.randn(S, Hkv, D)
scale = 1.0 / math.sqrt(D)
def attend(q, k, v, causal, start):
    kk = k.repeat_interleave(Hq // Hkv, dim=1); vv = v.repeat_interleave(Hq // Hkv, dim=1)
    s = torch.einsum("thd,shd->hts", q, kk) * scale
    if causal:
        mask = torch.arange(S)[None, :] > (start + torch.arange(Tq))[:, None]
        s = s.masked_fill(mask[None], float("-inf"))
    p = torch.softmax(s.float(), -1)
    return torch.einsum("hts,shd->thd", p, vv)
add("attention", {"q": q, "k": k, "v": v}, attend(q, k, v, True, 2), scale=scale, causal=True, queryStart=2)
add("attention", {"q": q, "k": k, "v": v}, attend(q, k, v, False, 0), scale=scale, causal=False, queryStart=0)

# activations
x = torch.randn(50) * 3
add("activation", {"x": x}, F.silu(x), act="SILU")
add("activation", {"x": x}, F.gelu(x), act="GELU_ERF")
add("activation", {"x": x}, F.gelu(x, approximate="tanh"), act="GELU_TANH")
add("activation", {"x": x}, x * torch.sigmoid(1.702 * x), act="QUICK_GELU")
g = torch.randn(2, 9); u = torch.randn(2, 9)
add("gatedActivation", {"gate": g, "up": u}, F.silu(g) * u, act="SILU")
add("gatedActivation", {"gate": g, "up": u}, F.gelu(g, approximate="tanh") * u, act="GELU_TANH")

# conv2d, channels-last in and out (x given NHWC; torch runs NCHW)
x = torch.randn(2, 7, 9, 3); w = torch.randn(4, 3, 3, 2); b = torch.randn(4)
y = F.conv2d(x.permute(0, 3, 1, 2), w, b, stride=2, padding=1).permute(0, 2, 3, 1)
add("conv2d", {"x": x, "w": w, "bias": b}, y, stride=2, padding=1)
x = torch.randn(1, 8, 8, 3); w = torch.randn(5, 3, 4, 4); b = torch.randn(5)
y = F.conv2d(x.permute(0, 3, 1, 2), w, b, stride=4).permute(0, 2, 3, 1)
add("conv2d", {"x": x, "w": w, "bias": b}, y, stride=4, padding=0)

# depthwise 7x7, padding 3
x = torch.randn(1, 9, 10, 6); w = torch.randn(6, 1, 7, 7); b = torch.randn(6)
y = F.conv2d(x.permute(0, 3, 1, 2), w, b, padding=3, groups=6).permute(0, 2, 3, 1)
add("depthwiseConv2d", {"x": x, "w": w, "bias": b}, y, padding=3)

# bilinear, align_corners=False: the MGM 768->336 ratio (scaled down 16x: 48->21), an upscale,
# and a scale_factor=0.5 downsample
for (hin, win, hout, wout) in [(48, 48, 21, 21), (5, 7, 9, 4), (12, 10, 6, 5)]:
    x = torch.randn(2, 3, hin, win)
    y = F.interpolate(x, size=[hout, wout], mode="bilinear", align_corners=False)
    add("resizeBilinear", {"x": x.permute(0, 2, 3, 1)}, y.permute(0, 2, 3, 1))

# windowAttention: each grid token attends over its window x window pixels of a channels-last map
Hm, Wm, D, win = 4, 6, 5, 2
m = torch.randn(Hm, Wm, D); q = torch.randn((Hm // win) * (Wm // win), D); sc = 0.7
wins = m.reshape(Hm // win, win, Wm // win, win, D).permute(0, 2, 1, 3, 4).reshape(-1, win * win, D)
a = torch.softmax(torch.einsum("td,tid->ti", q, wins) * sc, dim=-1)
add("windowAttention", {"q": q, "map": m}, torch.einsum("ti,tid->td", a, wins), window=win, scale=sc)

# topK and argmax
x = torch.randn(3, 8)
vals, idx = torch.topk(x, 2, dim=-1)
add("topK", {"x": x}, vals, k=2, indices=[int(i) for i in idx.flatten().tolist()])
add("argmax", {"x": x}, x.argmax(-1).float())

with open("torch_ops.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(len(cases), "cases")
