"""Read a GGUF file's header without llama.cpp: metadata, and a check that the file is whole.

llama.cpp reports a bad file only as "failed to load"; reading the header first lets us say
*what* is wrong (not a GGUF, truncated) and read the context length without loading weights.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from smol_tools.errors import ModelError

MAGIC = b"GGUF"
# GGUF metadata value types -> struct format (8: string, 9: array are handled apart).
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
# ggml tensor types -> (elements per block, bytes per block)
_TENSOR_TYPES = {
    0: (1, 4),
    1: (1, 2),
    2: (32, 18),
    3: (32, 20),
    6: (32, 22),
    7: (32, 24),
    8: (32, 34),
    9: (32, 36),
    10: (256, 84),
    11: (256, 110),
    12: (256, 144),
    13: (256, 176),
    14: (256, 210),
    15: (256, 292),
    16: (256, 66),
    17: (256, 74),
    18: (256, 98),
    19: (256, 50),
    20: (32, 18),
    21: (256, 110),
    22: (256, 82),
    23: (256, 136),
    24: (1, 1),
    25: (1, 2),
    26: (1, 4),
    27: (1, 8),
    28: (1, 8),
    29: (256, 56),
    30: (1, 2),
    34: (256, 54),
    35: (256, 66),
}
_MAX_STRING = 1 << 26  # a longer "string" means we are reading garbage


class _Truncated(Exception):
    pass


@dataclass
class GGUFInfo:
    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    data_end: int = 0  # byte just past the last tensor's data
    file_size: int = 0

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", self.path.stem))

    @property
    def context_length(self) -> int:
        return int(self.metadata.get(f"{self.architecture}.context_length", 0) or 0)

    @property
    def file_type(self) -> int:
        """llama_ftype: 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 7 Q8_0, 15 Q4_K_M, ..."""
        return int(self.metadata.get("general.file_type", -1))


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise _Truncated
    return data


def _unpack(f: BinaryIO, fmt: str) -> Any:
    return struct.unpack("<" + fmt, _read(f, struct.calcsize(fmt)))[0]


def _string(f: BinaryIO) -> str:
    n = _unpack(f, "Q")
    if n > _MAX_STRING:
        raise ModelError("corrupt GGUF header (string length out of range)")
    return _read(f, n).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int, keep: bool) -> Any:
    if kind in _SCALARS:
        return _unpack(f, _SCALARS[kind])
    if kind == 8:
        return _string(f)
    if kind == 9:
        item_kind, count = _unpack(f, "I"), _unpack(f, "Q")
        if item_kind in _SCALARS and item_kind != 8:
            size = struct.calcsize(_SCALARS[item_kind])
            f.seek(size * count, 1)  # vocab-sized arrays: skip, we only need scalars
            return None
        for _ in range(count):
            _value(f, item_kind, False)
        return None
    raise ModelError(f"corrupt GGUF header (unknown value type {kind})")


def read_gguf(path: str | Path) -> GGUFInfo:
    """Parse the header and tensor table; raise ModelError if the file is not a whole GGUF."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            if f.read(4) != MAGIC:
                raise ModelError(
                    f"{path} is not a GGUF model file",
                    hint="pass a .gguf file or a catalog name; see `smol models list`",
                )
            info = GGUFInfo(path, _unpack(f, "I"), _unpack(f, "Q"), file_size=size)
            kv_count = _unpack(f, "Q")
            for _ in range(kv_count):
                key = _string(f)
                kind = _unpack(f, "I")
                value = _value(f, kind, True)
                if value is not None:
                    info.metadata[key] = value
            tensors = []
            for _ in range(info.tensor_count):
                _string(f)
                n_dims = _unpack(f, "I")
                dims = [_unpack(f, "Q") for _ in range(n_dims)]
                tensors.append((dims, _unpack(f, "I"), _unpack(f, "Q")))
            align = int(info.metadata.get("general.alignment", 32)) or 32
            data_start = -(-f.tell() // align) * align
    except _Truncated:
        raise ModelError(
            f"{path} is truncated (header ends early)", hint="download the model again"
        ) from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from None

    end = data_start
    for dims, kind, offset in tensors:
        n = 1
        for d in dims:
            n *= d
        block, nbytes = _TENSOR_TYPES.get(kind, (1, 0))
        end = max(end, data_start + offset + n // block * nbytes)
    info.data_end = end
    if end > size:
        raise ModelError(
            f"{path} is truncated ({size} of {end} bytes)", hint="download the model again"
        )
    return info
