"""Reading a GGUF file's header only (metadata and tensor infos), never its tensor data.

The file is memory-mapped and parsed up to the end of the tensor-info table, so the cost depends on
the header (vocabulary, tensor count), not on the file's size. `gguf.GGUFReader` (llama.cpp's
gguf-py) builds a numpy view of every string and tensor and was measured to be much slower on real
vocabularies (bench/bench_gguf.py), so this reader uses the stdlib only; tests check it against gguf-py.
Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (little-endian, versions 2 and 3).
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Final

from ollama_sync.core.memory.model_info import ArrayInfo, GgufHeader, MetaValue, TensorInfo, tensor_nbytes

_MAGIC: Final = b"GGUF"
_STRING: Final = 8
_ARRAY: Final = 9
# value type → struct format (GGUF spec: uint8 … float64); strings and arrays are handled apart.
_SCALARS: Final[dict[int, struct.Struct]] = {
    0: struct.Struct("<B"), 1: struct.Struct("<b"), 2: struct.Struct("<H"), 3: struct.Struct("<h"),
    4: struct.Struct("<I"), 5: struct.Struct("<i"), 6: struct.Struct("<f"), 7: struct.Struct("<?"),
    10: struct.Struct("<Q"), 11: struct.Struct("<q"), 12: struct.Struct("<d"),
}
_U32: Final = struct.Struct("<I")
_U64: Final = struct.Struct("<Q")
_KEEP_ARRAY_MAX: Final = 4096  # numeric arrays up to this length are kept (per-layer head counts)
_MAX_DIMS: Final = 8  # GGML_MAX_DIMS is 4; anything far above means a corrupt header


class GgufError(ValueError):
    """The file is not a readable GGUF header (truncated, corrupt, or an unsupported version)."""


def read_header(path: Path) -> GgufHeader:
    """The GGUF header of the file at path; raises GgufError for bad content, OSError when unreadable."""
    with path.open("rb") as handle:
        size = path.stat().st_size
        if size < 24:
            raise GgufError(f"truncated: {size} bytes is shorter than a GGUF header")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return _Parser(memoryview(mapped), size).header()


class _Parser:
    """A cursor over the mapped bytes; every read checks bounds so a truncated file is an error, not garbage."""

    def __init__(self, buf: memoryview, size: int) -> None:
        self.buf = buf
        self.size = size
        self.pos = 0

    def header(self) -> GgufHeader:
        try:
            return self._header()
        except struct.error:
            raise GgufError(f"truncated: the header ends past the file's end ({self.size} bytes)") from None
        finally:
            self.buf.release()

    def _header(self) -> GgufHeader:
        if bytes(self.buf[:4]) != _MAGIC:
            raise GgufError(f"not a GGUF file (magic {bytes(self.buf[:4])!r})")
        self.pos = 4
        version = self._u32()
        if version not in (2, 3):
            hint = " (a big-endian file?)" if version > 0xFFFF else ""
            raise GgufError(f"unsupported GGUF version {version}{hint}")
        n_tensors, n_kv = self._u64(), self._u64()
        if n_tensors > self.size or n_kv > self.size:
            raise GgufError(f"corrupt: {n_tensors} tensors / {n_kv} metadata entries in a {self.size}-byte file")
        metadata: dict[str, MetaValue] = {}
        for _ in range(n_kv):
            key = self._string()
            metadata[key] = self._value(self._u32())
        tensors = tuple(self._tensor() for _ in range(n_tensors))
        check_architecture(metadata, n_tensors)
        return GgufHeader(version, metadata, tensors, self.size)

    def _u32(self) -> int:
        (value,) = _U32.unpack_from(self.buf, self.pos)
        self.pos += 4
        return int(value)

    def _u64(self) -> int:
        (value,) = _U64.unpack_from(self.buf, self.pos)
        self.pos += 8
        return int(value)

    def _string(self) -> str:
        length = self._u64()
        end = self.pos + length
        if end > self.size:
            raise struct.error("string past the end")
        text = bytes(self.buf[self.pos:end]).decode("utf-8", errors="replace")
        self.pos = end
        return text

    def _value(self, vtype: int) -> MetaValue:
        if vtype == _STRING:
            return self._string()
        if vtype == _ARRAY:
            return self._array()
        fmt = _SCALARS.get(vtype)
        if fmt is None:
            raise GgufError(f"corrupt: unknown metadata value type {vtype} at byte {self.pos - 4}")
        (value,) = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return value  # type: ignore[no-any-return]  # struct gives int | float | bool here

    def _array(self) -> MetaValue:
        item_type, count = self._u32(), self._u64()
        if item_type == _STRING:
            self.pos = _skip_strings(self.buf, self.pos, count, self.size)
            return ArrayInfo(item_type, count)
        fmt = _SCALARS.get(item_type)
        if fmt is None:  # nested arrays do not occur in model files; refuse rather than guess a size
            raise GgufError(f"corrupt: unsupported array item type {item_type} at byte {self.pos - 12}")
        end = self.pos + count * fmt.size
        if end > self.size:
            raise struct.error("array past the end")
        if count > _KEEP_ARRAY_MAX:
            self.pos = end
            return ArrayInfo(item_type, count)
        values = tuple(v for (v,) in struct.iter_unpack(fmt.format, self.buf[self.pos:end]))
        self.pos = end
        return values

    def _tensor(self) -> TensorInfo:
        name = self._string()
        n_dims = self._u32()
        if n_dims > _MAX_DIMS:
            raise GgufError(f"corrupt: tensor {name!r} has {n_dims} dimensions")
        shape = tuple(self._u64() for _ in range(n_dims))
        ggml_type = self._u32()
        self.pos += 8  # data offset: not needed, the data is never read
        nbytes = tensor_nbytes(ggml_type, shape)
        if nbytes is None:
            raise GgufError(f"unknown tensor type {ggml_type} for {name!r}")
        return TensorInfo(name, ggml_type, shape, nbytes)


def _skip_strings(buf: memoryview, pos: int, count: int, size: int) -> int:
    """The offset after count length-prefixed strings (the vocabulary: skipped, only its length matters)."""
    if count > (size - pos) // 8:  # every string takes at least its 8-byte length
        raise struct.error("string array past the end")
    unpack = _U64.unpack_from
    for _ in range(count):
        pos += 8 + unpack(buf, pos)[0]
        if pos > size:  # checked each time: a length of 2**63 must not reach unpack_from as an offset
            raise struct.error("string array past the end")
    return pos


# Per-architecture numbers that no real model can have; memory arithmetic on them would allocate a list per
# claimed layer (block_count 0xFFFFFFFF) or give zero or negative sizes marked "fits".
_POSITIVE: Final = ("block_count", "embedding_length")
_NOT_NEGATIVE: Final = ("context_length", "feed_forward_length", "attention.head_count", "attention.head_count_kv",
                        "attention.key_length", "attention.value_length", "attention.sliding_window",
                        "expert_count", "expert_used_count")


def check_architecture(metadata: dict[str, MetaValue], n_tensors: int) -> None:
    """A GgufError when the architecture's numbers are impossible (zero layers, negative heads, more
    layers than tensors, a per-layer array of the wrong length)."""
    arch = metadata.get("general.architecture")
    if not isinstance(arch, str) or f"{arch}.block_count" not in metadata:
        return  # not a language model's header (a projector): the caller decides what it needs
    for key in (*_POSITIVE, *_NOT_NEGATIVE):
        value = metadata.get(f"{arch}.{key}")
        numbers = value if isinstance(value, tuple) else (value,) if value is not None else ()
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, int):
                raise GgufError(f"impossible architecture: {arch}.{key} is not a whole number")
            if number < (1 if key in _POSITIVE else 0):
                raise GgufError(f"impossible architecture: {arch}.{key} = {number}")
    blocks = metadata[f"{arch}.block_count"]
    assert isinstance(blocks, int)  # checked above
    if blocks > n_tensors:
        raise GgufError(f"impossible architecture: {arch}.block_count = {blocks} layers in {n_tensors} tensors")
    for key in ("attention.head_count", "attention.head_count_kv"):
        value = metadata.get(f"{arch}.{key}")
        if isinstance(value, tuple) and len(value) != blocks:
            raise GgufError(f"impossible architecture: {arch}.{key} has {len(value)} values for {blocks} layers")
