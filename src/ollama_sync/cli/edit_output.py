"""What `set` and `unset` print: the edit of the declaration file, then the plan it leads to."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.plan import plan
from ollama_sync.app.setting_edit import EditResult
from ollama_sync.cli.output import colour_diff, emit_json


def show_edit(ctx: Context, command: str, result: EditResult, *, dry_run: bool) -> int:
    """Print the edit (and the plan, unless nothing was written); the exit status."""
    from ollama_sync.cli import plan as plan_cli  # noqa: PLC0415  # import cycle: cli/plan imports this module

    planned = plan(ctx) if result.written else None
    if ctx.options.json:
        emit_json(command, {
            "ok": planned is None or not planned.plan.blocked, "file": result.file, "key": result.key,
            "path": result.path, "before": result.before, "after": result.after, "changed": result.changed,
            "written": result.written, "diff": result.diff(),
            "plan": plan_cli._json(planned) if planned is not None else None,
        })
    else:
        click.echo(_headline(command, result, dry_run=dry_run))
        if result.changed:
            click.echo(colour_diff(result.diff()), nl=False)
        if planned is not None:
            click.echo("")
            plan_cli._print(planned, ctx.files.location(planned.plan.path))
    return 1 if planned is not None and planned.plan.blocked else 0


def _headline(command: str, result: EditResult, *, dry_run: bool) -> str:
    if not result.changed:
        if command == "unset":
            return f"{result.key} is not declared in {result.file}; nothing to do"
        return f"{result.path} is already {result.after} in {result.file}; nothing to do"
    verb = "would change" if dry_run else "changed"
    if command == "unset":
        return f"{verb} {result.file}: removed {result.path} (was {result.before})"
    was = f" (was {result.before})" if result.before is not None else " (added)"
    return f"{verb} {result.file}: {result.path} = {result.after}{was}"
