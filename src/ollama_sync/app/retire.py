"""Retiring the service ollama-sync managed before, when the label, scope or backend changed.

The previous service is the one the newest successful generation was applied to (its target is kept
with it), when that is another label, scope or backend and its file, written by ollama-sync, is still there. apply
retires it in the same transaction as the switch: keep its file as a generation, stop it, remove the
file; a switch that fails and is rolled back brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ollama_sync.app.context import Context
from ollama_sync.core.render import is_ours
from ollama_sync.core.target import Target, target_from_json, target_to_json
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.state import StateStore

if TYPE_CHECKING:
    from ollama_sync.system.state_records import Generation


@dataclass(frozen=True)
class Previous:
    """The previously managed service and the environment it was applied with."""

    target: Target
    environment: dict[str, str] | None


def previous_service(ctx: Context, store: StateStore, target: Target) -> Previous | None:
    """The service the newest generation was applied to, when it is another one whose file is still ours."""
    newest = store.newest(result="ok")  # the service the last successful apply left running
    if newest is None or newest.target is None:
        return None
    raw = newest.target
    if (raw.get("backend"), raw.get("scope"), raw.get("name"), raw.get("path")) == (
            target.backend.value, target.scope.value, target.name, target.path):
        return None  # the common case, decided without the transaction code (apply's no-op start-up)
    try:
        old = target_from_json(newest.target)
    except (KeyError, TypeError, ValueError):
        return None
    if _same_service(old, target):
        return None
    content = ctx.files.read_bytes(old.path)
    return Previous(old, newest.environment) if content is not None and is_ours(content) else None


def _same_service(a: Target, b: Target) -> bool:
    return (a.backend, a.scope, a.name, a.path) == (b.backend, b.scope, b.name, b.path)


def retire(ctx: Context, store: StateStore, previous: Previous) -> Generation | None:
    """Keep the old service's file as a generation, stop the service, remove the file (None: nothing there)."""
    old = previous.target
    from ollama_sync.system.service import manager_for  # noqa: PLC0415  # 3 ms: only the backend in use

    content = ctx.files.read_bytes(old.path)
    if content is None:
        return None
    gen = store.add(content, source=f"retired: {old.backend.value} service {old.name} ({old.path})",
                    result="retired (replaced by another label, scope or backend)", target=target_to_json(old),
                    environment=previous.environment)
    if not ctx.sandboxed:
        manager_for(ctx, old.backend).stop(old)
    ctx.files.remove(old.path)
    return gen


def unretire(ctx: Context, store: StateStore, gen: Generation, *, timeout: float) -> str:
    """Put a retired service back (after a failed switch); returns what happened, for the report."""
    from ollama_sync.app.transaction import Transaction  # noqa: PLC0415  # 77 ms (the transaction): only to bring a retired service back
    from ollama_sync.system.service import manager_for  # noqa: PLC0415  # as above

    assert gen.target is not None
    old = target_from_json(gen.target)
    manager = None if ctx.sandboxed else manager_for(ctx, old.backend)
    try:
        brought = Transaction(ctx, store, old, manager, timeout=timeout).restore(gen)
    except OllamaSyncError as exc:
        return f"the retired service {old.name} could not be restored: {exc.message}"
    if brought is not None and not brought.ok:
        return f"the retired service {old.name} was restored but is not healthy: {brought.reason}"
    return f"the retired service {old.name} was restored"


def running_pid(ctx: Context, old: Target) -> int | None:
    """The retired-to-be service's pid, when its manager reports one (its port is about to be freed)."""
    from ollama_sync.system.service import manager_for  # noqa: PLC0415  # 3 ms: only when an old service is looked at

    if ctx.sandboxed:
        return None
    try:
        return manager_for(ctx, old.backend).state(old).pid
    except OllamaSyncError:
        return None


def others_of_ours(ctx: Context, store: StateStore, skip: list[Target]) -> tuple[tuple[int, str, str], ...]:
    """(pid, name, stop command) for every process of the other services ollama-sync applied on this machine."""
    from ollama_sync.app.port_conflict import process_tree  # noqa: PLC0415  # 35 ms (psutil): only with other services of ours
    from ollama_sync.core.doctor.fixes import FixCommands  # noqa: PLC0415  # 1.4 ms: as above

    found: list[tuple[int, str, str]] = []
    seen: list[Target] = list(skip)
    for gen in reversed(store.generations()):
        try:
            other = target_from_json(gen.target) if gen.target is not None and gen.result == "ok" else None
        except (KeyError, TypeError, ValueError):
            other = None
        if other is None or any(_same_service(other, known) for known in seen):
            continue
        seen.append(other)
        pid = running_pid(ctx, other)
        stop = FixCommands(other, ctx.machine.uid).stop()
        found += [(each, f"{other.backend.value} {other.name}", stop) for each in process_tree([pid])]
    return tuple(found)

