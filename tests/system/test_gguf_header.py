"""The header-only GGUF reader, checked against llama.cpp's gguf-py reader on files its writer produced."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest

from ollama_sync.core.memory.model_info import ArrayInfo, ModelInfoError, model_info
from ollama_sync.system.gguf_header import GgufError, read_header
from tests.gguf_models import LLAMA3_8B, nbytes, tensor_plan, write_gguf


def _small_file(path: Path) -> None:
    """A GGUF with real (tiny) tensor data, scalar and array metadata of every common kind."""
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(2)
    w.add_embedding_length(64)
    w.add_head_count(4)
    w.add_array("llama.attention.head_count_kv", [2, 1])
    w.add_float32("llama.rope.freq_base", 500000.0)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_string("general.name", "tiny ✓")
    w.add_token_list(["a", "bb", "ccc"])
    w.add_token_scores([0.5, 0.25, 0.0])
    rng = np.random.default_rng(0)
    w.add_tensor("token_embd.weight", rng.standard_normal((3, 64), dtype=np.float32))
    for i in range(2):
        w.add_tensor(f"blk.{i}.attn_q.weight", rng.standard_normal((64, 64)).astype(np.float16))
    w.add_tensor("blk.0.ffn_down.weight", np.zeros((64, 64 * 34 // 32), dtype=np.uint8),
                 raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _reference(path: Path) -> tuple[dict[str, object], dict[str, tuple[tuple[int, ...], int, int]]]:
    reader = gguf.GGUFReader(path)
    meta: dict[str, object] = {}
    for field in reader.fields.values():
        if field.name.startswith("GGUF."):
            continue
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            meta[field.name] = len(field.data)
        else:
            meta[field.name] = field.contents()
    tensors = {t.name: (tuple(int(x) for x in t.shape), int(t.tensor_type), int(t.n_bytes)) for t in reader.tensors}
    return meta, tensors


def _mine(path: Path) -> tuple[dict[str, object], dict[str, tuple[tuple[int, ...], int, int]]]:
    header = read_header(path)
    meta: dict[str, object] = {}
    for key, value in header.metadata.items():
        if isinstance(value, ArrayInfo):
            meta[key] = value.count
        elif isinstance(value, tuple):
            meta[key] = len(value)
        else:
            meta[key] = value
    return meta, {t.name: (t.shape, t.ggml_type, t.nbytes) for t in header.tensors}


def test_reader_agrees_with_gguf_py_on_a_file_with_data(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    _small_file(path)
    assert _mine(path) == _reference(path)
    header = read_header(path)
    assert header.metadata["llama.attention.head_count_kv"] == (2, 1)
    assert header.metadata["general.name"] == "tiny ✓"
    assert header.metadata["llama.rope.freq_base"] == 500000.0


def test_reader_agrees_with_gguf_py_on_llama3_8b_layout(tmp_path: Path) -> None:
    path = tmp_path / "llama.gguf"
    write_gguf(path, LLAMA3_8B, vocab=2000)
    assert _mine(path) == _reference(path)
    info = model_info(read_header(path))
    expected_layer = sum(nbytes(shape, q) for name, shape, q in tensor_plan(LLAMA3_8B) if name.startswith("blk.0."))
    assert info.layer_bytes == (expected_layer,) * 32
    assert (info.block_count, info.head_count_kv_max, info.context_length, info.vocab_size) == (32, 8, 131072, 2000)


def test_per_layer_head_counts_expand_like_ollama(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    _small_file(path)
    info = model_info(read_header(path))
    assert info.head_count == (4, 4) and info.head_count_kv == (2, 1)
    assert info.key_length == 64 // 4  # no key_length: embedding / min(head_count)


@pytest.mark.parametrize("cut", ["magic+", "vocabulary", "tensor table"])
def test_truncated_file_is_an_error_not_garbage(tmp_path: Path, cut: str) -> None:
    path = tmp_path / "llama.gguf"
    write_gguf(path, LLAMA3_8B, vocab=500)
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    size = {"magic+": 30, "vocabulary": head.find(b"t250") + 2, "tensor table": head.rfind(b"output.weight") + 4}[cut]
    with path.open("r+b") as handle:
        handle.truncate(size)
    with pytest.raises(GgufError, match=r"truncated|corrupt"):
        read_header(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "truncated"), (b"GGML" + bytes(40), "not a GGUF file"),
    (b"GGUF" + (7).to_bytes(4, "little") + bytes(40), "unsupported GGUF version 7"),
    (b"GGUF" + (3).to_bytes(4, "little") + (1 << 40).to_bytes(8, "little") + bytes(16), "corrupt")])
def test_bad_content(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GgufError, match=message):
        read_header(path)


def test_missing_architecture_keys_are_an_unknown_architecture(tmp_path: Path) -> None:
    path = tmp_path / "odd.gguf"
    w = gguf.GGUFWriter(str(path), "weirdnet")
    w.add_uint32("weirdnet.layers", 3)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    with pytest.raises(ModelInfoError, match="unknown architecture 'weirdnet'"):
        model_info(read_header(path))
