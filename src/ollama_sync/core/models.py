"""Declared models against installed ones: names compared the way the server names them (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

_DEFAULT_PREFIX: Final = "registry.ollama.ai/library/"


def model_key(name: str) -> str:
    """The name as `/api/tags` lists it: the default registry prefix dropped, `:latest` added when untagged."""
    name = name.strip().removeprefix(_DEFAULT_PREFIX)
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


@dataclass(frozen=True)
class ModelDiff:
    """What `models sync` does: pull the missing, keep the present, and (with --prune) remove the extra."""

    missing: tuple[str, ...]  # declared, not installed: pulled (as declared)
    present: tuple[str, ...]  # declared and installed
    extra: tuple[str, ...]  # installed, not declared: removed only with --prune
    kept: tuple[str, ...] = ()  # installed, not declared, never pruned: cloud models, safetensors/MLX models

    @property
    def in_sync(self) -> bool:
        """True when nothing is missing."""
        return not self.missing


def is_prunable(entry: Mapping[str, object]) -> bool:
    """An `/api/tags` entry stored here as GGUF weights: not a cloud model (remote_host/remote_model, Ollama
    ≥ 0.12) and not a safetensors/MLX model (details.format), which `--prune` leaves alone."""
    if entry.get("remote_host") or entry.get("remote_model"):
        return False
    details = entry.get("details")
    form = details.get("format") if isinstance(details, Mapping) else None
    return form in (None, "", "gguf")


def compare_models(declared: Iterable[str], installed: Iterable[str],
                   keep: Iterable[str] = ()) -> ModelDiff:
    """Declared names (in declared order, duplicates dropped) against the server's installed names.

    keep: installed names never offered for pruning (see is_prunable).
    """
    kept = {model_key(n) for n in keep}
    have = {model_key(n): n for n in installed}
    wanted: dict[str, str] = {}
    for name in declared:
        wanted.setdefault(model_key(name), name)
    return ModelDiff(
        missing=tuple(n for k, n in wanted.items() if k not in have),
        present=tuple(n for k, n in wanted.items() if k in have),
        extra=tuple(sorted(n for k, n in have.items() if k not in wanted and k not in kept)),
        kept=tuple(sorted(n for k, n in have.items() if k not in wanted and k in kept)),
    )
