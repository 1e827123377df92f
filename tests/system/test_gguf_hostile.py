"""Hostile GGUF headers: counts and lengths checked against the file before anything is allocated, and
impossible architectures refused, so one bad blob is a `memory-bad-gguf` finding and the rest still prints."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from ollama_sync.cli import run
from ollama_sync.system.gguf_header import GgufError, read_header
from tests.gguf_models import LLAMA3_8B, install, write_gguf

U32, I32, STRING, ARRAY, U64 = 4, 5, 8, 9, 10


def _string(text: str, length: int | None = None) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw


def _header(meta: list[bytes], tensors: int = 4) -> bytes:
    """A GGUF v3 header with the given metadata entries and `tensors` one-dimensional f32 tensors."""
    body = b"".join(meta) + b"".join(_string(f"blk.{i}.attn_q.weight") + struct.pack("<IQIQ", 1, 64, 0, 0)
                                     for i in range(tensors))
    return b"GGUF" + struct.pack("<IQQ", 3, tensors, len(meta)) + body


def _kv(key: str, vtype: int, value: int) -> bytes:
    return _string(key) + struct.pack("<I", vtype) + struct.pack({U32: "<I", I32: "<i", U64: "<Q"}[vtype], value)


def _llama(**numbers: tuple[int, int]) -> list[bytes]:
    base = {"block_count": (U32, 2), "embedding_length": (U32, 64), "attention.head_count": (I32, 4),
            "attention.head_count_kv": (I32, 4), "context_length": (U32, 2048)}
    base.update(numbers)
    arch = _string("general.architecture") + struct.pack("<I", STRING) + _string("llama")
    return [arch, *(_kv(f"llama.{key}", vtype, value) for key, (vtype, value) in base.items())]


@pytest.mark.parametrize(("numbers", "words"), [
    ({"block_count": (U32, 0xFFFFFFFF)}, "block_count = 4294967295 layers in 4 tensors"),
    ({"block_count": (U32, 0)}, "block_count = 0"),
    ({"embedding_length": (U32, 0)}, "embedding_length = 0"),
    ({"attention.head_count": (I32, -8)}, "head_count = -8"),
    ({"attention.head_count_kv": (I32, -1)}, "head_count_kv = -1"),
])
def test_impossible_architectures_are_refused(tmp_path: Path, numbers: dict[str, tuple[int, int]],
                                              words: str) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(_header(_llama(**numbers)))
    with pytest.raises(GgufError, match="impossible architecture") as err:
        read_header(blob)
    assert words in str(err.value)


def test_a_possible_architecture_reads(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(_header(_llama()))
    assert read_header(blob).metadata["llama.block_count"] == 2


@pytest.mark.parametrize("length", [2**63, 2**64 - 1, 2**40])
def test_a_string_length_past_the_file_is_refused_before_reading(tmp_path: Path, length: int) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(_header([_string("general.name") + struct.pack("<I", STRING) + _string("x", length)]))
    with pytest.raises(GgufError, match="truncated"):
        read_header(blob)


@pytest.mark.parametrize("count", [2**63, 2**64 - 1, 2**32])
def test_a_string_array_count_past_the_file_is_refused_at_once(tmp_path: Path, count: int) -> None:
    blob = tmp_path / "blob"
    entry = _string("tokenizer.ggml.tokens") + struct.pack("<IIQ", ARRAY, STRING, count) + _string("a")
    blob.write_bytes(_header([entry]))
    started = time.monotonic()
    with pytest.raises(GgufError, match="truncated"):
        read_header(blob)
    assert time.monotonic() - started < 1  # no loop over 2**63 claimed strings


def test_one_bad_blob_is_a_finding_and_the_other_models_still_print(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    good = tmp_path / "l.gguf"
    write_gguf(good, LLAMA3_8B, vocab=100)
    install(models, "llama3.1", good)
    bad = install(models, "evil", _header(_llama(block_count=(U32, 0xFFFFFFFF))))
    config = tmp_path / "ollama.toml"
    config.write_text(f'[ollama]\nmodelsPath = "{models}"\ncontextLength = 8192\n')
    assert run(["--config", str(config), "memory", "--gpu-memory", "24G", "--ram", "64G"]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("llama3.1:latest") and "fits" in line for line in out.splitlines())
    assert f"{bad}: error[memory-bad-gguf] evil:latest: cannot read the GGUF header: impossible architecture" in out
