#!/usr/bin/env python3
"""Writes a random TinyLlama-shaped LLaMA model as an F16 GGUF file for llama.cpp's llama-bench.

The shape is the one DecoderReport builds (hidden 2048, 16 layers, 16 query / 4 key-value heads
of 64, FFN 5632, vocab 32000, rope theta 10000), so that llama.cpp reads and multiplies the same
bytes as our decoder benchmark. Weights are N(0, 0.02^2) (norms 1), the vocabulary is synthetic
(SentencePiece-style: <unk>, <s>, </s>, the 256 byte tokens, then plain pieces): llama-bench feeds
random token ids and never tokenises text. Quantise the result with llama-quantize (Q8_0, Q4_0).

Usage: tinyllama_gguf.py OUT.gguf [--seed N]
Needs only NumPy. The GGUF layout (version 3): header, key/value metadata, tensor infos, then the
tensor data, each tensor at an offset aligned to 32 bytes; dims are listed innermost first.
"""
import argparse
import struct
import sys

import numpy as np

HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB, CONTEXT = 2048, 16, 16, 4, 5632, 32000, 2048
HEAD_DIM = HIDDEN // HEADS
ALIGN = 32

# GGUF metadata value types and GGML tensor types used here
U32, I32, F32V, STRING, ARRAY = 4, 5, 6, 8, 9
GGML_F32, GGML_F16 = 0, 1


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def metadata_value(kind, value):
    if kind == U32:
        return struct.pack("<I", value)
    if kind == I32:
        return struct.pack("<i", value)
    if kind == F32V:
        return struct.pack("<f", value)
    if kind == STRING:
        return gguf_string(value)
    raise ValueError(kind)


def metadata(key, kind, value):
    return gguf_string(key) + struct.pack("<I", kind) + metadata_value(kind, value)


def metadata_array(key, kind, values):
    out = [gguf_string(key), struct.pack("<IIQ", ARRAY, kind, len(values))]
    if kind == F32V:
        out.append(np.asarray(values, dtype="<f4").tobytes())
    elif kind == I32:
        out.append(np.asarray(values, dtype="<i4").tobytes())
    else:
        out.extend(metadata_value(kind, v) for v in values)
    return b"".join(out)


def vocabulary():
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    tokens += ["\u2581t%d" % i for i in range(VOCAB - len(tokens))]
    # SentencePiece token types: 1 normal, 2 unknown, 3 control, 6 byte
    types = [2, 3, 3] + [6] * 256 + [1] * (VOCAB - 259)
    scores = [0.0] * 259 + [-float(i) for i in range(VOCAB - 259)]
    return tokens, scores, types


def tensor_plan():
    """(name, dims innermost first, ggml type) in file order."""
    plan = [("token_embd.weight", (HIDDEN, VOCAB), GGML_F16)]
    kv = KV_HEADS * HEAD_DIM
    for i in range(LAYERS):
        p = "blk.%d." % i
        plan += [
            (p + "attn_norm.weight", (HIDDEN,), GGML_F32),
            (p + "attn_q.weight", (HIDDEN, HIDDEN), GGML_F16),
            (p + "attn_k.weight", (HIDDEN, kv), GGML_F16),
            (p + "attn_v.weight", (HIDDEN, kv), GGML_F16),
            (p + "attn_output.weight", (HIDDEN, HIDDEN), GGML_F16),
            (p + "ffn_norm.weight", (HIDDEN,), GGML_F32),
            (p + "ffn_gate.weight", (HIDDEN, FFN), GGML_F16),
            (p + "ffn_up.weight", (HIDDEN, FFN), GGML_F16),
            (p + "ffn_down.weight", (FFN, HIDDEN), GGML_F16),
        ]
    plan += [("output_norm.weight", (HIDDEN,), GGML_F32), ("output.weight", (HIDDEN, VOCAB), GGML_F16)]
    return plan


def nbytes(dims, kind):
    return int(np.prod(dims)) * (4 if kind == GGML_F32 else 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    tokens, scores, types = vocabulary()
    kvs = [
        metadata("general.architecture", STRING, "llama"),
        metadata("general.name", STRING, "tinyllama-shaped random (mgm-java bench)"),
        metadata("general.file_type", U32, 1),  # mostly F16
        metadata("llama.context_length", U32, CONTEXT),
        metadata("llama.embedding_length", U32, HIDDEN),
        metadata("llama.block_count", U32, LAYERS),
        metadata("llama.feed_forward_length", U32, FFN),
        metadata("llama.rope.dimension_count", U32, HEAD_DIM),
        metadata("llama.attention.head_count", U32, HEADS),
        metadata("llama.attention.head_count_kv", U32, KV_HEADS),
        metadata("llama.attention.layer_norm_rms_epsilon", F32V, 1e-5),
        metadata("llama.rope.freq_base", F32V, 10000.0),
        metadata("llama.vocab_size", U32, VOCAB),
        metadata("tokenizer.ggml.model", STRING, "llama"),
        metadata_array("tokenizer.ggml.tokens", STRING, tokens),
        metadata_array("tokenizer.ggml.scores", F32V, scores),
        metadata_array("tokenizer.ggml.token_type", I32, types),
        metadata("tokenizer.ggml.unknown_token_id", U32, 0),
        metadata("tokenizer.ggml.bos_token_id", U32, 1),
        metadata("tokenizer.ggml.eos_token_id", U32, 2),
    ]
    plan = tensor_plan()
    infos, offset = [], 0
    for name, dims, kind in plan:
        infos.append(gguf_string(name) + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims)
                     + struct.pack("<IQ", kind, offset))
        offset += -(-nbytes(dims, kind) // ALIGN) * ALIGN

    rng = np.random.default_rng(args.seed)
    with open(args.out, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(plan), len(kvs)))
        f.write(b"".join(kvs))
        f.write(b"".join(infos))
        f.write(b"\0" * (-f.tell() % ALIGN))
        for name, dims, kind in plan:
            size = int(np.prod(dims))
            if kind == GGML_F32:
                data = np.ones(size, dtype="<f4")
            else:
                data = (rng.standard_normal(size, dtype=np.float32) * 0.02).astype("<f2")
            f.write(data.tobytes())
            f.write(b"\0" * (-data.nbytes % ALIGN))
    print("wrote %s (%d tensors)" % (args.out, len(plan)), file=sys.stderr)


if __name__ == "__main__":
    main()
