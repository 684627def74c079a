"""Minimal safetensors reading for the reference scripts (numpy only, independent of our Java
reader): returns {name: torch tensor} with the stored dtype."""
import json
import os
import struct

import numpy as np
import torch

_DTYPES = {"F32": (np.float32, torch.float32), "F16": (np.float16, torch.float16),
           "I32": (np.int32, torch.int32), "I64": (np.int64, torch.int64)}


def read_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        shape = info["shape"]
        if info["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            t = torch.from_numpy(u.view(np.float32).copy()).reshape(shape).to(torch.bfloat16)
        else:
            np_t, _ = _DTYPES[info["dtype"]]
            t = torch.from_numpy(np.frombuffer(raw, dtype=np_t).copy()).reshape(shape)
        out[name] = t
    return out


def read_folder(folder):
    """Single file or sharded (model.safetensors.index.json)."""
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for name in files:
        out.update(read_file(os.path.join(folder, name)))
    return out
