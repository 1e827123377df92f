"""Real GGUF files for the memory tests, written with llama.cpp's gguf-py writer, in Ollama's models layout.

Tensors carry real shapes and types; the data section is left sparse (truncate), so a "4.9 GiB" llama-3 8B
costs no disk and no write time, yet the file is byte-for-byte the GGUF format `gguf.GGUFReader` reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import gguf
import numpy as np

Q = gguf.GGMLQuantizationType


@dataclass(frozen=True)
class Arch:
    """The metadata of a real model, with the tensor layout written for it."""

    arch: str
    blocks: int
    emb: int
    heads: int
    heads_kv: int
    ctx: int
    ff: int
    vocab: int
    key_length: int | None = None
    value_length: int | None = None
    sliding_window: int | None = None
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def head_dim(self) -> int:
        """key_length when declared, else embedding / heads (Ollama's default)."""
        return self.key_length or self.emb // self.heads


LLAMA3_8B = Arch("llama", 32, 4096, 32, 8, 131072, 14336, 128256)
QWEN25_7B = Arch("qwen2", 28, 3584, 28, 4, 32768, 18944, 152064)
GEMMA3_12B = Arch("gemma3", 48, 3840, 16, 8, 131072, 15360, 262144, key_length=256, value_length=256,
                  sliding_window=1024)


def tensor_plan(a: Arch, weight_type: Q = Q.Q4_K) -> list[tuple[str, tuple[int, ...], Q]]:
    """(name, shape in elements as GGUF stores it: fastest dimension first, type) for every tensor."""
    kv_dim = a.heads_kv * a.head_dim
    q_dim = a.heads * a.head_dim
    q6 = Q.Q6_K if a.emb % 256 == 0 and a.ff % 256 == 0 else weight_type  # K-quants need 256-wide rows
    plan: list[tuple[str, tuple[int, ...], Q]] = [("token_embd.weight", (a.emb, a.vocab), weight_type)]
    for i in range(a.blocks):
        plan += [
            (f"blk.{i}.attn_norm.weight", (a.emb,), Q.F32),
            (f"blk.{i}.attn_q.weight", (a.emb, q_dim), weight_type),
            (f"blk.{i}.attn_k.weight", (a.emb, kv_dim), weight_type),
            (f"blk.{i}.attn_v.weight", (a.emb, kv_dim), q6),
            (f"blk.{i}.attn_output.weight", (q_dim, a.emb), weight_type),
            (f"blk.{i}.ffn_norm.weight", (a.emb,), Q.F32),
            (f"blk.{i}.ffn_gate.weight", (a.emb, a.ff), weight_type),
            (f"blk.{i}.ffn_up.weight", (a.emb, a.ff), weight_type),
            (f"blk.{i}.ffn_down.weight", (a.ff, a.emb), q6),
        ]
    plan += [("output_norm.weight", (a.emb,), Q.F32), ("output.weight", (a.emb, a.vocab), q6)]
    return plan


def nbytes(shape: tuple[int, ...], qtype: Q) -> int:
    """Bytes of a tensor from gguf-py's own block table (the reference the reader is checked against)."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    count = 1
    for dim in shape:
        count *= dim
    return count // block * size


def write_gguf(path: Path, a: Arch, *, vocab: int | None = None, weight_type: Q = Q.Q4_K) -> int:
    """Write a GGUF for the architecture; tensor data left sparse. Returns the file size."""
    w = gguf.GGUFWriter(str(path), a.arch)
    w.add_block_count(a.blocks)
    w.add_context_length(a.ctx)
    w.add_embedding_length(a.emb)
    w.add_feed_forward_length(a.ff)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.heads_kv)
    if a.key_length:
        w.add_key_length(a.key_length)
    if a.value_length:
        w.add_value_length(a.value_length)
    if a.sliding_window:
        w.add_sliding_window(a.sliding_window)
    for key, value in a.extra.items():
        w.add_uint32(key, value)
    n_tokens = a.vocab if vocab is None else vocab
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"t{i}" for i in range(n_tokens)])
    w.add_token_types([1] * n_tokens)
    data = 0
    for name, shape, qtype in tensor_plan(a, weight_type):
        size = nbytes(shape, qtype)
        byte_shape = (*reversed(shape[1:]), size // max(1, _rows(shape)))  # gguf-py takes numpy order, bytes last
        w.add_tensor_info(name, byte_shape, np.dtype(np.uint8), size, raw_dtype=qtype)
        data += w.ggml_pad(size, w.data_alignment)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    with path.open("r+b") as handle:  # the data section starts at the next alignment boundary
        handle.truncate(w.ggml_pad(path.stat().st_size, w.data_alignment) + data)
    return path.stat().st_size


def _head(path: Path, size: int = 1 << 20) -> bytes:
    with path.open("rb") as handle:  # never the whole (sparse, multi-GiB) file
        return handle.read(size)


def _rows(shape: tuple[int, ...]) -> int:
    rows = 1
    for dim in shape[1:]:
        rows *= dim
    return rows


def install(models: Path, name: str, blob_source: Path | bytes, *, tag: str = "latest",
            host: str = "registry.ollama.ai", namespace: str = "library") -> Path:
    """Place a model in Ollama's layout: the blob under blobs/sha256-<hex>, a manifest naming it."""
    content = blob_source if isinstance(blob_source, bytes) else _head(blob_source)
    digest = hashlib.sha256(content + name.encode()).hexdigest()
    blobs = models / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    blob = blobs / f"sha256-{digest}"
    if isinstance(blob_source, bytes):
        blob.write_bytes(blob_source)
    else:
        blob_source.replace(blob)
    manifest = models / "manifests" / host / namespace / name / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": f"sha256:{'0' * 64}",
                   "size": 2},
        "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}",
                    "size": blob.stat().st_size},
                   {"mediaType": "application/vnd.ollama.image.template", "digest": f"sha256:{'1' * 64}",
                    "size": 10}]}))
    return blob


def build_models_dir(root: Path, vocab: int = 1000) -> Path:
    """A models folder holding llama-3 8B, gemma3 12B and qwen2.5 7B headers (small vocabulary, sparse data)."""
    models = root / "models"
    for name, arch in (("llama3.1", LLAMA3_8B), ("gemma3", GEMMA3_12B), ("qwen2.5", QWEN25_7B)):
        source = root / f"{name}.gguf"
        write_gguf(source, arch, vocab=vocab)
        install(models, name, source)
    return models
