"""Text and JSON for transaction results (apply, rollback, recovery): what changed, what failed, what was undone."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from ollama_sync.cli.output import colour_diff, print_findings
from ollama_sync.errors import UsageError

if TYPE_CHECKING:  # types only: a no-op apply does not load the transaction code
    from ollama_sync.app.apply import Recovery
    from ollama_sync.app.port_conflict import Conflict
    from ollama_sync.app.transaction import BringUp, Outcome
    from ollama_sync.core.plan import Plan
    from ollama_sync.core.target import Target


def progress(message: str) -> None:
    """Progress while waiting: stderr, so stdout (and --json) stays clean."""
    click.echo(click.style(message, dim=True), err=True)


def ask(plan: Plan, target: Target, *, yes: bool, show: bool, where: str | None = None) -> bool:
    """Show the plan, then confirm (refusing at once when there is no terminal to ask on and no --yes)."""
    if show:
        print_plan(plan, target, where)
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("apply needs a confirmation and there is no terminal to ask on",
                         hint="run `ollama-sync apply --yes` after reviewing `ollama-sync plan`")
    return click.confirm("apply these changes?", default=False, err=True)


def print_plan(plan: Plan, target: Target, where: str | None = None) -> None:
    """The findings, the diff and the steps (where: the file's real path, inside the root under --root)."""
    where = where or plan.path
    if plan.findings:
        print_findings(plan.findings)
    click.echo(click.style(f"{target.backend.value} service {target.name!r} → {where}", bold=True))
    if plan.foreign_file:
        click.echo(click.style(f"{where} was not written by ollama-sync: a copy is kept in the state "
                               "directory before it is replaced", fg="yellow"))
    diff = plan.diff()
    if diff:
        click.echo(colour_diff(diff), nl=False)
    for step in plan.steps:
        click.echo(f"  - {step.kind.value}: {step.reason}")


def print_bring_up(label: str, attempt: BringUp, *, err: bool = False) -> None:
    """One start: healthy and verified, or what failed, with the server's own error lines."""
    if attempt.ok:
        pid = f" (pid {attempt.pid})" if attempt.pid else ""
        reason = attempt.health.reason if attempt.health else ""
        click.echo(click.style(f"{label}: healthy{pid}", fg="green") + (f"; {reason}" if reason else ""), err=err)
        _print_warnings(attempt, err=err)
        if attempt.verification is not None:
            checked = [c.view.value for c in attempt.verification.checks if c.checked]
            click.echo(f"  verified: {', '.join(checked) or 'nothing could be read'}", err=err)
            if attempt.verification.unknown:
                click.echo(click.style("  not known to this server (absent from its `server config`): "
                                       + ", ".join(attempt.verification.unknown), fg="yellow"), err=err)
        return
    click.echo(click.style(f"{label}: {attempt.failed_step} failed: {attempt.reason}", fg="red"), err=True)
    for line in attempt.log_lines:
        click.echo(f"  log: {line}", err=True)
    if attempt.hint:
        click.echo(f"  hint: {attempt.hint}", err=True)
    _print_warnings(attempt, err=True)


def _print_warnings(attempt: BringUp, *, err: bool) -> None:
    """What the manager warns about even when the server is up (launchd: not back after a reboot)."""
    state = attempt.health.state if attempt.health else None
    for warning in state.warnings if state else ():
        click.echo(click.style(f"  warning: {warning}", fg="yellow"), err=err)


def print_conflict(conflict: Conflict) -> None:
    """Another server holds the declared address: who, and the command that frees it."""
    click.echo(click.style(f"apply stopped before changing anything: {conflict.message}", fg="red", bold=True),
               err=True)
    for holder in conflict.holders:
        click.echo(f"  fix: {holder.fix}", err=True)


def print_outcome(outcome: Outcome, where: str | None = None) -> None:
    """A switch: the generation recorded, and rollback if there was one (where: the file's real path)."""
    gen = outcome.generation
    if outcome.attempt is not None:
        print_bring_up("new server", outcome.attempt, err=not outcome.ok)
    if outcome.note:
        click.echo(outcome.note)
    if outcome.ok:
        click.echo(click.style(f"applied: generation {gen.number} ({gen.hash[:12]}) written to {where or gen.path}",
                               fg="green", bold=True))
        return
    if outcome.restored is None:
        click.echo(click.style("no previous version: the new service was stopped and its file removed "
                               f"(kept as generation {gen.number})", fg="red", bold=True), err=True)
    else:
        click.echo(f"rolled back to generation {outcome.restored.number} ({outcome.restored.hash[:12]})", err=True)
        if outcome.restore is not None:
            print_bring_up("previous server", outcome.restore, err=True)
    click.echo(click.style(f"apply failed: {gen.result}", fg="red", bold=True), err=True)


def print_recovery(recovery: Recovery | None) -> None:
    """The interrupted transaction that was dealt with first, if any."""
    if recovery is not None:
        click.echo(click.style(recovery.message, fg="yellow"), err=True)
        if recovery.restore is not None:
            print_bring_up("restored server", recovery.restore)


def bring_up_json(attempt: BringUp | None) -> dict[str, Any] | None:
    """A BringUp as JSON."""
    if attempt is None:
        return None
    return {"ok": attempt.ok, "failed_step": attempt.failed_step, "reason": attempt.reason or None,
            "pid": attempt.pid, "elapsed": round(attempt.health.elapsed, 3) if attempt.health else None,
            "verification": attempt.verification.to_json() if attempt.verification else None,
            "log": list(attempt.log_lines), "hint": attempt.hint or None,
            "warnings": list(attempt.health.state.warnings) if attempt.health and attempt.health.state else []}


def outcome_json(outcome: Outcome | None) -> dict[str, Any] | None:
    """An Outcome as JSON."""
    if outcome is None:
        return None
    return {"ok": outcome.ok, "generation": outcome.generation.to_json(), "attempt": bring_up_json(outcome.attempt),
            "rolled_back_to": outcome.restored.number if outcome.restored else None,
            "restore": bring_up_json(outcome.restore), "note": outcome.note or None}


def recovery_json(recovery: Recovery | None) -> dict[str, Any] | None:
    """A Recovery as JSON."""
    if recovery is None:
        return None
    return {"action": recovery.action, "phase": recovery.phase, "generation": recovery.generation,
            "message": recovery.message, "restore": bring_up_json(recovery.restore)}
