"""`ollama-sync status`: one screen — the service, the settings in four views, the server, its models."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.status import status
from ollama_sync.cli.output import emit_json, is_terminal
from ollama_sync.cli.spinner import spinner
from ollama_sync.cli.status_view import blocks, print_plain, print_rich, status_json, verdict


@click.command(name="status")
@click.pass_obj
def command(ctx: Context) -> int:
    """Show what really runs and whether it matches the declaration; exit 1 when not in sync or not healthy."""
    with spinner("reading the service and the server…", quiet=ctx.options.json) as progress:
        result = status(ctx, progress=progress)
    doc = status_json(result)
    if ctx.options.json:
        emit_json("status", doc)
    else:
        if result.recovered:
            click.echo(result.recovered, err=True)
        (print_rich if is_terminal() else print_plain)(blocks(doc, result), verdict(doc))
    return 0 if result.ok else 1
