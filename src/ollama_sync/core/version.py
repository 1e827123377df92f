"""Ollama release numbers: parsing `ollama --version` / `/api/version` text and ordering releases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_VERSION: Final = r"(\d+)\.(\d+)\.(\d+)(?:-(rc\d+))?"  # compiled on use (re caches it)


@dataclass(frozen=True, order=True)
class Version:
    """A release number such as 0.12.11; release candidates sort before their final release.

    Ordered as the tuple of its fields: (0, 33, 0, False, 2) < (0, 33, 0, True, 0).
    """

    major: int
    minor: int
    patch: int
    final: bool = True  # False for "-rcN": v0.33.0-rc2 < v0.33.0
    rc: int = 0

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}.{self.patch}"
        return base if self.final else f"{base}-rc{self.rc}"


def parse_version(text: str) -> Version | None:
    """The first release number found in text (e.g. "ollama version is 0.5.7"), or None."""
    match = re.search(_VERSION, text)
    if match is None:
        return None
    major, minor, patch, rc = match.groups()
    if rc is None:
        return Version(int(major), int(minor), int(patch))
    return Version(int(major), int(minor), int(patch), final=False, rc=int(rc[2:]))


def v(text: str) -> Version:
    """A release number from a literal known to be valid (for tables in the catalog)."""
    parts = text.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):  # the tables' usual form, without the regex
        return Version(int(parts[0]), int(parts[1]), int(parts[2]))
    parsed = parse_version(text)
    if parsed is None:  # pragma: no cover - guards the tables, not user input
        raise ValueError(f"not a version: {text!r}")
    return parsed


def is_release_number(text: str) -> bool:
    """True when text is exactly a release number (0.12.3, v0.12.3, 0.13.0-rc1), nothing around it."""
    return re.fullmatch(r"v?" + _VERSION, text) is not None
