"""Read the weights out of a CTranslate2 `model.bin`, so a packaged Whisper can be fine-tuned in torch.

CTranslate2 stores each variable with its name, shape and type, and quantizes to int8 only when a model is
loaded: the packaged Whisper keeps its float16 weights, which are read back here exactly. The file is a
little-endian sequence: format version (u32), spec name (u16 length + bytes), spec revision (u32), variable
count (u32), then per variable its name (u16 length + bytes), rank (u8), dimensions (u32 each), type (u8),
byte count (u32) and bytes; aliases follow, which are not needed here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanokws.teacher.base import TeacherError

# CTranslate2's DataType enumeration, for the types a model file holds.
DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),  # float32
    1: np.dtype("i1"),  # int8
    2: np.dtype("<i2"),  # int16
    3: np.dtype("<i4"),  # int32
    4: np.dtype("<f2"),  # float16
}
BFLOAT16 = 5
SUPPORTED_VERSIONS = range(5, 7)


@dataclass(frozen=True)
class Ct2Model:
    spec: str
    revision: int
    variables: dict[str, np.ndarray]

    def scalar(self, name: str) -> int:
        return int(self.array(name).reshape(-1)[0])

    def array(self, name: str) -> np.ndarray:
        try:
            return self.variables[name]
        except KeyError:
            raise TeacherError(f"the CTranslate2 model has no variable {name!r}", hint="give a Whisper model") from None


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path, self.offset = data, path, 0

    def take(self, n: int) -> bytes:
        if self.offset + n > len(self.data):
            raise TeacherError("the CTranslate2 model file ends early", path=self.path, hint="re-install the model")
        out = self.data[self.offset : self.offset + n]
        self.offset += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("<H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def string(self) -> str:
        return self.take(self.u16()).rstrip(b"\0").decode("utf-8")


def _bfloat16_to_float32(raw: bytes) -> np.ndarray:
    return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)


def read_ct2(path: Path) -> Ct2Model:
    """Every variable of a CTranslate2 `model.bin` (floating-point ones as float32)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TeacherError(f"cannot read the CTranslate2 model ({e.strerror})", path=path) from e
    r = _Reader(data, path)
    version = r.u32()
    if version not in SUPPORTED_VERSIONS:
        raise TeacherError(
            f"CTranslate2 model format version {version} is not one this reader knows "
            f"({SUPPORTED_VERSIONS.start}-{SUPPORTED_VERSIONS.stop - 1})",
            path=path,
            hint="convert the model with a CTranslate2 release of that range, or use the frozen Whisper teacher",
        )
    spec, revision = r.string(), r.u32()
    variables: dict[str, np.ndarray] = {}
    for _ in range(r.u32()):
        name = r.string()
        dims = tuple(r.u32() for _ in range(r.u8()))
        kind, size = r.u8(), r.u32()
        raw = r.take(size)
        if kind == BFLOAT16:
            array = _bfloat16_to_float32(raw)
        elif kind in DTYPES:
            array = np.frombuffer(raw, DTYPES[kind])
        else:
            raise TeacherError(f"the CTranslate2 variable {name!r} has an unknown type code {kind}", path=path)
        if array.size != int(np.prod(dims, dtype=np.int64)):
            raise TeacherError(f"the CTranslate2 variable {name!r} does not match its shape {dims}", path=path)
        array = array.reshape(dims)
        variables[name] = array.astype(np.float32) if array.dtype.kind == "f" else array.copy()
    return Ct2Model(spec, revision, variables)
