"""GGML Q8_0 / Q4_0 quantise-then-dequantise in numpy, transcribed from ggml's
quantize_row_q8_0_ref / quantize_row_q4_0_ref (float32 arithmetic, fp16 scales)."""
import numpy as np


def q8_0(w):
    x = np.asarray(w, dtype=np.float32).reshape(-1, 32)
    amax = np.abs(x).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    q = x * inv[:, None]
    q = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))  # roundf: half away from zero
    dh = d.astype(np.float16).astype(np.float32)
    return (q.astype(np.float32) * dh[:, None]).reshape(np.shape(w))


def q4_0(w):
    x = np.asarray(w, dtype=np.float32).reshape(-1, 32)
    idx = np.abs(x).argmax(axis=1)  # first index of the largest magnitude, as ggml's strict '<'
    mx = x[np.arange(len(x)), idx]
    d = (mx / np.float32(-8)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    q = np.trunc(x * inv[:, None] + np.float32(8.5)).astype(np.int32)  # (int8_t) cast truncates
    q = np.minimum(q, 15)
    dh = d.astype(np.float16).astype(np.float32)
    return ((q - 8).astype(np.float32) * dh[:, None]).reshape(np.shape(w))
