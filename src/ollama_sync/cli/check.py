"""`ollama-sync check`: validate only."""

from __future__ import annotations

import click

from ollama_sync.app.check import check
from ollama_sync.app.context import Context
from ollama_sync.cli.options import version_option
from ollama_sync.cli.output import emit_json, print_findings, summary


@click.command(name="check")
@version_option
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--cross-check", is_flag=True, help="Read a .nix declaration with both the static reader and Nix; "
              "report every value they disagree on.")
@click.pass_obj
def command(ctx: Context, version_text: str | None, strict: bool, cross_check: bool) -> int:
    """Validate the declaration against what `ollama serve` reads; exit 1 on an error-level finding."""
    result = check(ctx, version_text=version_text, cross_check=cross_check)
    failed = not result.ok or (strict and bool(result.findings) and
                               any(f.severity.value == "warning" for f in result.findings))
    if ctx.options.json:
        emit_json("check", {"ok": not failed, "source": result.source, "judged_against": result.judged_against,
                            "findings": [f.to_json() for f in result.findings]})
    else:
        print_findings(result.findings)
        click.echo(f"{result.source}: {summary(result.findings)} (judged against {result.judged_against})")
    return 1 if failed else 0
