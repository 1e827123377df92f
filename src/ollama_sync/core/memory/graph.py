"""The compute-graph size of Ollama's legacy estimator (`fs/ggml/ggml.go GraphSize`, v0.12.10 form).

Returns (partial_offload, full_offload) in bytes for the architectures Ollama special-cases; (0, 0) for
the rest, which the caller replaces with Ollama's generic `gqa * kv_total / 6`. All integer arithmetic,
like the Go uint64 expressions it mirrors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ollama_sync.core.memory.model_info import ModelInfo
from ollama_sync.core.version import Version, v

MIB: Final = 1024 * 1024
# gpt-oss (ggml.go GraphSize): v0.11.0–v0.11.2 full = 4·heads/kv·kvTotal/6, partial = 2·full; v0.11.3–v0.11.4
# partial = full; from v0.11.5 only partial = 2·heads/kv·kvTotal/6 (full falls back to it).
GPTOSS_PARTIAL_EQUAL_FROM: Final = v("0.11.3")
GPTOSS_PARTIAL_ONLY_FROM: Final = v("0.11.5")
GPTOSS_FA_GRAPH_FROM: Final = v("0.11.8")  # "rough estimate of graph size with flash attention on"


@dataclass(frozen=True)
class GraphInput:
    """The graph formula's inputs: total context (× parallel), batch, and the model's dimensions."""

    context: int
    batch: int
    num_parallel: int
    kv_total: int
    flash_attention: bool
    release: Version | None = None  # the Ollama release (gpt-oss's formula changed within v0.11.x)


def graph_size(info: ModelInfo, g: GraphInput) -> tuple[int, int]:
    """(partial, full) graph bytes for the model's architecture; (0, 0) when Ollama has no formula."""
    emb, heads, heads_kv, vocab = info.embedding_length, info.head_count_max, info.head_count_kv_max, info.vocab_size
    head_dim = emb // info.head_count_min if info.head_count_min > 0 else 0
    k = info.key_length
    batch, ctx = g.batch, g.context
    match info.architecture:
        case "llama" | "llama4":
            return _llama(info, g, head_dim)
        case "gemma" | "gemma2" | "gemma3" | "gemma3n":
            full = max(4 * batch * (emb + vocab), 4 * batch * (2 + ctx + ctx * heads + 2 * emb + 2 * k * heads))
            partial = max(4 * emb * batch + emb * vocab * 105 // 128 + 4 * vocab * batch,
                          4 * batch * (2 * emb + 1 + 2 * k * heads + ctx + ctx * heads)
                          + 4 * k * ctx * 8 + emb * k * heads * 9 // 16)
            scale = 4 if info.architecture == "gemma3n" else 1
            return partial * scale, full * scale
        case "command-r":
            full = max(4 * batch * (emb + vocab), 4 * batch * (2 + 4 * emb + ctx * (1 + heads)))
            partial = max(4 * batch * (emb + vocab) + emb * vocab * 105 // 128,
                          4 * batch * (1 + 2 * emb + ctx * (1 + heads)) + 4 * emb * ctx + emb * emb * 9 // 16)
            return partial, full
        case "qwen2":
            full = max(4 * batch * (emb + vocab), 4 * batch * (1 + 2 * emb + ctx + ctx * heads))
            partial = max(4 * batch * (emb + vocab) + emb * vocab * 105 // 128,
                          4 * (batch * (1 + 2 * emb + ctx * (1 + heads)) + emb * (1 + ctx)))
            return partial, full
        case "phi2":
            full = max(4 * batch * (emb + vocab), 4 * batch * (1 + 4 * emb + ctx + ctx * heads))
            partial = max(4 * batch * (2 * emb + vocab) + emb * vocab * 105 // 128,
                          4 * batch * (2 + 3 * emb + ctx + ctx * heads))
            return partial, full
        case "stablelm":
            full = 4 * batch * (ctx * (1 + heads) + 3 * emb + 2)
            return max(4 * batch * (vocab + 2 * emb), full), full
        case "deepseek2":
            full = max(4 * batch * (3 * emb + vocab),
                       4 * batch * (3 * emb + 2 + ctx * (1 + heads_kv) + 2 * k * heads_kv))
            partial = max(4 * batch * (3 * emb + vocab) + emb * vocab * 105 // 128,
                          4 * batch * (2 * emb + 1 + 2 * k * heads_kv + ctx + ctx * heads_kv)
                          + 4 * k * ctx * heads_kv + emb * k * heads_kv * 9 // 16)
            return partial, full
        case "chatglm":
            return _chatglm(info, g)
        case "gptoss" | "gpt-oss":
            # Ollama computes this from kvTotal *before* its gpt-oss KV override (the generic per-layer sum).
            if g.release is not None and g.release < GPTOSS_PARTIAL_ONLY_FROM:  # v0.11.0–v0.11.4
                full = 4 * heads // max(info.head_count_kv_min, 1) * g.kv_total // 6
                return (2 * full if g.release < GPTOSS_PARTIAL_EQUAL_FROM else full), full
            partial = 2 * heads // max(info.head_count_kv_min, 1) * g.kv_total // 6
            if g.flash_attention and (g.release is None or g.release >= GPTOSS_FA_GRAPH_FROM):
                partial = (4 * g.num_parallel + (ctx >> 10) + 110) * MIB
            return partial, 0
    return 0, 0


def _llama(info: ModelInfo, g: GraphInput, head_dim: int) -> tuple[int, int]:
    emb, heads, heads_kv, vocab = info.embedding_length, info.head_count_max, info.head_count_kv_max, info.vocab_size
    batch, ctx = g.batch, g.context
    full = max(4 * batch * (1 + 4 * emb + ctx * (1 + heads)), 4 * batch * (emb + vocab))
    partial = 4 * batch * emb + max(
        4 * batch * (1 + emb + max(ctx, emb)) + emb * emb * 9 // 16
        + 4 * ctx * (batch * heads + head_dim * heads_kv),
        4 * batch * (emb + vocab) + emb * vocab * 105 // 128)
    if info.ffn_gate_exps_bytes:  # mixtral 8x22b layout
        ff = info.feed_forward_length
        partial = max(
            3 * info.ffn_gate_exps_bytes + 4 * batch * (2 * ff + heads_kv + emb + ctx + head_dim * heads_kv),
            4 * (ctx * batch * heads + ctx * head_dim * heads_kv + batch * 1024 + head_dim * heads_kv * batch))
    elif info.ffn_gate0_dim1:  # mixtral 8x7b layout
        f1 = info.ffn_gate0_dim1
        full = 4 * batch * (2 + 3 * emb + ctx * (1 + heads) + 2 * heads_kv + f1)
        partial = max(4 * batch * (3 + head_dim * heads_kv + emb + ctx * (1 + heads) + f1)
                      + (emb * emb + 3 * emb * heads_kv * f1) * 9 // 16,
                      4 * batch * (1 + 2 * emb + ctx * (1 + heads))
                      + emb * (6 * ctx * heads_kv // heads + emb * 9 // 16))
    return partial, full


def _chatglm(info: ModelInfo, g: GraphInput) -> tuple[int, int]:
    emb, heads, vocab, k = info.embedding_length, info.head_count_max, info.vocab_size, info.key_length
    batch, ctx = g.batch, g.context
    full = 4 * batch * (emb + vocab)
    partial = 4 * batch * (emb + vocab) + emb * vocab * 105 // 128
    bias = info.qkv_bias_dim0
    if bias:
        full = max(full, 4 * batch * (2 + 2 * emb + ctx + ctx * heads + k * heads + bias))
        partial = max(partial, 4 * batch * (1 + 2 * emb + k * heads + ctx + ctx * heads) + 4 * k * ctx
                      + 4 * ctx * k + 4 * bias)
    return partial, full
