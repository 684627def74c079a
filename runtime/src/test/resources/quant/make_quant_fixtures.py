"""Independent reference for GGML's Q8_0 / Q4_0 block quantisation (quantize_row_q8_0_ref,
quantize_row_q4_0_ref in ggml-quants.c), written from the C semantics with numpy:
float32 arithmetic, roundf = round half away from zero, (int8_t) cast = truncation toward zero,
fp16 scale by round-to-nearest-even.

Writes, little-endian:
  input.f32      the rows quantised (N float32)
  q8_0.bin       their Q8_0 blocks (34 bytes per 32 values: fp16 d, 32 x int8)
  q4_0.bin       their Q4_0 blocks (18 bytes per 32 values: fp16 d, 16 bytes of nibbles)
  q8_0_deq.f32   Q8_0 dequantised (d * q in float32)
  q4_0_deq.f32   Q4_0 dequantised (d * (q - 8) in float32)

Run with /usr/bin/python3 (numpy). CI does not run this; QuantFixtureTest reads the outputs.
"""
import numpy as np

QK = 32
rng = np.random.default_rng(20240601)


def inputs():
    blocks = []
    blocks.append(rng.standard_normal(QK))                       # plain Gaussian
    blocks.append(rng.standard_normal(QK) * 1e-3)                # small scale
    blocks.append(rng.standard_normal(QK) * 300.0)               # large scale
    blocks.append(np.zeros(QK))                                  # d == 0 branch
    b = rng.standard_normal(QK); b[5] = -4.0; b[9] = 4.0         # |max| tie: first one wins in Q4_0
    blocks.append(b)
    blocks.append(np.linspace(-1.0, 1.0, QK))                    # exact halves after scaling
    b = np.full(QK, 0.25); b[0] = -1.0                           # negative extreme
    blocks.append(b)
    b = np.arange(QK, dtype=np.float64) / 2.0 - 7.75             # many .5 ties in Q8_0
    blocks.append(b)
    b = rng.standard_normal(QK); b[3] = 1e-8; b[4] = -1e-8       # tiny values next to large ones
    blocks.append(b)
    b = np.full(QK, 6.1e-5)                                      # d near fp16 subnormal range
    blocks.append(b)
    for _ in range(22):
        blocks.append(rng.standard_normal(QK) * rng.uniform(0.01, 10.0))
    return np.concatenate(blocks).astype(np.float32)


def roundf(v):
    a = np.floor(np.abs(v).astype(np.float64) + 0.5)
    return np.copysign(a, v)


def q8_0(x):
    out = bytearray()
    deq = []
    for blk in x.reshape(-1, QK):
        amax = np.float32(np.max(np.abs(blk)))
        d = np.float32(amax / np.float32(127.0))
        idv = np.float32(1.0) / d if d != 0 else np.float32(0.0)
        q = roundf(blk * np.float32(idv)).astype(np.int8)
        dh = np.float16(d)
        out += dh.tobytes() + q.tobytes()
        deq.append(np.float32(dh) * q.astype(np.float32))
    return bytes(out), np.concatenate(deq).astype(np.float32)


def q4_0(x):
    out = bytearray()
    deq = []
    for blk in x.reshape(-1, QK):
        amax = np.float32(0.0)
        mx = np.float32(0.0)
        for v in blk:
            if amax < abs(v):
                amax = np.float32(abs(v))
                mx = v
        d = np.float32(mx / np.float32(-8.0))
        idv = np.float32(1.0) / d if d != 0 else np.float32(0.0)
        scaled = (blk * np.float32(idv)).astype(np.float32)
        q = np.minimum(15, np.trunc((scaled + np.float32(8.5)).astype(np.float32)).astype(np.int64))
        lo, hi = q[:QK // 2], q[QK // 2:]
        packed = (lo | (hi << 4)).astype(np.uint8)
        dh = np.float16(d)
        out += dh.tobytes() + packed.tobytes()
        deq.append(np.float32(dh) * (q - 8).astype(np.float32))
    return bytes(out), np.concatenate(deq).astype(np.float32)


if __name__ == "__main__":
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    x = inputs()
    x.astype("<f4").tofile(os.path.join(here, "input.f32"))
    b8, d8 = q8_0(x)
    b4, d4 = q4_0(x)
    open(os.path.join(here, "q8_0.bin"), "wb").write(b8)
    open(os.path.join(here, "q4_0.bin"), "wb").write(b4)
    d8.astype("<f4").tofile(os.path.join(here, "q8_0_deq.f32"))
    d4.astype("<f4").tofile(os.path.join(here, "q4_0_deq.f32"))
    print(len(x), "values,", len(b8), "bytes Q8_0,", len(b4), "bytes Q4_0")
