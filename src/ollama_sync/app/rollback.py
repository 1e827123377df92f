"""`ollama-sync rollback [N]`: put generation N (default: the one before the current) back, through apply's steps.

The file is switched atomically, the service reloaded, health waited for and the generation's declared
environment verified; if that fails, the version that was on disk is restored, as in apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.app.apply import SANDBOX_NOTE, Recovery, recover_locked
from ollama_sync.app.context import Context
from ollama_sync.app.declaration import load
from ollama_sync.app.history import current_generation
from ollama_sync.app.target import resolve
from ollama_sync.app.transaction import Outcome, Transaction
from ollama_sync.core.render import is_ours
from ollama_sync.core.target import Target, target_from_json
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.health import Progress
from ollama_sync.system.service import manager_for
from ollama_sync.system.state import StateStore
from ollama_sync.system.state_records import Generation


@dataclass(frozen=True)
class RollbackResult:
    """The generation restored and how the switch went (outcome None: it is already on disk)."""

    chosen: Generation
    outcome: Outcome | None
    recovered: Recovery | None = None

    @property
    def ok(self) -> bool:
        """True when the chosen generation runs (or already ran)."""
        return self.outcome is None or self.outcome.ok


def rollback(ctx: Context, number: int | None = None, *, timeout: float = 60.0, lock_timeout: float = 30.0,
             progress: Progress | None = None) -> RollbackResult:
    """Restore generation number (default: the newest kept one that differs from the file on disk)."""
    store = StateStore(ctx.files, ctx.machine.state_dir)
    with store.lock(lock_timeout):
        recovered = recover_locked(ctx, store, timeout=timeout, progress=progress, declared=_declared(ctx))
        gens = store.generations()
        chosen = store.generation(number) if number is not None else _previous(ctx, gens)
        target = _target_of(ctx, chosen)
        current = ctx.files.read_bytes(target.path)
        if current is not None and current == store.content(chosen.number):
            return RollbackResult(chosen, None, recovered)
        manager = None if ctx.sandboxed else manager_for(ctx, target.backend)
        tx = Transaction(ctx, store, target, manager, timeout=timeout, progress=progress)
        live = manager.state(target) if manager is not None else None
        old = tx.backup(current, live, current is not None and not is_ours(current))
        outcome = tx.switch(store.content(chosen.number), chosen.environment,
                            f"rollback to generation {chosen.number}", old=old, old_pid=live.pid if live else None,
                            note=SANDBOX_NOTE if manager is None else "")
        return RollbackResult(chosen, outcome, recovered)


def _declared(ctx: Context) -> Target | None:
    """The target the declaration resolves to, when it can be read (recovery trusts a journal naming it)."""

    try:
        return resolve(ctx, load(ctx).declaration).target
    except OllamaSyncError:
        return None


def _previous(ctx: Context, gens: list[Generation]) -> Generation:
    """The newest generation before the current one that was running well (applied, or found running)."""
    current = current_generation(ctx, gens)
    below = [g for g in gens if current is None or g.number < current]
    for gen in reversed(below):
        if gen.result in ("ok", "backup"):
            return gen
    raise OllamaSyncError("no earlier generation to roll back to", hint="see `ollama-sync history`")


def _target_of(ctx: Context, gen: Generation) -> Target:
    """Where a generation goes: the target recorded with it, else the one the declaration resolves to."""
    if gen.target is not None:
        return target_from_json(gen.target)

    target = resolve(ctx, load(ctx).declaration).target
    if target.path != gen.path or target.backend.value != gen.backend:
        raise OllamaSyncError(f"generation {gen.number} is for {gen.backend} at {gen.path}, but the declaration "
                              f"now targets {target.backend.value} at {target.path}",
                              hint="roll back with the config that recorded it")
    return target
