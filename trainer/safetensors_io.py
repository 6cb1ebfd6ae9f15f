"""The safetensors file layout in pure Python (Debian has no `safetensors` package; reference/trainer-protocol.md §7).

File = 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
"__metadata__": {...}} padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
Only float32 is written (the adapters are fp32); the reader also takes F16/BF16/I64.
"""

from __future__ import annotations

import json
import struct
from typing import Dict

import torch

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def save_file(tensors: Dict[str, torch.Tensor], path: str, metadata: Dict[str, str] | None = None) -> None:
    header: Dict[str, object] = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu", torch.float32).contiguous()
        raw = t.numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_file(path: str) -> Dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    body = data[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {meta['dtype']}; this reader supports {sorted(_DTYPES)}")
        b, e = meta["data_offsets"]
        chunk = bytearray(body[b:e])
        t = torch.frombuffer(chunk, dtype=_DTYPES[meta["dtype"]]) if e > b else torch.empty(0, dtype=_DTYPES[meta["dtype"]])
        out[name] = t.reshape(meta["shape"]).clone()
    return out
