"""`ollama-sync plan`: findings, then the diff and steps `apply` would take.

Exit status: 0 ok (changes or not), 1 blocked by an error-level finding, 2 invalid configuration or usage.
With --detailed-exitcode, Terraform's meaning: 0 no changes, 1 any error (invalid configuration and
command-line mistakes included), 2 changes pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from ollama_sync.app.context import Context
from ollama_sync.app.plan import PlanResult, plan
from ollama_sync.cli.options import backend_option, version_option
from ollama_sync.cli.output import colour_diff, emit_json, print_findings, summary
from ollama_sync.core.settings import Backend
from ollama_sync.errors import OllamaSyncError

_DETAILED = "--detailed-exitcode"


class _DetailedUsageError(click.ClickException):
    """A command-line mistake under --detailed-exitcode: shown as usual, but exit 1 (2 means "changes")."""

    exit_code = 1

    def __init__(self, original: click.UsageError) -> None:
        super().__init__(original.message)
        self.original = original

    def show(self, file: Any = None) -> None:
        """Show the original usage error."""
        self.original.show(file)


class PlanCommand(click.Command):
    """The plan command: a usage error under --detailed-exitcode exits 1, not 2."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        """Parse the arguments; re-raise a usage error with exit status 1 when --detailed-exitcode was given."""
        given: Sequence[str] = tuple(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            if _DETAILED in given:
                raise _DetailedUsageError(exc) from None
            raise


@click.command(name="plan", cls=PlanCommand)
@backend_option
@version_option
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there is nothing to do, 1 on error, 2 when changes are pending.")
@click.pass_obj
def command(ctx: Context, backend: str | None, version_text: str | None, detailed_exitcode: bool) -> int:
    """Show the findings and the unified diff between the file on disk and the rendered one."""
    try:
        result = plan(ctx, backend=Backend(backend) if backend else None, version_text=version_text)
    except OllamaSyncError as exc:
        if detailed_exitcode:
            exc.exit_code = 1  # Terraform's meaning: 1 is any error, invalid configuration included
        raise
    p = result.plan
    if ctx.options.json:
        emit_json("plan", _json(result))
    else:
        _print(result, ctx.files.location(p.path))
    if p.blocked:
        return 1
    if detailed_exitcode and p.has_changes:
        return 2
    return 0


def _json(result: PlanResult) -> dict[str, object]:
    p = result.plan
    target = result.prepared.rendered.target
    return {
        "ok": not p.blocked, "changes": p.has_changes, "backend": target.backend.value, "path": p.path,
        "source": result.prepared.declaration.source,
        "steps": [{"kind": s.kind.value, "reason": s.reason} for s in p.steps],
        "noop_reason": p.noop_reason or None, "foreign_file": p.foreign_file, "diff": p.diff(),
        "findings": [f.to_json() for f in p.findings],
        "live_checked": not result.live_note, "live_note": result.live_note or None,
    }


def _print(result: PlanResult, where: str) -> None:
    """where: the file's real path (inside the root under --root)."""
    p = result.plan
    target = result.prepared.rendered.target
    click.echo(click.style(f"{target.backend.value} service {target.name!r} → {where}", bold=True))
    click.echo(f"declared in {result.prepared.declaration.source}")
    if p.findings:
        click.echo("")
        print_findings(p.findings)
    click.echo("")
    if p.blocked:
        click.echo(click.style(f"blocked: {summary(p.findings)}; apply will not run until they are fixed",
                               fg="red", bold=True))
        return
    if result.live_note:
        click.echo(click.style(result.live_note, fg="yellow"))
    if not p.has_changes:
        click.echo(p.noop_reason)
        return
    if p.foreign_file:
        click.echo(click.style(f"{where} was not written by ollama-sync: apply keeps a copy before replacing "
                               "it", fg="yellow"))
    click.echo(colour_diff(p.diff()), nl=False)
    click.echo("")
    click.echo("apply would:")
    for step in p.steps:
        click.echo(f"  - {step.kind.value}: {step.reason}")
