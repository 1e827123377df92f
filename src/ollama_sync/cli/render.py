"""`ollama-sync render`: print the rendered service file."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import prepare
from ollama_sync.cli.options import backend_option, version_option
from ollama_sync.cli.output import emit_json, print_findings
from ollama_sync.core.settings import Backend


@click.command(name="render")
@backend_option
@version_option
@click.pass_obj
def command(ctx: Context, backend: str | None, version_text: str | None) -> int:
    """Print the service file (plist, unit or program section) rendered from the declaration."""
    prepared = prepare(ctx, backend=Backend(backend) if backend else None, version_text=version_text)
    rendered = prepared.rendered
    if ctx.options.json:
        emit_json("render", {
            "ok": rendered.content is not None, "backend": rendered.target.backend.value,
            "path": rendered.target.path,
            "content": None if rendered.content is None else rendered.content.decode(),
            "findings": [f.to_json() for f in prepared.findings]})
        return 0 if rendered.content is not None else 1
    if rendered.content is None:
        print_findings(prepared.findings, err=True)
        click.echo("error: the service file cannot be rendered safely (see above)", err=True)
        return 1
    click.echo(rendered.content.decode(), nl=False)
    return 0
