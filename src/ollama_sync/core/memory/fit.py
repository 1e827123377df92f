"""Does an estimate fit this machine: on the GPU, partly spilled to the CPU, on the CPU only, or not at all.

Placement follows Ollama's legacy `estimateGPULayers` for one GPU: layers are placed from the last one down
while the GPU's budget holds the fixed part (graph, minimum reserve, one-layer buffer) plus the layers so far;
the output layer goes last. What does not fit runs on the CPU from system memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ollama_sync.core.memory.estimate import Device, Estimate


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


def loaded_together(totals: Sequence[int], max_loaded: int | None, host: HostMemory) -> tuple[int, int, bool]:
    """(models counted, their combined total, fits): the largest `max_loaded` models loaded at once.

    OLLAMA_MAX_LOADED_MODELS 0 or unset means 3 per GPU (3 on a CPU-only machine).
    """
    count = min(max_loaded or 3, len(totals))
    combined = sum(sorted(totals, reverse=True)[:count])
    budget = host.gpu_budget if host.gpu_budget is not None else host.available
    return count, combined, combined <= budget
