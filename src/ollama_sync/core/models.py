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


# Ollama's model name rules (types/model/name.go: ParseNameBare, isValidLen, isValidPart):
# [scheme://][host/][namespace/]model[:tag][@digest]; every part starts with a letter, digit or `_`
# and holds letters, digits, `_`, `-`, `.` (not in a namespace) and `:` (only in a host);
# a host is at most 350 bytes, every other part at most 80.
_PART_MAX: Final = {"host": 350, "namespace": 80, "model": 80, "tag": 80}


def model_name_problem(name: str) -> str | None:
    """Why the server would refuse name as a model name, or None when it is valid."""
    if not name:
        return "is empty"
    rest = name.split("://", 1)[1] if name.startswith(("http://", "https://")) else name
    rest, _, digest = rest.partition("@")
    tag = None
    if rest.rfind(":") > rest.rfind("/"):
        rest, tag = rest.rsplit(":", 1)
    parts = rest.split("/")
    if len(parts) > 3:  # host, namespace, model
        return "has more than three /-separated parts (host/namespace/model)"
    kinds = ("host", "namespace", "model")[3 - len(parts):]
    named = [*zip(kinds, parts, strict=True), *([("tag", tag)] if tag is not None else [])]
    for kind, part in named:
        problem = _part_problem(kind, part)
        if problem:
            return f"has an invalid {kind} {part!r}: {problem}"
    if digest and not all(c.isalnum() or c in "-:" for c in digest):
        return f"has an invalid digest {digest!r}"
    return None


def _part_problem(kind: str, part: str) -> str | None:
    if not part:
        return "it is empty"
    if len(part.encode()) > _PART_MAX[kind]:
        return f"longer than {_PART_MAX[kind]} bytes"
    if not _is_word_byte(part[0]):
        return "it must start with a letter, a digit or _"
    allowed = "_-" + ("" if kind == "namespace" else ".") + (":" if kind == "host" else "")
    bad = next((c for c in part[1:] if not (_is_word_byte(c) or c in allowed)), None)
    return f"{bad!r} is not allowed" if bad is not None else None


def _is_word_byte(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")
