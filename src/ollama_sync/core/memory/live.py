"""The running server's own figures next to the estimate: `/api/ps` `size` and `size_vram` per loaded model.

In the llama-server era `/api/ps` reports the buffers llama-server logged (`llm/llama_server.go MemorySize`),
in the Ollama-engine era what the runner allocated, in the legacy era Ollama's own estimate — so the
difference in percent shows, on every machine, how far `memory`'s estimate is from what the server says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

NOTE_THRESHOLD: Final = 0.20  # a difference above this is a note in doctor


@dataclass(frozen=True)
class LiveCheck:
    """One loaded model: what /api/ps says and what the estimate says."""

    name: str
    size: int
    size_vram: int
    context_length: int | None
    estimate: int
    estimate_gpu: int

    @property
    def difference(self) -> float:
        """(estimate − size) / size: positive when the estimate is larger."""
        return (self.estimate - self.size) / self.size if self.size else 0.0

    @property
    def noteworthy(self) -> bool:
        """True when the estimate is off by more than NOTE_THRESHOLD."""
        return abs(self.difference) > NOTE_THRESHOLD


def live_check(name: str, entry: Mapping[str, object], estimate: int, estimate_gpu: int) -> LiveCheck | None:
    """The comparison for one /api/ps entry; None when it lacks a usable size."""
    size, vram, ctx = entry.get("size"), entry.get("size_vram"), entry.get("context_length")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        return None
    return LiveCheck(name, size, vram if isinstance(vram, int) and not isinstance(vram, bool) else 0,
                     ctx if isinstance(ctx, int) and not isinstance(ctx, bool) else None, estimate, estimate_gpu)
