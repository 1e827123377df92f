"""GGUF header data and the model facts the memory planner needs (ModelInfo), derived as Ollama derives them.

Key names and defaults follow ollama/ollama `fs/ggml/ggml.go` (`KV.HeadCount`, `EmbeddingHeadCountK`, …):
architecture keys are prefixed with `{general.architecture}.`; a missing `head_count_kv` is 1; missing
`key_length`/`value_length` default to `embedding_length / min(head_count)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

# ggml tensor type id → (name, elements per block, bytes per block); ggml.h / gguf-py constants.
GGML_TYPES: Final[Mapping[int, tuple[str, int, int]]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
    28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}

_BLOCK_RE: Final = re.compile(r"^blk\.(\d+)\.")


@dataclass(frozen=True)
class ArrayInfo:
    """A metadata array kept only as its length (string arrays, long arrays such as the vocabulary)."""

    item_type: int
    count: int


MetaValue = int | float | bool | str | tuple[int | float | bool, ...] | ArrayInfo


@dataclass(frozen=True)
class TensorInfo:
    """One tensor's entry in the header: name, ggml type, shape and its size in bytes."""

    name: str
    ggml_type: int
    shape: tuple[int, ...]
    nbytes: int


@dataclass(frozen=True)
class GgufHeader:
    """Everything read from a GGUF header: metadata, tensor infos, and the file's size."""

    version: int
    metadata: Mapping[str, MetaValue]
    tensors: tuple[TensorInfo, ...]
    file_size: int


@dataclass(frozen=True)
class ModelInfo:
    """What the memory arithmetic needs about one model, with Ollama's defaults applied."""

    architecture: str
    block_count: int
    embedding_length: int
    head_count: tuple[int, ...]  # per layer
    head_count_kv: tuple[int, ...]  # per layer; 0 on recurrent layers
    key_length: int
    value_length: int
    context_length: int  # 0 when the model does not say
    vocab_size: int
    sliding_window: int
    is_embedding: bool  # `{arch}.pooling_type` present: flash attention is off for it
    ssm: tuple[int, int, int, int]  # conv_kernel, inner_size, state_size, group_count (recurrent layers)
    feed_forward_length: int
    layer_bytes: tuple[int, ...]  # weights of blk.i
    output_bytes: int  # output_norm + output (token_embd when output is absent)
    vision_bytes: int  # v.* and mm.* tensors
    file_size: int
    ffn_gate_exps_bytes: int = 0  # blk.0.ffn_gate_exps.weight (mixtral 8x22b graph)
    ffn_gate0_dim1: int = 0  # blk.0.ffn_gate.0.weight shape[1] (mixtral 8x7b graph)
    qkv_bias_dim0: int = 0  # blk.0.attn_qkv.bias shape[0] (chatglm graph)
    sliding_window_pattern: tuple[int, ...] = ()  # `{arch}.attention.sliding_window_pattern`: period or per layer
    expert_count: int = 0
    expert_used_count: int = 0
    expert_feed_forward_length: int = 0
    token_embd_bytes: int = 0  # the input embedding (llama.cpp keeps it in system memory)
    output_tied: bool = False  # no output.weight: llama.cpp duplicates token_embd for the output layer
    tensor_bytes: int = 0  # every tensor in the file (llama.cpp's model buffers)
    largest_layer_tensor: int = 0  # the largest blk.* tensor (copied to the GPU when a CPU layer is offloaded)
    # hybrid models (llama.cpp src/models/<arch>.cpp load_arch_hparams):
    feed_forward_per_layer: tuple[int, ...] = ()  # `{arch}.feed_forward_length` as an array (nemotron_h: 0 = no MLP)
    shortconv_l_cache: int = 0  # `{arch}.shortconv.l_cache` (lfm2's convolution state)
    recurrent_layer_flags: tuple[int, ...] = ()  # `{arch}.attention.recurrent_layers` (qwen3next, qwen35)
    full_attention_interval: int = 0  # `{arch}.full_attention_interval` (qwen3next, qwen35: default 4)
    wkv_head_size: int = 0  # `{arch}.wkv.head_size` (rwkv6, rwkv7: their state)
    token_shift_count: int = 2  # `{arch}.token_shift_count` (rwkv; llama_hparams' default 2)

    @property
    def head_count_max(self) -> int:
        """The largest head count (Ollama's HeadCountMax)."""
        return max(self.head_count, default=1)

    @property
    def head_count_min(self) -> int:
        """The smallest head count (Ollama's HeadCountMin)."""
        return min(self.head_count, default=1)

    @property
    def head_count_kv_max(self) -> int:
        """The largest KV head count."""
        return max(self.head_count_kv, default=1)

    @property
    def head_count_kv_min(self) -> int:
        """The smallest KV head count."""
        return min(self.head_count_kv, default=1)

    @property
    def weights_bytes(self) -> int:
        """Repeating layers plus the output layer, as Ollama's estimator counts weights."""
        return sum(self.layer_bytes) + self.output_bytes

    @property
    def supports_flash_attention(self) -> bool:
        """Ollama's SupportsFlashAttention: not an embedding model, not gemma2, K and V head sizes equal."""
        if self.is_embedding or self.architecture == "gemma2":
            return False
        return self.key_length != 0 and self.key_length == self.value_length


class ModelInfoError(ValueError):
    """The header lacks what every model needs (an unknown or broken architecture)."""


def model_info(header: GgufHeader) -> ModelInfo:
    """Derive ModelInfo from a header; raises ModelInfoError when architecture keys are missing."""
    meta = header.metadata
    arch = meta.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise ModelInfoError("no general.architecture in the GGUF metadata")
    blocks = _uint(meta, f"{arch}.block_count")
    embedding = _uint(meta, f"{arch}.embedding_length")
    if blocks is None or embedding is None:
        raise ModelInfoError(f"unknown architecture {arch!r}: no {arch}.block_count / {arch}.embedding_length")
    heads = _per_layer(meta.get(f"{arch}.attention.head_count"), blocks)
    heads_kv = _per_layer(meta.get(f"{arch}.attention.head_count_kv"), blocks)
    head_dim = embedding // min(heads) if min(heads, default=0) > 0 else 0
    layers, output, vision, blk0 = _group_tensors(header.tensors, blocks)
    return ModelInfo(
        architecture=arch, block_count=blocks, embedding_length=embedding, head_count=heads,
        head_count_kv=heads_kv,
        key_length=_uint(meta, f"{arch}.attention.key_length") or head_dim,
        value_length=_uint(meta, f"{arch}.attention.value_length") or head_dim,
        context_length=_uint(meta, f"{arch}.context_length") or 0,
        vocab_size=_count(meta.get("tokenizer.ggml.tokens")),
        sliding_window=_uint(meta, f"{arch}.attention.sliding_window") or 0,
        is_embedding=f"{arch}.pooling_type" in meta,
        ssm=tuple(_uint(meta, f"{arch}.ssm.{k}") or 0  # type: ignore[arg-type]  # always four items
                  for k in ("conv_kernel", "inner_size", "state_size", "group_count")),
        feed_forward_length=_uint(meta, f"{arch}.feed_forward_length") or 0,
        layer_bytes=layers, output_bytes=output, vision_bytes=vision, file_size=header.file_size,
        ffn_gate_exps_bytes=_size(blk0.get("ffn_gate_exps.weight")),
        ffn_gate0_dim1=_dim(blk0.get("ffn_gate.0.weight"), 1),
        qkv_bias_dim0=_dim(blk0.get("attn_qkv.bias"), 0),
        sliding_window_pattern=_ints(meta.get(f"{arch}.attention.sliding_window_pattern")),
        expert_count=_uint(meta, f"{arch}.expert_count") or 0,
        expert_used_count=_uint(meta, f"{arch}.expert_used_count") or 0,
        expert_feed_forward_length=_uint(meta, f"{arch}.expert_feed_forward_length") or 0,
        token_embd_bytes=sum(t.nbytes for t in header.tensors if t.name.startswith("token_embd.")),
        output_tied=not any(t.name.startswith("output.") for t in header.tensors),
        tensor_bytes=sum(t.nbytes for t in header.tensors),
        largest_layer_tensor=max((t.nbytes for t in header.tensors if _BLOCK_RE.match(t.name)), default=0),
        feed_forward_per_layer=_ints(meta.get(f"{arch}.feed_forward_length")),
        shortconv_l_cache=_uint(meta, f"{arch}.shortconv.l_cache") or 0,
        recurrent_layer_flags=_ints(meta.get(f"{arch}.attention.recurrent_layers")),
        full_attention_interval=_uint(meta, f"{arch}.full_attention_interval") or 0,
        wkv_head_size=_uint(meta, f"{arch}.wkv.head_size") or 0,
        token_shift_count=_uint(meta, f"{arch}.token_shift_count") or 2,
    )


def _uint(meta: Mapping[str, MetaValue], key: str) -> int | None:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _ints(value: MetaValue | None) -> tuple[int, ...]:
    """A number or a numeric array as a tuple of ints (booleans as 0/1); () when absent or not numeric."""
    if isinstance(value, (bool, int)):
        return (int(value),)
    if isinstance(value, tuple):
        return tuple(int(x) for x in value if isinstance(x, (bool, int)))
    return ()


def _count(value: MetaValue | None) -> int:
    if isinstance(value, ArrayInfo):
        return value.count
    return len(value) if isinstance(value, tuple) else 0


def _per_layer(value: MetaValue | None, blocks: int) -> tuple[int, ...]:
    """A number or a per-layer array, expanded to one value per layer (default 1), as KV.HeadCount does."""
    if isinstance(value, tuple) and value:
        values = [int(x) for x in value]
    elif isinstance(value, int) and not isinstance(value, bool):
        values = [value]
    else:
        values = [1]
    fill = values[0] if len(values) == 1 else 1
    return tuple(values[i] if i < len(values) else fill for i in range(blocks))


def _group_tensors(tensors: tuple[TensorInfo, ...], blocks: int
                   ) -> tuple[tuple[int, ...], int, int, dict[str, TensorInfo]]:
    """Per-layer weight bytes, the output layer, vision weights, and blk.0's tensors by short name."""
    layers = [0] * blocks
    groups: dict[str, int] = {}
    blk0: dict[str, TensorInfo] = {}
    for t in tensors:
        match = _BLOCK_RE.match(t.name)
        if match is not None:
            index = int(match.group(1))
            if index < blocks:
                layers[index] += t.nbytes
            if index == 0:
                blk0[t.name[len(match.group(0)):]] = t
            continue
        prefix = t.name.split(".", 1)[0]
        groups[prefix] = groups.get(prefix, 0) + t.nbytes
    output = groups.get("output_norm", 0) + (groups["output"] if "output" in groups else groups.get("token_embd", 0))
    vision = groups.get("v", 0) + groups.get("mm", 0)
    return tuple(layers), output, vision, blk0


def _size(tensor: TensorInfo | None) -> int:
    return 0 if tensor is None else tensor.nbytes


def _dim(tensor: TensorInfo | None, axis: int) -> int:
    if tensor is None or len(tensor.shape) <= axis:
        return 0
    return tensor.shape[axis]


def tensor_nbytes(ggml_type: int, shape: tuple[int, ...]) -> int | None:
    """A tensor's size: elements / block size × block bytes (Ollama's Tensor.Size); None for an unknown type."""
    entry = GGML_TYPES.get(ggml_type)
    if entry is None:
        return None
    elements = 1
    for dim in shape:
        elements *= dim
    return elements * entry[2] // entry[1]
