"""The watcher's run log: one JSON line per `apply --yes` it ran, in `<state dir>/watch.log`.

Apart from app/watch.py so that `status`, which shows the newest run, loads none of the watching code.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import asdict, dataclass
from typing import Final

from ollama_sync.app.context import Context
from ollama_sync.system.state import ensure_state_dir

WATCH_LOG: Final = "watch.log"
KEEP_RECORDS: Final = 200


@dataclass(frozen=True)
class WatchRecord:
    """One watcher run: when, what started it, and how apply ended."""

    time: str  # ISO 8601, UTC
    trigger: str  # "launchd" | "systemd" | "foreground" | "once"
    ok: bool
    exit_code: int
    changed: bool
    message: str

    def to_json(self) -> dict[str, object]:
        """The record as a JSON object."""
        return asdict(self)


def watch_log_path(ctx: Context) -> str:
    """Where watcher runs are recorded."""
    return posixpath.join(ctx.machine.state_dir, WATCH_LOG)


def append_record(ctx: Context, record: WatchRecord) -> None:
    """Add a run, keeping the newest KEEP_RECORDS."""

    ensure_state_dir(ctx.files, ctx.machine.state_dir)
    path = watch_log_path(ctx)
    old = (ctx.files.read_text(path) or "").splitlines()[-(KEEP_RECORDS - 1):]
    text = "\n".join([*old, json.dumps(record.to_json(), sort_keys=True)]) + "\n"
    ctx.files.write_atomic(path, text.encode(), mode=0o600)


def read_records(ctx: Context) -> list[WatchRecord]:
    """Every recorded run, oldest first (lines that do not parse are skipped)."""
    records: list[WatchRecord] = []
    for line in (ctx.files.read_text(watch_log_path(ctx)) or "").splitlines():
        try:
            records.append(WatchRecord(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return records


def last_watch_result(ctx: Context) -> WatchRecord | None:
    """The newest watcher run (for `status`): None when the watcher never ran."""
    records = read_records(ctx)
    return records[-1] if records else None
