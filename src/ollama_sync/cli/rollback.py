"""`ollama-sync rollback [N]`: restore a generation through apply's steps; exit 0 restored, 1 failed."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.rollback import RollbackResult, rollback
from ollama_sync.cli.options import Seconds, lock_timeout_option
from ollama_sync.cli.outcome import outcome_json, print_outcome, print_recovery, progress, recovery_json
from ollama_sync.cli.output import emit_json
from ollama_sync.system.files import Files


@click.command(name="rollback")
@click.argument("number", type=click.IntRange(min=1), required=False)
@click.option("--timeout", type=Seconds(min=0.1), default=60.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the server to answer after the reload.")
@lock_timeout_option
@click.pass_obj
def command(ctx: Context, number: int | None, timeout: float, lock_timeout: float) -> int:
    """Restore generation NUMBER (default: the newest one before the file on disk) and verify it."""
    show = not ctx.options.json
    result = rollback(ctx, number, timeout=timeout, lock_timeout=lock_timeout, progress=progress if show else None)
    if ctx.options.json:
        emit_json("rollback", _json(result))
    else:
        _print(result, ctx.files)
    return 0 if result.ok else 1


def _json(result: RollbackResult) -> dict[str, object]:
    return {"ok": result.ok, "generation": result.chosen.number, "changed": result.outcome is not None,
            "outcome": outcome_json(result.outcome), "recovered": recovery_json(result.recovered)}


def _print(result: RollbackResult, files: Files) -> None:
    print_recovery(result.recovered)
    gen = result.chosen
    click.echo(f"rolling back to generation {gen.number} ({gen.hash[:12]}, {gen.source})")
    if result.outcome is None:
        click.echo(f"generation {gen.number} is already on disk at {gen.path}: nothing to do")
        return
    print_outcome(result.outcome, files.location(result.outcome.generation.path))
