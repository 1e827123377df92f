"""`ollama-sync doctor`: every check, each finding with the exact command that fixes it."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.doctor import doctor
from ollama_sync.cli.output import emit_json, print_findings, summary
from ollama_sync.cli.spinner import spinner
from ollama_sync.cli.status_view import status_json


@click.command(name="doctor")
@click.pass_obj
def command(ctx: Context) -> int:
    """Run every check and print findings with their fixes; exit 1 when any finding is an error."""
    with spinner("checking the service, the server and this machine…", quiet=ctx.options.json) as progress:
        result = doctor(ctx, progress=progress)
    if ctx.options.json:
        emit_json("doctor", {"ok": result.ok, "judged_against": result.judged_against,
                             "findings": [f.to_json() for f in result.findings],
                             "status": status_json(result.status)})
    else:
        print_findings(result.findings)
        target = result.status.observation.prepared.rendered.target
        click.echo(f"{target.backend.value} {target.name}: {summary(result.findings)} "
                   f"(judged against {result.judged_against})")
    return 0 if result.ok else 1
