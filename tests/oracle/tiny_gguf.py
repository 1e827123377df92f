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
    # hybrid models, one letter per layer: A attention, M mamba-2, C short convolution (lfm2), F feed-forward only
    # (nemotron_h), H mamba-2 and attention side by side (falcon-h1), G gated delta net (qwen35).
    # Empty: every layer is A (M for mamba2).
    kinds: str = ""

    def kind(self, i: int) -> str:
        """Layer i's kind letter."""
        return self.kinds[i] if self.kinds else ("M" if self.arch == "mamba2" else "A")

    @property
    def heads_kv_per_layer(self) -> list[int]:
        """head_count_kv as the hybrid converters write it: 0 on layers without attention."""
        return [self.heads_kv if self.kind(i) in "AH" else 0 for i in range(self.blocks)]

    @property
    def ff_per_layer(self) -> list[int]:
        """feed_forward_length per layer (nemotron_h: 0 on mamba and attention layers)."""
        return [self.ff if self.kind(i) == "F" else 0 for i in range(self.blocks)]

    @property
    def name(self) -> str:
        """A short label for test ids."""
        return self.arch


def _ssm(arch: str, inner: int = 512) -> dict[str, int]:
    """Mamba-2 sizes: d_inner (2 × n_embd: granitehybrid asserts it), 8 SSM heads, one group of state 64."""
    keys = {"conv_kernel": 4, "inner_size": inner, "state_size": 64, "time_step_rank": 8, "group_count": 1}
    return {f"{arch}.ssm.{k}": v for k, v in keys.items()}


# The hybrids are wider (n_embd 512) with a smaller vocabulary, so that the recurrent block, not the logits, is the
# largest part of the compute buffer on most grid points: the compute test then checks the hybrid graph.
_HYBRID: dict[str, Any] = {"blocks": 6, "emb": 512, "heads": 8, "ff": 1024, "vocab": 4096}


MODELS: tuple[Tiny, ...] = (
    Tiny("llama"),
    Tiny("qwen2", qkv_bias=True),
    Tiny("qwen3", qk_norm=True),
    Tiny("gemma3", blocks=8, sliding_window=512, qk_norm=True, post_norms=True, tied_output=True),
    Tiny("gpt-oss", sliding_window=128, experts=4, experts_used=2, qkv_bias=True),
    Tiny("mistral3"),
    Tiny("mamba2", extra=_ssm("mamba2")),
    # IBM granite4 (granite-4.0-h-*): mamba-2 layers with an attention layer every few (head_count_kv 0 = mamba)
    Tiny("granitehybrid", kinds="MMAMMA", extra=_ssm("granitehybrid", 1024), **_HYBRID),
    # Liquid LFM2: short-convolution layers (state: (l_cache - 1) × n_embd) with a few attention layers
    Tiny("lfm2", kinds="CCACCA", qk_norm=True, tied_output=True, extra={"lfm2.shortconv.l_cache": 3}, **_HYBRID),
    # NVIDIA Nemotron-H: mamba-2, attention-only and MLP-only layers (per-layer head_count_kv and feed_forward_length)
    Tiny("nemotron_h", kinds="MFMAMF", extra=_ssm("nemotron_h", 1024), **_HYBRID),
    # TII Falcon-H1: every layer runs mamba-2 and attention in parallel (both caches hold every layer)
    Tiny("falcon-h1", kinds="HHHH", extra=_ssm("falcon-h1", 1024), **{**_HYBRID, "blocks": 4}),
    # Qwen3.5 (dense): gated delta net layers, full attention every full_attention_interval-th (default 4) layer;
    # d_inner = v heads × state (8 × 64), group_count = k heads
    Tiny("qwen35", kinds="GGGAGGGA", qk_norm=True, extra={**_ssm("qwen35"), "qwen35.ssm.group_count": 2},
         **{**_HYBRID, "blocks": 8}),
)


def write_tiny(path: Path, m: Tiny, seed: int = 0) -> Path:
    """Write the model as a complete GGUF file (header and random tensor data)."""
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), m.arch)
    w.add_block_count(m.blocks)
    w.add_context_length(m.ctx_train)
    w.add_embedding_length(m.emb)
    w.add_feed_forward_length(m.ff_per_layer if m.arch == "nemotron_h" else m.ff)
    w.add_head_count(m.heads)
    # the hybrids whose recurrent layers have no KV heads write them per layer; qwen35 counts layers by interval
    w.add_head_count_kv(m.heads_kv_per_layer if m.kinds and m.arch != "qwen35" else m.heads_kv)
    w.add_key_length(m.head_dim)
    w.add_value_length(m.head_dim)
    w.add_rope_dimension_count(m.head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    if m.arch == "nemotron_h":
        w.add_layer_norm_eps(1e-6)  # required by models/nemotron-h.cpp (the MTP head's norm)
    w.add_rope_freq_base(10000.0)
    if m.arch == "qwen35":
        w.add_rope_dimension_sections([11, 11, 10, 0])  # required by models/qwen35.cpp (M-RoPE)
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

    tensor("token_embd.weight", m.emb, m.vocab)
    # lfm2's loader names its final norm token_embd_norm (LLM_TENSOR_OUTPUT_NORM_LFM2)
    tensor("token_embd_norm.weight" if m.arch == "lfm2" else "output_norm.weight", m.emb, dtype=F32)
    if not m.tied_output:
        tensor("output.weight", m.emb, m.vocab)
    for i in range(m.blocks):
        _layer(tensor, f"blk.{i}.", m, m.kind(i))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _layer(tensor: Callable[..., None], p: str, m: Tiny, kind: str) -> None:
    """One block's tensors, by kind (see Tiny.kinds), as the architecture's load_arch_tensors requires them."""
    tensor(p + "attn_norm.weight", m.emb, dtype=F32)
    if kind in "MH":
        _mamba2(tensor, p, m)
    if kind in "AH":
        _attention(tensor, p, m)
    if kind == "G":
        _gated_delta_net(tensor, p, m)
    if m.arch == "qwen35":  # models/qwen35.cpp: the post-attention norm is the FFN's input norm, in every layer
        tensor(p + "post_attention_norm.weight", m.emb, dtype=F32)
    if kind == "C":  # models/lfm2.cpp: the short convolution (kernel l_cache over n_embd channels)
        tensor(p + "shortconv.conv.weight", m.extra["lfm2.shortconv.l_cache"], m.emb)
        tensor(p + "shortconv.in_proj.weight", m.emb, 3 * m.emb)
        tensor(p + "shortconv.out_proj.weight", m.emb, m.emb)
    if m.experts:
        _experts(tensor, p, m)
    elif kind == "F":  # models/nemotron-h.cpp: an MLP layer is up and down projections (squared ReLU), no gate
        tensor(p + "ffn_up.weight", m.emb, m.ff)
        tensor(p + "ffn_down.weight", m.ff, m.emb)
    elif m.arch not in ("mamba2", "nemotron_h"):
        if m.arch != "qwen35":
            # falcon-h1's loader asks for the FFN norm without the ".weight" suffix (tn(LLM_TENSOR_FFN_NORM, i))
            tensor(p + ("ffn_norm" if m.arch == "falcon-h1" else "ffn_norm.weight"), m.emb, dtype=F32)
        tensor(p + "ffn_gate.weight", m.emb, m.ff)
        tensor(p + "ffn_up.weight", m.emb, m.ff)
        tensor(p + "ffn_down.weight", m.ff, m.emb)


def _attention(tensor: Callable[..., None], p: str, m: Tiny) -> None:
    """Q, K, V and output projections, with the optional biases, QK norms and post-norms."""
    q_dim, kv_dim = m.heads * m.head_dim, m.heads_kv * m.head_dim
    tensor(p + "attn_q.weight", m.emb, q_dim * (2 if m.arch == "qwen35" else 1))  # qwen35: query and its gate
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


def _mamba2(tensor: Callable[..., None], p: str, m: Tiny) -> None:
    """A Mamba-2 mixer (models/mamba2.cpp, granite-hybrid.cpp, …): input projection, causal conv, SSM, output."""
    conv, inner, state, heads, groups = (m.extra[f"{m.arch}.ssm.{k}"] for k in (
        "conv_kernel", "inner_size", "state_size", "time_step_rank", "group_count"))
    conv_dim = inner + 2 * groups * state
    tensor(p + "ssm_in.weight", m.emb, inner + conv_dim + heads)
    tensor(p + "ssm_conv1d.weight", conv, conv_dim, dtype=F32)
    tensor(p + "ssm_conv1d.bias", conv_dim, dtype=F32)
    tensor(p + "ssm_dt.bias", heads, dtype=F32)
    tensor(p + "ssm_a", 1, heads, dtype=F32)
    tensor(p + "ssm_d", 1, heads, dtype=F32)
    tensor(p + "ssm_norm.weight", inner // groups, groups, dtype=F32)
    tensor(p + "ssm_out.weight", inner, m.emb)


def _gated_delta_net(tensor: Callable[..., None], p: str, m: Tiny) -> None:
    """qwen35's linear attention (models/qwen35.cpp): q, k (group_count heads) and v (time_step_rank heads) of
    state_size each through a causal conv, a gate, beta/alpha projections, and the output."""
    conv, state, v_heads, k_heads = (m.extra[f"{m.arch}.ssm.{k}"] for k in (
        "conv_kernel", "state_size", "time_step_rank", "group_count"))
    value_dim = state * v_heads
    conv_dim = 2 * state * k_heads + value_dim
    tensor(p + "attn_qkv.weight", m.emb, conv_dim)
    tensor(p + "attn_gate.weight", m.emb, value_dim)
    tensor(p + "ssm_conv1d.weight", conv, conv_dim, dtype=F32)
    tensor(p + "ssm_dt.bias", v_heads, dtype=F32)
    tensor(p + "ssm_a", v_heads, dtype=F32)
    tensor(p + "ssm_beta.weight", m.emb, v_heads)
    tensor(p + "ssm_alpha.weight", m.emb, v_heads)
    tensor(p + "ssm_norm.weight", state, dtype=F32)
    tensor(p + "ssm_out.weight", value_dim, m.emb)


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
