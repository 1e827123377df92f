"""What llama.cpp's llama-server allocates for a model (Ollama ≥ v0.30.0 runs it for every GGUF model).

Rules read from llama.cpp b11312 (`0c1e57098`, the revision llama-cpp-python 0.3.36 bundles, which the oracle
tests load) and checked against the files Ollama's newest release vendors (v0.32.15 pins `LLAMA_CPP_VERSION`
b10488; v0.30.0 pinned b9452):

* context (`src/llama-context.cpp` constructor): `n_ctx` is padded to 256; without a unified KV cache (Ollama
  passes `-np N`, so llama-server does not unify) each of the N streams gets `n_ctx_seq = pad(n_ctx / N, 256)`
  cells and `n_ctx = n_ctx_seq × N`.
* KV cache (`src/llama-kv-cache.cpp`): per layer a K tensor `[n_embd_head_k × n_head_kv(il), cells, streams]`
  and a V tensor alike, at the cache types; without flash attention V is stored transposed and every layer
  uses the largest V width. Each tensor's bytes = ggml_row_size(type, width) × cells × streams.
* sliding-window layers (`src/llama-kv-cache-iswa.cpp`): a second cache of
  `pad(min(n_ctx_seq, n_swa + n_ubatch), 256)` cells per stream holds the SWA layers; which layers slide comes
  from `{arch}.attention.sliding_window_pattern` or the architecture's default period (`src/models/*.cpp`
  `load_swa_pattern`: gemma2 2, gemma3 6, cohere2 4, gpt-oss 2, …; a layer slides when
  `il % period < period - 1`).
* recurrent layers (`src/llama-memory-recurrent.cpp`): per recurrent layer an f32 R (conv) and an S (SSM)
  state of `n_embd_r` and `n_embd_s` values per sequence, whatever the context (`src/llama-hparams.cpp`:
  mamba/mamba-2 and the hybrids on them `(d_conv − 1)·(d_inner + 2·n_group·d_state)` and `d_state·d_inner`;
  lfm2's short convolution `(shortconv.l_cache − 1)·n_embd` and no S state; rwkv6/rwkv7
  `token_shift_count·n_embd` and `n_embd·wkv.head_size`).
* hybrid models (`llm_arch_is_hybrid`, `src/llama-memory-hybrid.cpp`): a KV cache for the attention layers
  (filter_attn) beside the recurrent state for the others (filter_recr), both created in
  `llama_model::create_memory` (`src/llama-model.cpp`). Which layers are which comes from each
  `src/models/<arch>.cpp` load_arch_hparams: granitehybrid, jamba, lfm2, plamo2 … — a layer with
  `head_count_kv` 0 is recurrent; nemotron_h — recurrent when both `head_count_kv` and `feed_forward_length` are
  0, attention when only `feed_forward_length` is 0, the rest are MLP-only layers holding neither; falcon-h1 —
  every layer holds both; qwen3next/qwen35 — `attention.recurrent_layers`, else every layer but each
  `full_attention_interval`-th (default 4) is recurrent.
* output buffer (`llama_context::output_reserve`): the logits of one token per sequence,
  `n_vocab × n_seq × 4` bytes at start-up.
* compute buffer: what ggml-alloc reserves for the worst-case graph (a full micro-batch against the whole
  cache); not a closed formula in llama.cpp, so this module estimates it from the tensors that are alive at
  once (see `compute_buffer`) and the oracle tests state the measured error.
* `--fit` (`common/fit.cpp`, on by default; Ollama sets the context itself, so only layers move): each GPU
  keeps `LLAMA_ARG_FIT_TARGET` (default 1024 MiB) free; devices are filled from the last one, layers from the
  output layer backwards, as many as fit; the token embedding stays in system memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.memory.model_info import ModelInfo

MIB: Final = 1024 * 1024
LLAMA_CPP_REVISION: Final = "b11312 (0c1e57098)"  # the oracle's llama.cpp: llama-cpp-python 0.3.36
OLLAMA_LLAMA_CPP: Final = (("0.30.0", "b9452"), ("0.32.15", "b10488"))  # LLAMA_CPP_VERSION by Ollama release
CTX_PAD: Final = 256
FIT_TARGET: Final = 1024 * MIB  # common_params.fit_params_target default, per device
TENSOR_ALIGNMENT: Final = 32  # ggml CPU buffer alignment
DEFAULT_UBATCH: Final = 512
# ggml block (elements, bytes) for the cache types llama-server accepts (common/arg.cpp kv_cache_types).
CACHE_TYPES: Final[dict[str, tuple[int, int]]] = {
    "f32": (1, 4), "f16": (1, 2), "bf16": (1, 2), "q8_0": (32, 34), "q4_0": (32, 18), "q4_1": (32, 20),
    "iq4_nl": (32, 18), "q5_0": (32, 22), "q5_1": (32, 24)}
# Architectures with sliding-window layers: (default period, default window or 0 = from the metadata).
SWA_ARCHS: Final[dict[str, tuple[int, int]]] = {
    "gemma2": (2, 4096), "gemma3": (6, 0), "cohere2": (4, 0), "gpt-oss": (2, 0), "gptoss": (2, 0),
    "exaone4": (4, 0), "gemma3n": (5, 0)}
# llm_arch_is_recurrent (src/llama-arch.cpp): every layer holds recurrent state, none a KV cache
RECURRENT_ARCHS: Final = frozenset({"mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7"})
# Hybrid architectures (llm_arch_is_hybrid) whose layers are not simply "head_count_kv 0 = recurrent":
PARALLEL_HYBRID_ARCHS: Final = frozenset({"falcon-h1"})  # every layer: attention and mamba-2 side by side
MLP_HYBRID_ARCHS: Final = frozenset({"nemotron_h", "nemotron_h_moe"})  # mamba-2, attention and MLP-only layers
INTERVAL_HYBRID_ARCHS: Final = frozenset({"qwen3next", "qwen35", "qwen35moe"})  # gated delta net + full attention
DEFAULT_FULL_ATTENTION_INTERVAL: Final = 4  # models/qwen3next.cpp


@dataclass(frozen=True)
class ServerParams:
    """What Ollama passes to llama-server: `-c num_ctx×N -np N -b/-ub num_batch --cache-type-k/v T --flash-attn`."""

    n_ctx: int  # total over all sequences
    n_seq: int = 1
    cache_type: str = "f16"
    flash_attention: bool = True
    n_batch: int = DEFAULT_UBATCH
    n_ubatch: int = DEFAULT_UBATCH
    kv_unified: bool = False

    @property
    def batch(self) -> int:
        """n_batch after llama.cpp's cap at the context (causal attention)."""
        return min(self.context_cells, self.n_batch)

    @property
    def ubatch(self) -> int:
        """The micro-batch the worst-case graph is reserved for."""
        return min(self.batch, self.n_ubatch)

    @property
    def seq_cells(self) -> int:
        """Cells per stream: n_ctx_seq."""
        n_ctx = _pad(max(self.n_ctx, 1), CTX_PAD)
        if self.kv_unified:
            return n_ctx
        return _pad(n_ctx // max(self.n_seq, 1), CTX_PAD)

    @property
    def streams(self) -> int:
        """Separate KV streams: one per sequence unless unified."""
        return 1 if self.kv_unified else max(self.n_seq, 1)

    @property
    def context_cells(self) -> int:
        """n_ctx after padding: cells over all streams."""
        return self.seq_cells * self.streams


@dataclass(frozen=True)
class KvPart:
    """One KV cache as llama.cpp logs it: `size = … MiB (cells, layers, seqs), K (type): …, V (type): …`."""

    name: str  # "non-SWA" or "SWA"
    cells: int
    layers: tuple[int, ...]
    streams: int
    k_bytes: int
    v_bytes: int

    @property
    def total(self) -> int:
        """K and V together."""
        return self.k_bytes + self.v_bytes


@dataclass(frozen=True)
class Allocation:
    """Everything llama-server allocates for one model at given parameters (system memory + devices)."""

    kv_parts: tuple[KvPart, ...]
    recurrent: int
    output: int
    compute: int
    kv_per_layer: tuple[int, ...]

    @property
    def kv(self) -> int:
        """KV caches plus recurrent state."""
        return sum(p.total for p in self.kv_parts) + self.recurrent


@dataclass(frozen=True)
class ComputeMoments:
    """The worst-case graph's peaks on one backend: masks (alive through every layer), one layer, the output."""

    masks: int
    layer: int
    output: int
    masks_swa: int = 0  # the sliding-window mask (included in masks)
    kq_swa_saving: int = 0  # without flash attention: how much smaller a sliding-window layer's KQ scores are
    ffn: int = 0  # the FFN moment (a layer's floor)


def row_bytes(cache_type: str, width: int) -> int:
    """ggml_row_size: bytes of one row of `width` elements."""
    block, size = CACHE_TYPES.get(cache_type, CACHE_TYPES["f16"])
    return width // block * size


def swa_layers(info: ModelInfo) -> tuple[bool, ...]:
    """Which layers use the sliding window (llama_hparams::set_swa_pattern, dense_first = false)."""
    n = info.block_count
    if info.architecture not in SWA_ARCHS or window(info) == 0:
        return (False,) * n
    pattern = info.sliding_window_pattern
    if len(pattern) > 1:  # an explicit per-layer array
        return tuple(bool(pattern[i]) if i < len(pattern) else False for i in range(n))
    period = pattern[0] if pattern else SWA_ARCHS[info.architecture][0]
    return tuple(period == 0 or i % period < period - 1 for i in range(n))


def window(info: ModelInfo) -> int:
    """The sliding window in tokens (0: none)."""
    if info.architecture not in SWA_ARCHS:
        return 0
    return info.sliding_window or SWA_ARCHS[info.architecture][1]


def recurrent_layers(info: ModelInfo) -> tuple[bool, ...]:
    """Layers holding recurrent state (llama_hparams::is_recr, set per architecture by load_arch_hparams)."""
    n, arch = info.block_count, info.architecture
    if arch in RECURRENT_ARCHS or arch in PARALLEL_HYBRID_ARCHS:
        return (True,) * n
    if arch in INTERVAL_HYBRID_ARCHS:  # an explicit per-layer array, else every `interval`-th layer attends
        if info.recurrent_layer_flags:
            return tuple(bool(x) for x in _expand(info.recurrent_layer_flags, n))
        interval = info.full_attention_interval or DEFAULT_FULL_ATTENTION_INTERVAL
        return tuple((i + 1) % interval != 0 for i in range(n))
    if arch in MLP_HYBRID_ARCHS:  # no KV heads and no MLP: a mamba layer
        ff = _expand(info.feed_forward_per_layer or (info.feed_forward_length,), n)
        return tuple(hk == 0 and f == 0 for hk, f in zip(info.head_count_kv, ff, strict=True))
    # granitehybrid, jamba, lfm2, lfm2moe, plamo2, …: a layer without KV heads is recurrent
    return tuple(h == 0 or hk == 0 for h, hk in zip(info.head_count, info.head_count_kv, strict=True))


def attention_layers(info: ModelInfo) -> tuple[bool, ...]:
    """Layers with a KV cache (llama_memory_hybrid's filter_attn, src/llama-model.cpp create_memory).

    Usually the layers that are not recurrent; falcon-h1 runs attention and mamba-2 side by side in every layer
    (both caches hold every layer), nemotron_h has MLP-only layers (feed_forward_length > 0) that hold neither.
    """
    n, arch = info.block_count, info.architecture
    if arch in RECURRENT_ARCHS:
        return (False,) * n
    if arch in PARALLEL_HYBRID_ARCHS:
        return (True,) * n
    recurrent = recurrent_layers(info)
    if arch in MLP_HYBRID_ARCHS:
        ff = _expand(info.feed_forward_per_layer or (info.feed_forward_length,), n)
        return tuple(not r and f == 0 for r, f in zip(recurrent, ff, strict=True))
    return tuple(not r for r in recurrent)


def _expand(values: tuple[int, ...], n: int) -> tuple[int, ...]:
    """A key read with get_key_or_arr: one value for every layer, or one per layer (0 past the array's end)."""
    if len(values) == 1:
        return values * n
    return tuple(values[i] if i < len(values) else 0 for i in range(n))


def recurrent_state_widths(info: ModelInfo) -> tuple[int, int]:
    """(n_embd_r, n_embd_s): f32 values per sequence of a recurrent layer's R (conv) and S (SSM) state.

    llama_hparams::n_embd_r / n_embd_s: rwkv keeps `token_shift_count × n_embd` and `n_embd × wkv.head_size`;
    lfm2's short convolution keeps the last `l_cache − 1` inputs,
    `(l_cache − 1) × n_embd`, and no S state; mamba, mamba-2 and the hybrids built on them (and qwen3next's gated
    delta net, whose GGUF states its sizes in the same ssm.* keys) keep `(d_conv − 1) × (d_inner + 2·n_group·d_state)`
    and `d_state × d_inner`.
    """
    conv, inner, state, groups = info.ssm
    if info.wkv_head_size:  # rwkv6/rwkv7: the token shifts and the WKV state
        return info.token_shift_count * info.embedding_length, info.embedding_length * info.wkv_head_size
    if info.shortconv_l_cache:
        r = info.embedding_length * (info.shortconv_l_cache - 1)
    else:
        r = (conv - 1) * (inner + 2 * groups * state) if conv > 0 else 0
    return r, state * inner


def kv_parts(info: ModelInfo, p: ServerParams) -> tuple[KvPart, ...]:
    """The KV caches llama.cpp creates: one for full-attention layers, one more for sliding-window layers."""
    attending = attention_layers(info)
    sliding = swa_layers(info)
    attn = [i for i in range(info.block_count) if attending[i]]
    full = tuple(i for i in attn if not sliding[i])
    swa = tuple(i for i in attn if sliding[i])
    base_cells = p.seq_cells
    parts = [_part("non-SWA" if swa else "", info, p, full, base_cells)] if full or not swa else []
    if swa:
        per_stream = window(info) * (p.n_seq if p.kv_unified else 1) + p.ubatch
        parts.append(_part("SWA", info, p, swa, _pad(min(base_cells, per_stream), CTX_PAD)))
    return tuple(x for x in parts if x.layers)


def _part(name: str, info: ModelInfo, p: ServerParams, layers: tuple[int, ...], cells: int) -> KvPart:
    v_trans = not p.flash_attention
    v_max = info.value_length * info.head_count_kv_max  # n_embd_v_gqa_max: over all layers, not only this cache's
    k = v = 0
    for i in layers:
        k_width = info.key_length * info.head_count_kv[i]
        v_width = v_max if v_trans else info.value_length * info.head_count_kv[i]
        k += _pad(row_bytes(p.cache_type, k_width) * cells * p.streams, TENSOR_ALIGNMENT)
        v += _pad(row_bytes(p.cache_type, v_width) * cells * p.streams, TENSOR_ALIGNMENT)
    return KvPart(name, cells, layers, p.streams, k, v)


def recurrent_bytes(info: ModelInfo, p: ServerParams) -> tuple[int, ...]:
    """Per layer: the f32 R and S state tensors, one row per sequence (0 on layers without recurrent state).

    llama_memory_recurrent allocates `[n_embd_r, max(1, n_seq)]` and `[n_embd_s, max(1, n_seq)]` per recurrent
    layer (Ollama does not ask for rollback snapshots: n_rs_seq = 0), each tensor padded to the buffer alignment.
    """
    r, s = recurrent_state_widths(info)
    seqs = max(p.n_seq, 1)
    per_layer = _pad(r * 4 * seqs, TENSOR_ALIGNMENT) + _pad(s * 4 * seqs, TENSOR_ALIGNMENT)
    return tuple(per_layer if rec else 0 for rec in recurrent_layers(info))


def output_buffer(info: ModelInfo, p: ServerParams) -> int:
    """The logits buffer reserved at start-up: one row of n_vocab floats per sequence."""
    return info.vocab_size * max(p.n_seq, 1) * 4


def compute_buffer(info: ModelInfo, p: ServerParams) -> int:
    """The worst-case graph's buffer on one backend (estimate): the largest set of f32 tensors alive at once.

    llama.cpp reserves the graph of one full micro-batch (t = n_ubatch tokens, as many outputs) against a whole
    stream of cells (n_kv). ggml-alloc reuses freed memory greedily, so the buffer is close to the largest of
    three moments: inside attention (the KQ mask(s) — f16 with flash attention, f32 without — plus the layer's
    activations, plus without flash attention the f32 KQ scores `n_kv × t × n_head`) or, on recurrent layers,
    inside the mamba-2 block (`_recurrent_block`), inside the FFN (mask(s) still alive, gate/up/activation
    `3 × n_ff × t`), and at the output (`n_vocab × t` logits). The oracle tests measure how far this is from
    llama.cpp (tests/oracle, bench/bench_memory_oracle.py).
    """
    m = compute_moments(info, p)
    return max(m.masks + m.layer, m.output)


def compute_moments(info: ModelInfo, p: ServerParams) -> ComputeMoments:
    """The three moments compute_buffer takes the largest of, apart, so that each backend can take its own."""
    t = p.ubatch
    n_kv = p.seq_cells  # a sequence attends to its own stream's cells
    emb, heads = info.embedding_length, info.head_count_max
    q_width = info.key_length * heads
    kv_width = max(info.key_length, info.value_length) * info.head_count_kv_max
    ff = info.expert_feed_forward_length * max(info.expert_used_count, 1) if info.expert_count else \
        max(info.feed_forward_per_layer, default=info.feed_forward_length)  # nemotron_h: per layer, 0 = no MLP
    mask_bytes = 2 if p.flash_attention else 4
    recurrent = recurrent_layers(info)
    masks = attention = masks_swa = saving = 0
    if any(attention_layers(info)):
        masks = mask_bytes * n_kv * t
        if any(swa_layers(info)):
            swa_cells = _pad(min(n_kv, window(info) + t), CTX_PAD)
            masks_swa = mask_bytes * swa_cells * t
            masks += masks_swa
            saving = 0 if p.flash_attention else 4 * (n_kv - swa_cells) * t * heads
        attention = 4 * t * (3 * emb + 2 * q_width + 2 * kv_width) + (0 if p.flash_attention else 4 * n_kv * t * heads)
    if any(recurrent):  # falcon-h1 (models/falcon-h1.cpp) keeps the attention output alive through its mamba-2 block
        parallel = 4 * t * emb if info.architecture in PARALLEL_HYBRID_ARCHS else 0
        attention = max(attention, _recurrent_block(info, p) + parallel)
    ffn = 4 * t * (3 * ff + 3 * emb) if ff else 0
    output = 4 * t * info.vocab_size + 4 * t * 2 * emb
    return ComputeMoments(masks, max(attention, ffn), output, masks_swa, saving, ffn)


def _recurrent_block(info: ModelInfo, p: ServerParams) -> int:
    """The mamba-2 block at its largest (models/mamba-base.cpp build_mamba2_layer), estimated.

    Alive around the scan: the residual stream, the input projection `zxBCdt` (2·d_inner + 2·n_group·d_state +
    heads per token), the convolution's input and output (d_inner + 2·n_group·d_state each), the scan's output
    (d_inner per token plus the d_state × d_inner states of every sequence) and the gate. Fitted on the oracle's
    measurements of mamba-2 models of n_embd 256–512, d_inner 512–2048, d_state 64–128 and 1–3 sequences:
    `3·n_embd + 5·d_inner + 6·n_group·d_state` f32 per token plus one copy of the states, within −1 %…+4 %.
    lfm2's short convolution (3·n_embd per token through a kernel of l_cache) is smaller than its FFN.
    """
    _, inner, state, groups = info.ssm
    return 4 * p.ubatch * (3 * info.embedding_length + 5 * inner + 6 * groups * state) + 4 * state * inner * p.streams


def allocation(info: ModelInfo, p: ServerParams) -> Allocation:
    """Everything llama-server allocates for the model at these parameters."""
    parts = kv_parts(info, p)
    per_layer = [0] * info.block_count
    for part in parts:
        each = part.total // max(len(part.layers), 1)
        for i in part.layers:
            per_layer[i] += each
    rec = recurrent_bytes(info, p)
    per_layer = [a + b for a, b in zip(per_layer, rec, strict=True)]
    return Allocation(parts, sum(rec), output_buffer(info, p), compute_buffer(info, p), tuple(per_layer))


@dataclass(frozen=True)
class DevicePlacement:
    """What one device holds after `--fit`: layers (the output layer counts as one), bytes (compute included)."""

    name: str
    layers: int
    bytes: int
    budget: int
    compute: int = 0  # its own compute buffer (included in bytes), when estimated per device


# Per device compute buffers for a placement: unit counts per device (device order; the output layer is the first
# unit placed) -> bytes per device. core/memory/compute_split.py builds one from llama.cpp's scheduler rules.
DeviceCompute = Callable[[tuple[int, ...]], tuple[int, ...]]


def fit_layers(layer_bytes: Sequence[int], output_bytes: int, fixed_bytes: int,
               budgets: Sequence[tuple[str, int]], *, target: int = FIT_TARGET,
               compute: DeviceCompute | None = None) -> tuple[DevicePlacement, ...]:
    """`--fit` for a dense model: fill the last device first, the output layer and then layers from the back.

    layer_bytes: weights + KV per repeating layer; output_bytes: the output layer; fixed_bytes: what a device
    holding any layer also needs (one compute buffer for every device) unless `compute` gives each device its own
    buffer for the placement being tried — as `common/fit.cpp` measures each candidate with a dry run, the device
    being filled is charged the buffer it would have with the layers placed so far (the devices before it empty).
    budgets: (device name, free bytes), in device order.
    """
    units = [output_bytes, *reversed(layer_bytes)]  # the order llama.cpp offloads in
    counts = [0] * len(budgets)
    weights = [0] * len(budgets)
    next_unit = 0
    for d in range(len(budgets) - 1, -1, -1):
        limit = budgets[d][1] - target
        while next_unit < len(units):
            counts[d] += 1
            own = compute(tuple(counts))[d] if compute is not None else fixed_bytes
            if weights[d] + units[next_unit] + own > limit:
                counts[d] -= 1
                break
            weights[d] += units[next_unit]
            next_unit += 1
    # a device without layers still computes when it takes the CPU layers' large batches (op offload)
    final = compute(tuple(counts)) if compute is not None else tuple(fixed_bytes if c else 0 for c in counts)
    return tuple(DevicePlacement(name, counts[d], weights[d] + final[d], free, final[d])
                 for d, (name, free) in enumerate(budgets))


def _pad(n: int, to: int) -> int:
    return (n + to - 1) // to * to
