"""`ollama-sync import`: write the declaration equivalent to an existing service; nothing else changes."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.importer import Format, ImportRequest, import_service
from ollama_sync.cli.output import emit_json, print_findings, summary
from ollama_sync.core.findings import has_errors
from ollama_sync.core.settings import DEFAULT_LABEL, Backend


@click.command(name="import")
@click.argument("source", required=False, metavar="[FILE]")
@click.option("--dropin", "dropins", multiple=True, metavar="FILE",
              help="systemd: a drop-in to apply after the unit's own <unit>.d/*.conf (repeatable).")
@click.option("--live", is_flag=True, help="Read the environment the service manager reports for the service.")
@click.option("--backend", type=click.Choice([b.value for b in Backend]), default=None,
              help="--live: the service manager to ask [default: the platform's].")
@click.option("--label", default=DEFAULT_LABEL, show_default=True, help="--live: the service to ask about.")
@click.option("--format", "fmt", type=click.Choice([f.value for f in Format]), default="toml", show_default=True,
              help="toml: an ollama-sync config; nix: a module for ollama-sync's nix-darwin/home-manager module.")
@click.option("--output", "-o", metavar="FILE", help="Write here instead of standard output.")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@click.pass_obj
def command(ctx: Context, *, source: str | None, dropins: tuple[str, ...], live: bool, backend: str | None,
            label: str, fmt: str, output: str | None, force: bool) -> int:
    """Write the declaration equivalent to an existing service (FILE: a .plist or a systemd unit).

    Without FILE or --live, the one service file found at the usual places is read. Every variable is
    carried; nothing on the machine changes until you run `apply`. Exit 1 when the imported settings
    have an error-level finding.
    """
    request = ImportRequest(source=source, dropins=dropins, live=live, label=label,
                            backend=Backend(backend) if backend else None, format=Format(fmt), output=output,
                            force=force)
    result = import_service(ctx, request)
    if ctx.options.json:
        emit_json("import", {"ok": not has_errors(result.findings), "source": result.source, "format": fmt,
                             "output": result.output, "text": result.text,
                             "findings": [f.to_json() for f in result.findings]})
    else:
        if result.output is None:
            click.echo(result.text, nl=False)
        print_findings(result.findings, err=True)
        where = f" → {result.output}" if result.output else ""
        click.echo(f"imported {result.source}{where}: {summary(result.findings)}", err=True)
    return 1 if has_errors(result.findings) else 0
