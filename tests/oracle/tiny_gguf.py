"""Tiny random-weight GGUF models that a real llama.cpp loads, written with llama.cpp's own gguf-py writer.

Each architecture gets the tensors its llama.cpp loader requires (`src/models/<arch>.cpp load_arch_tensors`,
llama.cpp b11312) at small sizes: the memory arithmetic depends on the shapes and metadata, not on the size of
the model, so a 256-wide model exercises the same KV, SWA, output and compute rules as a 4096-wide one. Weights
are random f16 (norms f32); the tokenizer is a small SentencePiece-style vocabulary with the 256 byte tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gguf
import numpy as np

F16 = np.float16
F32 = np.float32


@dataclass(frozen=True)
class Tiny:
    """One tiny model: architecture, sizes, and the extra metadata its loader reads."""

    arch: str
    blocks: int = 4
    emb: int = 256
    heads: int = 4
    heads_kv: int = 2
    head_dim: int = 64
    ff: int = 512
    vocab: int = 16384  # large enough that the output buffer shows in llama.cpp's two-decimal MiB
    ctx_train: int = 8192
    sliding_window: int = 0
    experts: int = 0
    experts_used: int = 0
    qkv_bias: bool = False
    qk_norm: bool = False
    post_norms: bool = False  # gemma3: attention and FFN post-norms
    tied_output: bool = False  # no output.weight: the token embedding is reused
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A short label for test ids."""
        return self.arch


MODELS: tuple[Tiny, ...] = (
    Tiny("llama"),
    Tiny("qwen2", qkv_bias=True),
    Tiny("qwen3", qk_norm=True),
    Tiny("gemma3", blocks=8, sliding_window=512, qk_norm=True, post_norms=True, tied_output=True),
    Tiny("gpt-oss", sliding_window=128, experts=4, experts_used=2, qkv_bias=True),
    Tiny("mistral3"),
    Tiny("mamba2", extra={"mamba2.ssm.conv_kernel": 4, "mamba2.ssm.inner_size": 512, "mamba2.ssm.state_size": 64,
                          "mamba2.ssm.time_step_rank": 8, "mamba2.ssm.group_count": 1}),
)


def write_tiny(path: Path, m: Tiny, seed: int = 0) -> Path:
    """Write the model as a complete GGUF file (header and random tensor data)."""
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), m.arch)
    w.add_block_count(m.blocks)
    w.add_context_length(m.ctx_train)
    w.add_embedding_length(m.emb)
    w.add_feed_forward_length(m.ff)
    w.add_head_count(m.heads)
    w.add_head_count_kv(m.heads_kv)
    w.add_key_length(m.head_dim)
    w.add_value_length(m.head_dim)
    w.add_rope_dimension_count(m.head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    if m.sliding_window:
        w.add_sliding_window(m.sliding_window)
    if m.experts:
        w.add_expert_count(m.experts)
        w.add_expert_used_count(m.experts_used)
        w.add_expert_feed_forward_length(m.ff)
    for key, value in m.extra.items():
        w.add_uint32(key, value)
    _vocab(w, m.vocab)

    def tensor(name: str, *shape: int, dtype: type[np.floating[Any]] = F16) -> None:
        # gguf-py takes numpy order (slowest dimension first); llama.cpp's shapes are fastest first
        w.add_tensor(name, (rng.standard_normal(tuple(reversed(shape))) * 0.02).astype(dtype))

    q_dim, kv_dim = m.heads * m.head_dim, m.heads_kv * m.head_dim
    tensor("token_embd.weight", m.emb, m.vocab)
    tensor("output_norm.weight", m.emb, dtype=F32)
    if not m.tied_output:
        tensor("output.weight", m.emb, m.vocab)
    if m.arch == "mamba2":
        _mamba2(tensor, m)
    for i in range(0 if m.arch == "mamba2" else m.blocks):
        p = f"blk.{i}."
        tensor(p + "attn_norm.weight", m.emb, dtype=F32)
        tensor(p + "attn_q.weight", m.emb, q_dim)
        tensor(p + "attn_k.weight", m.emb, kv_dim)
        tensor(p + "attn_v.weight", m.emb, kv_dim)
        tensor(p + "attn_output.weight", q_dim, m.emb)
        if m.qkv_bias:
            tensor(p + "attn_q.bias", q_dim, dtype=F32)
            tensor(p + "attn_k.bias", kv_dim, dtype=F32)
            tensor(p + "attn_v.bias", kv_dim, dtype=F32)
        if m.qk_norm:
            tensor(p + "attn_q_norm.weight", m.head_dim, dtype=F32)
            tensor(p + "attn_k_norm.weight", m.head_dim, dtype=F32)
        if m.post_norms:
            tensor(p + "post_attention_norm.weight", m.emb, dtype=F32)
            tensor(p + "post_ffw_norm.weight", m.emb, dtype=F32)
        if m.experts:
            _experts(tensor, p, m)
            continue
        tensor(p + "ffn_norm.weight", m.emb, dtype=F32)
        tensor(p + "ffn_gate.weight", m.emb, m.ff)
        tensor(p + "ffn_up.weight", m.emb, m.ff)
        tensor(p + "ffn_down.weight", m.ff, m.emb)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _mamba2(tensor: Callable[..., None], m: Tiny) -> None:
    """Mamba-2 layers (models/mamba2.cpp): input projection, causal conv, SSM parameters, gated norm, output."""
    conv, inner, state, heads = (m.extra[f"mamba2.ssm.{k}"] for k in ("conv_kernel", "inner_size", "state_size",
                                                                      "time_step_rank"))
    groups = m.extra["mamba2.ssm.group_count"]
    conv_dim = inner + 2 * groups * state
    for i in range(m.blocks):
        p = f"blk.{i}."
        tensor(p + "attn_norm.weight", m.emb, dtype=F32)
        tensor(p + "ssm_in.weight", m.emb, inner + conv_dim + heads)
        tensor(p + "ssm_conv1d.weight", conv, conv_dim, dtype=F32)
        tensor(p + "ssm_conv1d.bias", conv_dim, dtype=F32)
        tensor(p + "ssm_dt.bias", heads, dtype=F32)
        tensor(p + "ssm_a", 1, heads, dtype=F32)
        tensor(p + "ssm_d", 1, heads, dtype=F32)
        tensor(p + "ssm_norm.weight", inner // groups, groups, dtype=F32)
        tensor(p + "ssm_out.weight", inner, m.emb)


def _experts(tensor: Callable[..., None], p: str, m: Tiny) -> None:
    """gpt-oss's layer: post-attention norm, sinks, a router and biased experts (models/openai-moe.cpp)."""
    tensor(p + "post_attention_norm.weight", m.emb, dtype=F32)
    tensor(p + "attn_sinks.weight", m.heads, dtype=F32)
    tensor(p + "attn_output.bias", m.emb, dtype=F32)
    tensor(p + "ffn_gate_inp.weight", m.emb, m.experts, dtype=F32)
    tensor(p + "ffn_gate_inp.bias", m.experts, dtype=F32)
    tensor(p + "ffn_gate_exps.weight", m.emb, m.ff, m.experts)
    tensor(p + "ffn_up_exps.weight", m.emb, m.ff, m.experts)
    tensor(p + "ffn_down_exps.weight", m.ff, m.emb, m.experts)
    tensor(p + "ffn_gate_exps.bias", m.ff, m.experts, dtype=F32)
    tensor(p + "ffn_up_exps.bias", m.ff, m.experts, dtype=F32)
    tensor(p + "ffn_down_exps.bias", m.emb, m.experts, dtype=F32)


def _vocab(w: gguf.GGUFWriter, size: int) -> None:
    """A SentencePiece-style vocabulary: <unk>, <s>, </s>, the 256 byte tokens, then plain pieces."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581t{i}" for i in range(size - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (size - 259)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([-float(i) for i in range(size)])
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
