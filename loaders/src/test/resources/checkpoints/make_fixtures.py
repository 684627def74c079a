#!/usr/bin/python3
"""Makes the checkpoint fixtures the loader tests read, with the reference implementations:
PyTorch 1.13's torch.save for the .bin files and the safetensors library (0.8.0) for the
.safetensors files. CI does not run this; the outputs are committed.

    PYTHONPATH=<dir with safetensors 0.8> /usr/bin/python3 make_fixtures.py

expected.json records every tensor's dtype, shape and row-major values as torch sees them
(bf16/f16 converted exactly to float; integers as integers).
"""
import collections
import ctypes
import json
import os
import pickle
import struct

import torch
import safetensors
import safetensors.torch

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH = os.path.join(HERE, "torch")
ST = os.path.join(HERE, "safetensors")
os.makedirs(TORCH, exist_ok=True)
os.makedirs(ST, exist_ok=True)
torch.manual_seed(1234)

NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
         torch.bool: "BOOL"}


def describe(t):
    flat = t.detach().reshape(-1)
    if t.dtype.is_floating_point:
        values = [float(v) for v in flat.to(torch.float64).tolist()]
    else:
        values = [int(v) for v in flat.to(torch.int64).tolist()]
    return {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": values}


def state_dict():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(3, 4)
    sd["f16"] = torch.randn(5).half()
    sd["bf16"] = torch.randn(2, 3).bfloat16()
    sd["f64"] = torch.randn(2, 2, dtype=torch.float64)
    sd["i64"] = torch.tensor([1, -2, 3, 2 ** 40], dtype=torch.int64)
    sd["i32"] = torch.tensor([[7, -8], [9, 2 ** 30]], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["transposed"] = torch.randn(3, 5).t()               # non-contiguous: strides (1, 5)
    sd["shared.base"] = base
    sd["shared.view"] = base[1:, 2:]                       # same storage, offset 6, strides (4, 1)
    sd["expanded"] = torch.arange(3.0).expand(2, 3)        # stride 0
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    sd["param"] = torch.nn.Parameter(torch.randn(2))      # pickled through _rebuild_parameter
    return sd


def nested():
    lin = torch.nn.Linear(4, 3)                            # state_dict() carries _metadata (BUILD)
    return {"model": lin.state_dict(), "epoch": 3, "names": ["a", "b"],
            "opt": {"lr": 0.1, "betas": (0.9, 0.999), "flag": None},
            "list": [torch.ones(2), torch.zeros(1, dtype=torch.int64)]}


def flat_names(obj, prefix=""):
    out = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flat_names(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(flat_names(v, f"{prefix}.{i}" if prefix else str(i)))
    return out


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/mgm-pwned",))


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned')",))


class Custom:
    def __init__(self):
        self.x = 1


def make_torch():
    expected = {}
    sd = state_dict()
    torch.save(sd, os.path.join(TORCH, "state_dict.bin"))
    expected["state_dict.bin"] = {k: describe(v) for k, v in sd.items()}
    nd = nested()
    torch.save(nd, os.path.join(TORCH, "nested.bin"))
    expected["nested.bin"] = {k: describe(v) for k, v in flat_names(nd).items()}
    torch.save(collections.OrderedDict(w=torch.ones(2)), os.path.join(TORCH, "legacy.bin"),
               _use_new_zipfile_serialization=False)
    torch.save({"x": Evil(), "w": torch.ones(2)}, os.path.join(TORCH, "evil_system.bin"))
    torch.save({"x": EvalEvil()}, os.path.join(TORCH, "evil_eval.bin"))
    torch.save({"c": Custom(), "w": torch.ones(2)}, os.path.join(TORCH, "evil_class.bin"))

    # Sharded LLM-style checkpoint with an HF index.
    shards = [collections.OrderedDict([("model.embed_tokens.weight", torch.randn(8, 4).half()),
                                       ("model.layers.0.mlp.up_proj.weight", torch.randn(6, 4).half())]),
              collections.OrderedDict([("model.norm.weight", torch.ones(4).half()),
                                       ("lm_head.weight", torch.randn(8, 4).half())])]
    os.makedirs(os.path.join(TORCH, "sharded"), exist_ok=True)
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        name = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save(shard, os.path.join(TORCH, "sharded", name))
        for k, v in shard.items():
            weight_map[k] = name
            total += v.numel() * v.element_size()
            expected.setdefault("sharded", {})[k] = describe(v)
    with open(os.path.join(TORCH, "sharded", "pytorch_model.bin.index.json"), "w") as f:
        f.write(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2, sort_keys=True) + "\n")

    with open(os.path.join(TORCH, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def make_safetensors():
    """Every dtype, written by the reference library; F8 through its raw TensorSpec API."""
    tensors = collections.OrderedDict()
    tensors["w.f32"] = torch.randn(3, 5)
    tensors["w.f16"] = torch.randn(4, 2).half()
    tensors["w.bf16"] = torch.randn(7).bfloat16()
    tensors["w.f64"] = torch.randn(2, 3, dtype=torch.float64)
    tensors["i.i64"] = torch.tensor([-(2 ** 40), 5], dtype=torch.int64)
    tensors["i.i32"] = torch.tensor([[1, -2, 3]], dtype=torch.int32)
    tensors["i.i16"] = torch.tensor([-1234, 4321], dtype=torch.int16)
    tensors["i.i8"] = torch.tensor([-5, 6, 7], dtype=torch.int8)
    tensors["i.u8"] = torch.tensor([250, 1], dtype=torch.uint8)
    tensors["b.bool"] = torch.tensor([[True, False], [False, True]])
    tensors["a.scalar"] = torch.tensor(2.25)
    tensors["a.empty"] = torch.zeros(0, 3)
    tensors["z.second_f32"] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    specs, keep = {}, []
    for k, t in tensors.items():
        t = t.contiguous()
        keep.append(t)
        specs[k] = safetensors.TensorSpec(dtype=str(t.dtype).replace("torch.", ""), shape=list(t.shape),
                                          data_ptr=t.data_ptr(), data_len=t.numel() * t.element_size())
    fp8 = {"f8.e4m3": ("float8_e4m3fn", bytes([0x00, 0x38, 0x40, 0xB8, 0x7E, 0x01])),
           "f8.e5m2": ("float8_e5m2", bytes([0x00, 0x3C, 0x40, 0xBC, 0x7B, 0x01]))}
    bufs = []
    for k, (dt, raw) in fp8.items():
        buf = ctypes.create_string_buffer(raw, len(raw))
        bufs.append(buf)
        specs[k] = safetensors.TensorSpec(dtype=dt, shape=[2, 3], data_ptr=ctypes.addressof(buf), data_len=len(raw))
    data = safetensors.serialize(specs, {"format": "pt"})
    with open(os.path.join(ST, "all_dtypes.safetensors"), "wb") as f:
        f.write(data)
    expected = {k: describe(v) for k, v in tensors.items()}
    # FP8 values decoded by hand from the bit patterns above (E4M3: bias 7; E5M2: bias 15).
    expected["f8.e4m3"] = {"dtype": "F8_E4M3", "shape": [2, 3], "values": [0.0, 1.0, 2.0, -1.0, 448.0, 2.0 ** -9]}
    expected["f8.e5m2"] = {"dtype": "F8_E5M2", "shape": [2, 3], "values": [0.0, 1.0, 2.0, -1.0, 57344.0, 2.0 ** -16]}
    with open(os.path.join(ST, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    # The index text HF writes, for a weight map with a name that needs escaping.
    wm = {"b.weight": "model-00002-of-00002.safetensors", "a.weight": "model-00001-of-00002.safetensors",
          "caf\u00e9.\u2603": "model-00001-of-00002.safetensors"}
    with open(os.path.join(ST, "index_format.json"), "w") as f:
        f.write(json.dumps({"metadata": {"total_size": 1234}, "weight_map": wm}, indent=2, sort_keys=True) + "\n")


def canon(o):
    """A canonical text form of plain data; the Java test renders its unpickled values the same way."""
    if o is None:
        return "N"
    if o is True or o is False:
        return "T" if o else "F"
    if isinstance(o, int):
        return "i" + str(o)
    if isinstance(o, float):
        return "f" + struct.pack(">d", o).hex()
    if isinstance(o, str):
        return "s" + o.encode("utf-8").hex()
    if isinstance(o, (bytes, bytearray)):
        return "b" + bytes(o).hex()
    if isinstance(o, tuple):
        return "(" + ",".join(canon(x) for x in o) + ")"
    if isinstance(o, list):
        return "[" + ",".join(canon(x) for x in o) + "]"
    if isinstance(o, dict):
        return "{" + ",".join(canon(k) + ":" + canon(v) for k, v in o.items()) + "}"
    raise TypeError(type(o))


def make_pickles():
    """Plain data pickled by Python's own pickler in every protocol, for the unpickler's opcode coverage."""
    value = collections.OrderedDict([
        ("ints", [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 63 - 1, -2 ** 63, 2 ** 100, -(2 ** 70)]),
        ("floats", [0.0, -0.0, 1.5, 1e-300, float("inf"), float("-inf"), 3.141592653589793]),
        ("text", ["", "ascii", "caf\u00e9 \u2603 \U0001F600", "new\nline \\ back"]),
        ("bytes", [b"", b"\x00\x01\xff", bytes(range(256))]),
        ("consts", [None, True, False]),
        ("tuples", [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]),
        ("nested", {"a": {"b": [1, {"c": (None,)}]}, 7: "int key", (1, "t"): "tuple key"}),
    ])
    shared = [1, 2]
    value["shared"] = [shared, shared]  # memo: the same list twice
    out = {}
    for proto in range(6):
        out[str(proto)] = {"pickle": pickle.dumps(value, protocol=proto).hex(), "canon": canon(value)}
    with open(os.path.join(TORCH, "pickles.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    make_torch()
    make_safetensors()
    make_pickles()
    # The writer must not have run anything: the payload of evil_system.bin is only pickled.
    assert not os.path.exists("/tmp/mgm-pwned")
    print("fixtures written")
