"""`ollama-sync apply`: the declaration → a verified running server, as one locked, journalled transaction.

validate → lock → (recover an interrupted transaction) → render and plan against the live service →
nothing to do: "up to date" → confirm → back up the file on disk as a generation → write atomically →
reload → wait until healthy → verify three views → record; any failure rolls back to the old generation.
Under --root the file and the state are written inside the root and no service manager is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ollama_sync.app.context import Context
from ollama_sync.app.look import Looked, look
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.app.retire import others_of_ours, retire, running_pid, unretire
from ollama_sync.core.findings import has_errors
from ollama_sync.core.observation import ServiceState
from ollama_sync.core.plan import Plan, StepKind, make_plan
from ollama_sync.core.settings import Backend
from ollama_sync.core.target import Target
from ollama_sync.errors import LockTimeout, OllamaSyncError
from ollama_sync.system.service import manager_for
from ollama_sync.system.state import StateStore, sha256

if TYPE_CHECKING:
    from ollama_sync.app.port_conflict import Conflict
    from ollama_sync.app.retire import Previous
    from ollama_sync.app.transaction import BringUp, Outcome, Transaction
    from ollama_sync.system.health import Progress
    from ollama_sync.system.state_records import Generation

SANDBOX_NOTE = "not reloaded: under --root no service manager is asked (the file and state are in the root)"
DISABLED_NOTE = "disabled: the service was stopped and its file removed (the old file is kept as a generation)"
Confirm = Callable[[Plan, Target], bool]


@dataclass(frozen=True)
class Recovery:
    """What was done about a transaction a killed process left behind."""

    action: str  # "finished" | "undone" | "discarded"
    phase: str  # how far it had got
    generation: int
    restore: BringUp | None = None

    @property
    def message(self) -> str:
        """One line for humans."""
        what = {"finished": "it had been verified; recorded it as applied",
                "undone": "restored the version before it",
                "discarded": "the file had not been written yet; nothing to undo"}[self.action]
        return f"recovered an interrupted apply (generation {self.generation}, stopped after {self.phase!r}): {what}"


@dataclass(frozen=True)
class ApplyResult:
    """What apply did."""

    prepared: Prepared
    plan: Plan
    outcome: Outcome | None = None  # the file was switched (or a switch was tried and rolled back)
    restart: BringUp | None = None  # the file was current; the server was (re)started from it
    recovered: Recovery | None = None
    cancelled: bool = False
    note: str = ""
    conflict: Conflict | None = None  # another server holds the declared address: nothing was touched
    retired: str = ""  # what happened to the previously managed service (label, scope or backend changed)

    @property
    def ok(self) -> bool:
        """True when the declared state is in place (or nothing had to change)."""
        if self.plan.blocked or self.cancelled or self.conflict is not None:
            return False
        if self.outcome is not None:
            return self.outcome.ok
        return self.restart is None or self.restart.ok


def apply(ctx: Context, *, backend: Backend | None = None, version_text: str | None = None,
          confirm: Confirm | None = None, timeout: float = 60.0, lock_timeout: float = 30.0,
          progress: Progress | None = None) -> ApplyResult:
    """Run the transaction; raises LockTimeout, ConfigError (unreadable input) and OllamaSyncError."""
    prepared = prepare(ctx, backend=backend, version_text=version_text)
    target = prepared.rendered.target
    if prepared.rendered.content is None or has_errors(prepared.findings):
        current = ctx.files.read_bytes(target.path)
        return ApplyResult(prepared, make_plan(prepared.rendered, current, prepared.findings,
                                               enabled=prepared.declaration.settings.enable))
    manager = None if ctx.sandboxed else manager_for(ctx, target.backend)
    store = StateStore(ctx.files, ctx.machine.state_dir)
    if not store.has_journal():  # read-only first look: a no-op needs neither the lock nor the transaction code
        looked = look(ctx, prepared, manager, store)
        if not looked.plan.has_changes:
            return ApplyResult(prepared, looked.plan)
    from ollama_sync.app.transaction import Transaction  # noqa: PLC0415  # only when something changes

    with store.lock(lock_timeout):
        tx = Transaction(ctx, store, target, manager, timeout=timeout, progress=progress)
        tx.reached("locked")
        recovered = recover_locked(ctx, store, timeout=timeout, progress=progress, declared=target)
        return _run(tx, prepared, look(ctx, prepared, manager, store), confirm, recovered)


def _run(tx: Transaction, prepared: Prepared, looked: Looked, confirm: Confirm | None,
         recovered: Recovery | None) -> ApplyResult:
    plan, current, live, env = looked.plan, looked.current, looked.live, looked.env
    if not plan.has_changes:
        return ApplyResult(prepared, plan, recovered=recovered)
    kinds = {step.kind for step in plan.steps}
    if tx.manager is not None and kinds & {StepKind.RELOAD, StepKind.START, StepKind.RESTART}:
        conflict = _conflict(tx, env, live, looked.previous)
        if conflict is not None:  # before asking and before touching anything
            return ApplyResult(prepared, plan, recovered=recovered, conflict=conflict)
    if confirm is not None and not confirm(plan, tx.target):
        return ApplyResult(prepared, plan, recovered=recovered, cancelled=True)
    note = SANDBOX_NOTE if tx.manager is None else ""
    old_pid = live.pid if live is not None else None
    retired = _retire(tx, looked.previous)
    if StepKind.WRITE in kinds:
        assert plan.new is not None
        old = tx.backup(current, live, plan.foreign_file)
        outcome = tx.switch(plan.new, env, prepared.declaration.source, old=old, old_pid=old_pid,
                            reload=StepKind.RELOAD in kinds, note=note)
        back = _unretire(tx, retired) if not outcome.ok else ""
        return ApplyResult(prepared, plan, outcome=outcome, recovered=recovered, note=note,
                           retired=back or _retired_note(retired))
    if kinds & {StepKind.STOP, StepKind.REMOVE}:
        _disable(tx, current, live, plan)
        return ApplyResult(prepared, plan, recovered=recovered, note=DISABLED_NOTE, retired=_retired_note(retired))
    if tx.manager is None:
        return ApplyResult(prepared, plan, recovered=recovered, note=note, retired=_retired_note(retired))
    restart = tx.bring_up(env, old_pid if StepKind.RESTART in kinds else None, None)
    return ApplyResult(prepared, plan, restart=restart, recovered=recovered, retired=_retired_note(retired))


def _conflict(tx: Transaction, env: dict[str, str], live: ServiceState | None,
              previous: Previous | None) -> Conflict | None:
    """Another server on the declared address (our own server, and the one about to be retired, are fine)."""
    from ollama_sync.app.port_conflict import find_conflict, process_tree  # noqa: PLC0415  # 25 ms (psutil): only when a start failed on a taken port
    from ollama_sync.core.verify import declared_address  # noqa: PLC0415  # 10 ms (verification): as above

    pids = [live.pid if live is not None else None]
    if previous is not None:
        pids.append(running_pid(tx.ctx, previous.target))
    skip = [tx.target] + ([previous.target] if previous is not None else [])
    return find_conflict(tx.ctx, tx.target, declared_address(env), process_tree(pids),
                         others_of_ours(tx.ctx, tx.store, skip))


def _retire(tx: Transaction, previous: Previous | None) -> Generation | None:
    if previous is None:
        return None

    return retire(tx.ctx, tx.store, previous)


def _unretire(tx: Transaction, retired: Generation | None) -> str:
    if retired is None:
        return ""

    return unretire(tx.ctx, tx.store, retired, timeout=tx.timeout)


def _retired_note(retired: Generation | None) -> str:
    if retired is None:
        return ""
    return f"retired the previous service ({retired.source.removeprefix('retired: ')}; kept as generation " \
           f"{retired.number})"


def _disable(tx: Transaction, current: bytes | None, live: ServiceState | None, plan: Plan) -> None:
    """enable = false: keep the file as a generation, stop the service, remove the file."""
    tx.backup(current, live, plan.foreign_file)
    if tx.manager is not None and any(s.kind is StepKind.STOP for s in plan.steps):
        tx.manager.stop(tx.target)
    if current is not None:
        tx.ctx.files.remove(tx.target.path)


def recover(ctx: Context, *, lock_timeout: float = 0.0, timeout: float = 60.0, progress: Progress | None = None,
            declared: Target | None = None) -> Recovery | None:
    """Finish or undo a transaction a killed apply left behind (None: there was none, or one is running).

    declared: the target the current declaration resolves to (the journal must name it or a recorded one).
    """
    store = StateStore(ctx.files, ctx.machine.state_dir)
    if store.journal() is None:
        return None
    try:
        with store.lock(lock_timeout):
            return recover_locked(ctx, store, timeout=timeout, progress=progress, declared=declared)
    except LockTimeout:
        return None  # a live transaction holds the lock: its journal is not stale


def recover_locked(ctx: Context, store: StateStore, *, timeout: float, progress: Progress | None = None,
                   declared: Target | None = None) -> Recovery | None:
    """recover(), with the lock already held."""
    from ollama_sync.app.transaction import trusted_target  # noqa: PLC0415  # only when a journal exists

    journal = store.journal()
    if journal is None:
        for gen in store.generations():  # killed between recording a generation and journalling it
            if gen.result == "in progress":
                store.set_result(gen.number, "interrupted before the file was written")
        return None
    target = trusted_target(store, journal, declared)
    try:
        new = store.generation(journal.new_generation)
    except OllamaSyncError:
        store.clear_journal()
        return None
    if journal.phase == "verified":
        store.set_result(new.number, "ok")
        store.clear_journal()
        return Recovery("finished", journal.phase, new.number)
    on_disk = ctx.files.read_bytes(target.path)
    if journal.phase == "begun" and sha256(on_disk) != new.hash:
        store.set_result(new.number, "interrupted before the file was written")
        store.clear_journal()
        return Recovery("discarded", journal.phase, new.number)
    from ollama_sync.app.transaction import Transaction  # noqa: PLC0415  # only when there is something to undo

    manager = None if ctx.sandboxed else manager_for(ctx, target.backend)
    if journal.phase == "begun":
        manager = None  # written but never loaded: putting the old bytes back is enough
    tx = Transaction(ctx, store, target, manager, timeout=timeout, progress=progress)
    old = store.generation(journal.old_generation) if journal.old_generation is not None else None
    restore = tx.restore(old)
    store.set_result(new.number, f"interrupted after {journal.phase!r}; undone")
    store.clear_journal()
    return Recovery("undone", journal.phase, new.number, restore)
