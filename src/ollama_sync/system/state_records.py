"""The records kept in the state directory: generations of the service file and the transaction journal.

Apart from system/state.py so that a no-op apply, which only looks for a journal, does not define them.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Generation:
    """One recorded version of the service file."""

    number: int
    time: float  # seconds since the epoch
    hash: str
    source: str  # the declaration it was rendered from, or how it got here ("found on disk", "rollback to 3")
    result: str  # "ok", "backup", "in progress", "rolled back: …", "failed: …", "interrupted: …"
    path: str
    backend: str
    environment: dict[str, str] | None = None  # declared variables; None: unknown (a file found on disk)
    target: dict[str, Any] | None = None  # core.paths.Target fields, so rollback needs no declaration

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (no content)."""
        return asdict(self)


@dataclass(frozen=True)
class Journal:
    """The transaction in flight: what was on disk, what is being written, and how far it got."""

    phase: str  # begun → written → reloaded → healthy → verified → (removed); rolling-back
    target: dict[str, Any]  # core.paths.Target fields, so recovery needs no declaration
    old_generation: int | None  # None: there was no file before
    new_generation: int
    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=time.time)
