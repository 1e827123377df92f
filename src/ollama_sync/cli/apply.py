"""`ollama-sync apply`: plan, confirm, then the transaction; exit 0 applied or up to date, 1 failed, 2 usage."""

from __future__ import annotations

import click

from ollama_sync.app.apply import ApplyResult, apply
from ollama_sync.app.context import Context
from ollama_sync.cli.models import pull_after_apply
from ollama_sync.cli.options import Seconds, backend_option, lock_timeout_option, version_option
from ollama_sync.cli.outcome import (
    ask,
    bring_up_json,
    outcome_json,
    print_bring_up,
    print_conflict,
    print_outcome,
    print_recovery,
    progress,
    recovery_json,
)
from ollama_sync.cli.output import emit_json, print_findings, summary
from ollama_sync.core.settings import Backend
from ollama_sync.system.files import Files


@click.command(name="apply")
@backend_option
@version_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation after showing the plan.")
@click.option("--timeout", type=Seconds(min=0.1), default=60.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the server to answer after the reload.")
@lock_timeout_option
@click.option("--no-models", is_flag=True, help="Do not pull the declared models after a successful apply.")
@click.pass_obj
def command(ctx: Context, backend: str | None, version_text: str | None, yes: bool, timeout: float,  # noqa: PLR0917  # click passes options positionally
            lock_timeout: float, no_models: bool) -> int:
    """Write the service file, reload, wait until healthy and verify; roll back on any failure."""
    show = not ctx.options.json
    result = apply(ctx, backend=Backend(backend) if backend else None, version_text=version_text,
                   confirm=lambda plan, target: ask(plan, target, yes=yes, show=show,
                                                    where=ctx.files.location(target.path)),
                   timeout=timeout, lock_timeout=lock_timeout, progress=progress if show else None)
    if not ctx.options.json:
        _print(result, ctx.files)
    models_rc, models = 0, None
    if result.ok and not no_models and result.prepared.declaration.settings.models:

        models_rc, models = pull_after_apply(ctx, result.prepared)
    if ctx.options.json:
        emit_json("apply", {**_json(result), "models": models})
    return 0 if result.ok and models_rc == 0 else 1


def _json(result: ApplyResult) -> dict[str, object]:
    plan = result.plan
    target = result.prepared.rendered.target
    return {
        "ok": result.ok, "changed": plan.has_changes and not result.cancelled, "cancelled": result.cancelled,
        "backend": target.backend.value, "path": plan.path, "source": result.prepared.declaration.source,
        "steps": [{"kind": s.kind.value, "reason": s.reason} for s in plan.steps],
        "noop_reason": plan.noop_reason or None, "foreign_file": plan.foreign_file, "diff": plan.diff(),
        "findings": [f.to_json() for f in plan.findings], "outcome": outcome_json(result.outcome),
        "restart": bring_up_json(result.restart), "recovered": recovery_json(result.recovered),
        "note": result.note or None, "retired": result.retired or None,
        "conflict": result.conflict.to_json() if result.conflict else None,
    }


def _print(result: ApplyResult, files: Files) -> None:
    plan = result.plan
    print_recovery(result.recovered)
    if plan.findings and (plan.blocked or not plan.has_changes):  # otherwise shown with the plan, before asking
        print_findings(plan.findings)
    if plan.blocked:
        click.echo(click.style(f"blocked: {summary(plan.findings)}; nothing was touched", fg="red", bold=True),
                   err=True)
        return
    if not plan.has_changes:
        click.echo(plan.noop_reason)
        return
    if result.conflict is not None:
        print_conflict(result.conflict)
        return
    if result.cancelled:
        click.echo("cancelled: nothing was changed", err=True)
        return
    if result.outcome is not None:
        print_outcome(result.outcome, files.location(result.outcome.generation.path))
    elif result.restart is not None:
        print_bring_up("server", result.restart)
    elif result.note:
        click.echo(result.note)
    if result.retired:
        click.echo(result.retired, err=not result.ok)
