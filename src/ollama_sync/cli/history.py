"""`ollama-sync history`: one line per generation (number, time, hash, source, result)."""

from __future__ import annotations

import time

import click

from ollama_sync.app.context import Context
from ollama_sync.app.history import History, history
from ollama_sync.cli.output import emit_json


@click.command(name="history")
@click.pass_obj
def command(ctx: Context) -> int:
    """List the kept generations of the service file, oldest first; `*` marks the one on disk."""
    result = history(ctx)
    if ctx.options.json:
        emit_json("history", _json(result))
    else:
        _print(result)
    return 0


def _json(result: History) -> dict[str, object]:
    return {"ok": True, "state_dir": result.state_dir, "current": result.current,
            "generations": [g.to_json() | {"current": g.number == result.current} for g in result.generations]}


def _print(result: History) -> None:
    if not result.generations:
        click.echo(f"no generations recorded yet (state directory {result.state_dir})")
        return
    for gen in result.generations:
        mark = "*" if gen.number == result.current else " "
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(gen.time))
        colour = "green" if gen.result in ("ok", "backup") else "red" if gen.result != "in progress" else "yellow"
        click.echo(f"{mark}{gen.number:4d}  {stamp}  {gen.hash[:12]}  {click.style(gen.result, fg=colour)}  "
                   f"{gen.source}")
