"""Does an estimate fit this machine: on the GPU, partly spilled to the CPU, on the CPU only, or not at all.

Placement by era:
* legacy / Ollama engine: `llm/memory.go estimateGPULayers` (v0.12.10). One GPU: layers from the last one down
  while the budget holds the fixed part (graph, minimum reserve, one-layer buffer) plus the layers so far, the
  output layer last. Several GPUs: the scheduler first tries the fewest GPUs (most free memory first) that hold
  the whole model, else all of them; each usable GPU reserves its minimum and a one-layer buffer, layers go
  round-robin (`gpusWithSpace[i % j]`) from the last one down, every GPU holding a layer adds the partial graph.
* llama-server: llama.cpp's `--fit` (core/memory/llama_cpp.py fit_layers): each device keeps 1 GiB free (more
  with a projector: Ollama sets LLAMA_ARG_FIT_TARGET to its weights + 1 GiB), the last device is filled first;
  the projector's weights and compute buffer go on the GPU with the model (mtmd's default, `--mmproj-offload`).
  Each device is charged its own compute buffer for the placement being tried, as `common/fit.cpp` measures it,
  and system memory the CPU's (core/memory/compute_split.py: one buffer per backend, llama.cpp b11312's scheduler).
What does not fit runs on the CPU from system memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from ollama_sync.core.memory.compute_split import device_compute, host_buffer_name, host_compute
from ollama_sync.core.memory.estimate import Device, Era, Estimate, minimum_memory
from ollama_sync.core.memory.llama_cpp import FIT_TARGET, MIB, DevicePlacement, fit_layers


@dataclass(frozen=True)
class Gpu:
    """One GPU: its device name as the server names it (CUDA0, ROCm0, MTL0), model name and memory in bytes."""

    device: str
    name: str
    total: int
    free: int
    source: str = ""


@dataclass(frozen=True)
class HostMemory:
    """This machine's memory: RAM total/available and, when there is one, the GPU's usable budget."""

    total: int
    available: int
    device: Device
    gpu_budget: int | None  # bytes the GPU may use (Apple: recommendedMaxWorkingSetSize); None without a GPU
    gpu_name: str = ""
    gpu_source: str = ""  # where the budget comes from, shown to the user
    unified: bool = False  # GPU memory is the system RAM (Apple Silicon)
    gpus: tuple[Gpu, ...] = ()  # every GPU, when probed (Linux); empty: one GPU of gpu_budget bytes


class Verdict(StrEnum):
    """The plain answer."""

    GPU = "fits on the GPU"
    SPILL = "spills to the CPU"
    CPU = "fits in RAM (CPU only)"
    NO = "does not fit"


@dataclass(frozen=True)
class Fit:
    """Where the model's layers would go."""

    verdict: Verdict
    gpu_layers: int  # layers (incl. the output layer) on the GPU
    layers: int  # block_count + 1 (the output layer)
    gpu_bytes: int
    cpu_bytes: int
    devices: tuple[DevicePlacement, ...] = ()  # per GPU: layers and bytes (several GPUs, or llama-server)
    host_compute: int = 0  # llama-server with GPUs: the CPU's own compute buffer (in cpu_bytes)
    host_name: str = ""  # how llama.cpp names that buffer: CUDA_Host, CPU, …
    compute: int | None = None  # llama-server with GPUs: every compute buffer as placed (devices + host)

    @property
    def total(self) -> int:
        """What this placement needs, GPUs and system memory together (with a split: each backend's compute)."""
        return self.gpu_bytes + self.cpu_bytes

    def graph(self, est: Estimate) -> int:
        """The compute buffers as placed; the estimate's one-backend figure when nothing is split."""
        return est.graph if self.compute is None else self.compute

    @property
    def spilled(self) -> int:
        """Layers left on the CPU."""
        return self.layers - self.gpu_layers

    @property
    def fits(self) -> bool:
        """True unless the model does not fit at all."""
        return self.verdict is not Verdict.NO

    def describe(self) -> str:
        """One short phrase: "fits on the GPU", "spills 12/33 layers to the CPU", …"""
        if self.verdict is Verdict.SPILL:
            return f"spills {self.spilled}/{self.layers} layers to the CPU"
        return self.verdict.value


def fit(est: Estimate, host: HostMemory) -> Fit:
    """Place the estimate on this machine's GPU budget, the rest in RAM."""
    layers = len(est.layer_weights) + 1
    if host.gpu_budget is None:
        verdict = Verdict.CPU if est.total <= host.available else Verdict.NO
        return Fit(verdict, 0, layers, 0, est.total)
    if est.era is Era.LLAMA_SERVER:
        return _fit_server(est, host)
    if len(host.gpus) > 1:
        return _fit_legacy_gpus(est, host)
    if est.total <= host.gpu_budget:
        return Fit(Verdict.GPU, layers, layers, est.total, 0)
    placed, gpu_bytes = _place(est, host.gpu_budget)
    cpu_bytes = est.total - gpu_bytes
    ram = host.available - (gpu_bytes if host.unified else 0)
    verdict = Verdict.SPILL if cpu_bytes <= ram else Verdict.NO
    return Fit(verdict, placed, layers, gpu_bytes, cpu_bytes)


def _place(est: Estimate, budget: int) -> tuple[int, int]:
    """Layers that fit under the budget, last layer first; (count, bytes on the GPU)."""
    units = [w + k for w, k in zip(est.layer_weights, est.kv_per_layer, strict=False)]
    fixed = est.graph + est.overhead
    if not units or budget < fixed + 2 * units[0]:  # Ollama skips a GPU that cannot hold a layer beyond the buffer
        return 0, 0
    used, placed = fixed, 0
    for size in reversed(units):
        if budget <= used + size:
            break
        used += size
        placed += 1
    if placed == len(units) and budget > used + est.output_weights:
        used += est.output_weights
        placed += 1
    return placed, used


def _devices(host: HostMemory) -> list[tuple[str, int]]:
    if host.gpus:
        return [(g.device, g.free) for g in host.gpus]
    return [(host.gpu_name or "GPU", host.gpu_budget or 0)]


def _verdict(est: Estimate, host: HostMemory, gpu_layers: int, gpu_bytes: int,
             devices: tuple[DevicePlacement, ...], *, cpu_bytes: int | None = None) -> Fit:
    layers = len(est.layer_weights) + 1
    cpu_bytes = est.total - gpu_bytes if cpu_bytes is None else cpu_bytes
    ram = host.available - (gpu_bytes if host.unified else 0)
    if gpu_layers >= layers:
        verdict = Verdict.GPU if cpu_bytes <= ram else Verdict.NO
    elif gpu_layers > 0:
        verdict = Verdict.SPILL if cpu_bytes <= ram else Verdict.NO
    else:
        verdict = Verdict.CPU if est.total <= host.available else Verdict.NO
    return Fit(verdict, gpu_layers, layers, gpu_bytes, cpu_bytes, devices)


def _fit_server(est: Estimate, host: HostMemory) -> Fit:
    """llama.cpp's --fit: layers (weights + KV) and the output layer on the devices, the token embedding in RAM."""
    target = FIT_TARGET if not est.projector else -(-(est.projector + FIT_TARGET) // MIB) * MIB
    units = [w + k for w, k in zip(est.layer_weights, est.kv_per_layer, strict=False)]
    parts = est.compute_parts
    budgets = _devices(host)
    placed = fit_layers(units, est.output_weights, est.graph, budgets, target=target,
                        compute=None if parts is None else device_compute(parts))
    gpu_layers = sum(p.layers for p in placed)
    gpu_bytes = sum(p.bytes for p in placed) + (est.projector + est.projector_compute if gpu_layers else 0)
    if parts is None:
        return _verdict(est, host, gpu_layers, gpu_bytes, placed)
    # each device carries its own compute buffer (in p.bytes); system memory carries the CPU's, not est.graph
    host_part = host_compute(parts, tuple(p.layers for p in placed))
    cpu_bytes = est.total - est.graph - (gpu_bytes - sum(p.compute for p in placed)) + host_part
    result = _verdict(est, host, gpu_layers, gpu_bytes, placed, cpu_bytes=cpu_bytes)
    return replace(result, host_compute=host_part, host_name=host_buffer_name(tuple(name for name, _ in budgets)),
                   compute=sum(p.compute for p in placed) + host_part)


def _fit_legacy_gpus(est: Estimate, host: HostMemory) -> Fit:
    """Several GPUs, legacy placement: the fewest GPUs that hold everything, else all of them round-robin."""
    gpus = sorted(_devices(host), key=lambda g: -g[1])  # the scheduler sorts by free memory, most first
    layers = len(est.layer_weights) + 1
    for count in range(1, len(gpus) + 1):
        placed = _round_robin(est, gpus[:count], host.device)
        if sum(p.layers for p in placed) == layers:
            break
    gpu_layers = sum(p.layers for p in placed)
    return _verdict(est, host, gpu_layers, sum(p.bytes for p in placed), tuple(placed))


def _round_robin(est: Estimate, gpus: list[tuple[str, int]], device: Device) -> list[DevicePlacement]:
    """estimateGPULayers (v0.12.10) over several GPUs; with more than one, the partial graph is used throughout."""
    graph = est.graph_partial if len(gpus) > 1 else est.graph
    minimum, overhead, buffer = minimum_memory(device), est.gpu_overhead, est.layer_buffer
    alloc = [0] * len(gpus)
    counts = [0] * len(gpus)
    space = [i for i, (_, free) in enumerate(gpus) if free >= overhead + graph + minimum + 2 * buffer]
    for i in space:
        alloc[i] += minimum + buffer
    units = [w + k for w, k in zip(est.layer_weights, est.kv_per_layer, strict=False)]
    placed_layers = 0
    for i in range(len(units) - 1, -1, -1):
        for j in range(len(space), 0, -1):
            g = space[i % j]
            if gpus[g][1] > overhead + alloc[g] + graph + units[i]:
                alloc[g] += units[i]
                counts[g] += 1
                placed_layers += 1
                break
            space.pop(i % j)
    for j in range(len(space), 0, -1):  # the output layer: tried on each GPU left, none removed
        g = space[placed_layers % j]
        if gpus[g][1] > overhead + alloc[g] + graph + est.output_weights:
            alloc[g] += est.output_weights
            counts[g] += 1
            break
    for g in range(len(gpus)):
        alloc[g] = alloc[g] + graph if counts[g] else 0
    return [DevicePlacement(name, counts[g], alloc[g], free) for g, (name, free) in enumerate(gpus)]


def loaded_together(totals: Sequence[int], max_loaded: int | None, host: HostMemory) -> tuple[int, int, bool]:
    """(models counted, their combined total, fits): the largest `max_loaded` models loaded at once.

    OLLAMA_MAX_LOADED_MODELS 0 or unset means 3 per GPU (3 on a CPU-only machine).
    """
    count = min(max_loaded or 3, len(totals))
    combined = sum(sorted(totals, reverse=True)[:count])
    budget = host.gpu_budget if host.gpu_budget is not None else host.available
    return count, combined, combined <= budget
