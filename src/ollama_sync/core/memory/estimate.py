"""Memory arithmetic: what one model costs at given settings, by Ollama era (weights, KV cache, graph, overhead).

Eras (shared/reference/ollama-server-facts.md §0, §3), each checked against ollama/ollama source:
* legacy (≤ v0.12.10; Ollama-engine models only ≤ v0.11.10): `llm/memory.go estimateGPULayers` +
  `fs/ggml/ggml.go GraphSize` at v0.12.10, reproduced exactly;
* ollama-engine (v0.11.11 for Ollama-engine models, all models v0.12.11 – v0.24.x): the runner measures real
  allocations; the KV cache here is what `kvcache/causal.go Init` allocates (padding 256, real ggml type
  sizes, sliding windows), the graph is the legacy formula as an estimate;
* llama-server (≥ v0.30.0, and an unknown release): what llama.cpp allocates (core/memory/llama_cpp.py: weights,
  KV caches at the requested type with llama.cpp's padding and sliding windows, recurrent state, output and
  compute buffers), with Ollama's pre-flight `llm/llama_server.go PredictServerVRAM` (file size + f16 KV) beside
  it, since that figure decides evictions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from ollama_sync.core.memory.compute_split import ComputeParts, compute_parts
from ollama_sync.core.memory.graph import MIB, GraphInput, graph_size
from ollama_sync.core.memory.llama_cpp import Allocation, ServerParams, allocation
from ollama_sync.core.memory.model_info import ModelInfo
from ollama_sync.core.memory.rules import DEFAULT_BATCH, OLLAMA_ENGINE_ARCHS, Effective
from ollama_sync.core.version import Version, v

LLAMA_SERVER_FROM: Final = v("0.30.0")
OLLAMA_ENGINE_ALL_FROM: Final = v("0.12.11")
OLLAMA_ENGINE_DEFAULT_FROM: Final = v("0.11.11")
GEMMA3_GLOBAL_EVERY: Final = 6  # every 6th gemma3 layer attends globally
GPTOSS_LEGACY_WINDOW: Final = 4096  # GraphSize's fixed window for gpt-oss even layers
CACHE_PADDING: Final = 256  # ml/backend/ggml CacheConfig
# Bytes per element as the legacy estimate counts them (kvCacheBytesPerElement), as a fraction.
LEGACY_BPE: Final[dict[str, tuple[int, int]]] = {"f16": (2, 1), "q8_0": (1, 1), "q4_0": (1, 2), "f32": (4, 1)}
# Real ggml storage per element (block bytes / block elements).
REAL_BPE: Final[dict[str, tuple[int, int]]] = {
    "f32": (4, 1), "f16": (2, 1), "bf16": (2, 1), "q8_0": (34, 32), "q4_0": (18, 32), "q4_1": (20, 32),
    "iq4_nl": (18, 32), "q5_0": (22, 32), "q5_1": (24, 32)}


class Era(StrEnum):
    """Which of Ollama's memory-planning rules apply."""

    LEGACY = "legacy"
    OLLAMA_ENGINE = "ollama-engine"
    LLAMA_SERVER = "llama-server"

    @property
    def description(self) -> str:
        """One line naming the rules and where they come from."""
        return {
            "legacy": "legacy estimator (llm/memory.go + GraphSize, ≤ v0.12.10): reproduced exactly",
            "ollama-engine": "Ollama-engine layouts (v0.12.11–v0.24.x): KV as allocated, graph estimated",
            "llama-server": ("llama-server (≥ v0.30.0): llama.cpp's allocation (KV exact against llama.cpp "
                             "b11312; compute buffer estimated), Ollama's pre-flight beside it"),
        }[self.value]


class Device(StrEnum):
    """Where the model would run: Apple GPU (Metal), another GPU, or the CPU only."""

    METAL = "metal"
    GPU = "gpu"
    CPU = "cpu"


def era_for(version: Version | None, architecture: str = "") -> Era:
    """The era whose rules apply to this release (None: the newest) and model architecture."""
    if version is None or version >= LLAMA_SERVER_FROM:
        return Era.LLAMA_SERVER
    if version >= OLLAMA_ENGINE_ALL_FROM:
        return Era.OLLAMA_ENGINE
    if version >= OLLAMA_ENGINE_DEFAULT_FROM and architecture in OLLAMA_ENGINE_ARCHS:
        return Era.OLLAMA_ENGINE
    return Era.LEGACY


@dataclass(frozen=True)
class Estimate:
    """One model's memory at given settings; total = weights + kv + graph + overhead."""

    era: Era
    device: Device
    weights: int
    kv: int
    graph: int
    overhead: int  # Ollama's minimum GPU reserve, one-layer buffer and OLLAMA_GPU_OVERHEAD
    kv_per_layer: tuple[int, ...]
    layer_weights: tuple[int, ...]
    output_weights: int
    kv_allocated: int | None = None  # llama-server era: what llama.cpp allocates at the requested KV type
    preflight: int | None = None  # llama-server era: Ollama's PredictServerVRAM (decides evictions)
    server: Allocation | None = None  # llama-server era: llama.cpp's buffers (KV caches, output, compute)
    projector: int = 0  # a vision model's projector weights (its own blob, or v./mm. tensors)
    projector_compute: int = 0  # llama-server era: the projector's compute buffer (core/memory/projector.py)
    cpu_weights: int = 0  # weights llama.cpp always keeps in system memory (the token embedding)
    graph_partial: int = 0  # legacy: GraphSize's partial-offload graph (several GPUs use it for every GPU)
    layer_buffer: int = 0  # legacy: the one-layer buffer reserved on every GPU used (blk.0 + its KV)
    gpu_overhead: int = 0  # OLLAMA_GPU_OVERHEAD, reserved on every GPU
    compute_parts: ComputeParts | None = None  # llama-server era: the compute buffer's parts, split per device

    @property
    def total(self) -> int:
        """Everything this era allocates (or, legacy/engine eras, counts) for this model."""
        return self.weights + self.kv + self.graph + self.overhead + self.projector + self.projector_compute


def estimate(info: ModelInfo, eff: Effective, era: Era, device: Device, *, gpu_overhead: int = 0,
             version: Version | None = None, projector: int = 0, projector_compute: int = 0) -> Estimate:
    """The memory estimate for one model at the effective settings, by era (version: the Ollama release).

    projector: a separate projector blob's weights; projector_compute: its compute buffer (llama-server era).
    """
    match era:
        case Era.LEGACY:
            return _legacy(info, eff, device, gpu_overhead, version)
        case Era.OLLAMA_ENGINE:
            return _ollama_engine(info, eff, device, gpu_overhead)
        case Era.LLAMA_SERVER:
            return replace(_llama_server(info, eff, device, projector), projector_compute=projector_compute)


def legacy_kv(info: ModelInfo, eff: Effective) -> tuple[int, ...]:
    """Per-layer KV bytes exactly as GraphSize (v0.12.10) computes them."""
    num, den = LEGACY_BPE.get(eff.kv_type, (2, 1))
    ctx = eff.context * eff.parallel
    k_plus_v = info.key_length + info.value_length
    kv = []
    for heads, heads_kv in zip(info.head_count, info.head_count_kv, strict=True):
        if heads > 0 and heads_kv > 0:
            kv.append(ctx * k_plus_v * heads_kv * num // den)
        else:
            kv.append(_recurrent(info))
    if info.architecture == "gemma3":
        window = eff.parallel * info.sliding_window + eff.batch
        kv = [x if (i + 1) % GEMMA3_GLOBAL_EVERY == 0 else window * k_plus_v * info.head_count_kv_max * num // den
              for i, x in enumerate(kv)]
    elif info.architecture in ("gptoss", "gpt-oss"):
        per_token = k_plus_v * info.head_count_kv_max * num // den
        kv = [per_token * (eff.parallel * GPTOSS_LEGACY_WINDOW + eff.batch if i % 2 == 0 else ctx)
              for i in range(info.block_count)]
    return tuple(kv)


def _recurrent(info: ModelInfo) -> int:
    """A recurrent (SSM) layer's state in f32, independent of the context."""
    conv, inner, state, groups = info.ssm
    rows = (conv - 1) * (inner + 2 * groups * state) if conv > 0 else 0
    return (rows + state * inner) * 4


def _generic_kv_total(info: ModelInfo, eff: Effective) -> int:
    """GraphSize's kvTotal before the architecture overrides (feeds gpt-oss's graph formula)."""
    num, den = LEGACY_BPE.get(eff.kv_type, (2, 1))
    ctx = eff.context * eff.parallel
    return sum(ctx * (info.key_length + info.value_length) * hk * num // den if h > 0 and hk > 0 else _recurrent(info)
               for h, hk in zip(info.head_count, info.head_count_kv, strict=True))


def _legacy_graph(info: ModelInfo, eff: Effective, kv_total: int, device: Device,
                  version: Version | None = None) -> int:
    return _legacy_graphs(info, eff, kv_total, device, version)[1]


def _legacy_graphs(info: ModelInfo, eff: Effective, kv_total: int, device: Device,
                   version: Version | None = None) -> tuple[int, int]:
    """(partial, full) as estimateGPULayers uses them (0, 0 on the CPU)."""
    generic = _generic_kv_total(info, eff) if info.architecture in ("gptoss", "gpt-oss") else kv_total
    g = GraphInput(eff.context * eff.parallel, eff.batch, eff.parallel, generic, eff.flash_attention, version)
    partial, full = graph_size(info, g)
    if partial == 0:
        partial = info.head_count_max // max(info.head_count_kv_min, 1) * kv_total // 6
    if full == 0:
        full = partial
    if device is Device.METAL:  # Metal uses the full-offload graph for partial loads too
        partial = full
    return (partial, full) if device is not Device.CPU else (0, 0)


def minimum_memory(device: Device) -> int:
    """Ollama's per-GPU minimum reserve (ml.DeviceInfo.MinimumMemory): 512 MiB on Metal, 457 MiB elsewhere."""
    return {Device.METAL: 512 * MIB, Device.GPU: 457 * MIB, Device.CPU: 0}[device]


def _legacy(info: ModelInfo, eff: Effective, device: Device, gpu_overhead: int, version: Version | None) -> Estimate:
    kv = legacy_kv(info, eff)
    kv_total = sum(kv)
    partial, graph = _legacy_graphs(info, eff, kv_total, device, version)
    overhead = layer0 = 0
    if device is not Device.CPU:  # one-layer buffer + minimum reserve, as estimateGPULayers allocates
        layer0 = (info.layer_bytes[0] if info.layer_bytes else 0) + (kv[0] if kv else 0)
        overhead = minimum_memory(device) + layer0 + gpu_overhead
    return Estimate(Era.LEGACY, device, info.weights_bytes + info.vision_bytes, kv_total, graph, overhead, kv,
                    info.layer_bytes, info.output_bytes + info.vision_bytes, graph_partial=partial,
                    layer_buffer=layer0, gpu_overhead=gpu_overhead)


def allocated_kv(info: ModelInfo, eff: Effective) -> tuple[int, ...]:
    """Per-layer KV bytes as the Ollama engine's cache allocates them (kvcache.Causal.Init, padding 256)."""
    num, den = REAL_BPE.get(eff.kv_type, (2, 1))
    full_cells = _round_up(eff.parallel * eff.context, CACHE_PADDING)
    window_cells = full_cells
    if info.sliding_window and info.architecture in ("gemma3", "gptoss", "gpt-oss"):
        memory = info.sliding_window + (1 if eff.parallel > 1 else 0)
        if memory < eff.context:
            window_cells = _round_up(eff.parallel * memory + eff.batch, CACHE_PADDING)
    kv = []
    for i, (heads, heads_kv) in enumerate(zip(info.head_count, info.head_count_kv, strict=True)):
        if heads == 0 or heads_kv == 0:
            kv.append(_recurrent(info))
            continue
        cells = window_cells if _is_sliding(info.architecture, i) else full_cells
        kv.append(cells * (info.key_length + info.value_length) * heads_kv * num // den)
    return tuple(kv)


def _is_sliding(architecture: str, layer: int) -> bool:
    if architecture == "gemma3":
        return (layer + 1) % GEMMA3_GLOBAL_EVERY != 0
    return architecture in ("gptoss", "gpt-oss") and layer % 2 == 0


def _round_up(n: int, to: int) -> int:
    return (n + to - 1) // to * to


def _ollama_engine(info: ModelInfo, eff: Effective, device: Device, gpu_overhead: int) -> Estimate:
    kv = allocated_kv(info, eff)
    graph = _legacy_graph(info, eff, sum(kv), device)
    overhead = minimum_memory(device) + gpu_overhead if device is not Device.CPU else 0
    return Estimate(Era.OLLAMA_ENGINE, device, info.weights_bytes + info.vision_bytes, sum(kv), graph, overhead, kv,
                    info.layer_bytes, info.output_bytes + info.vision_bytes)


def predicted_kv(info: ModelInfo, eff: Effective) -> int:
    """PredictServerVRAM's KV term: 2 × layers × min kv heads × (embedding / max heads) × context × 2 (f16)."""
    head_dim = info.embedding_length // info.head_count_max if info.head_count_max > 0 else 0
    return 2 * info.block_count * max(info.head_count_kv_min, 1) * head_dim * eff.context * eff.parallel * 2


def server_params(eff: Effective) -> ServerParams:
    """What Ollama passes to llama-server for these settings (llm/llama_server.go startLlamaServer)."""
    return ServerParams(eff.context * eff.parallel, eff.parallel, eff.kv_type, eff.flash_attention,
                        DEFAULT_BATCH, DEFAULT_BATCH)


def _llama_server(info: ModelInfo, eff: Effective, device: Device, projector: int) -> Estimate:
    """llama.cpp's allocation (core/memory/llama_cpp.py) with Ollama's pre-flight figure beside it."""
    params = server_params(eff)
    alloc = allocation(info, params)
    preflight = info.file_size + predicted_kv(info, eff) + projector
    # The output layer on a device: output_norm + output, or a copy of token_embd when the output is tied.
    output = info.output_bytes
    cpu_weights = info.token_embd_bytes if device is not Device.CPU else 0
    weights = info.tensor_bytes - info.vision_bytes + (info.token_embd_bytes if info.output_tied and
                                                        device is not Device.CPU else 0)
    inline_projector = info.vision_bytes
    return Estimate(Era.LLAMA_SERVER, device, weights, alloc.kv, alloc.compute, alloc.output, alloc.kv_per_layer,
                    info.layer_bytes, output, kv_allocated=alloc.kv, preflight=preflight, server=alloc,
                    projector=projector + inline_projector, cpu_weights=cpu_weights,
                    compute_parts=compute_parts(info, params))
