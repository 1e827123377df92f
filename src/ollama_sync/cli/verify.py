"""`ollama-sync verify`: is the answering server ours, running as declared? Writes nothing; exit 0 or 1."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.verify import VerifyResult, verify_live
from ollama_sync.cli.output import emit_json


@click.command(name="verify")
@click.pass_obj
def command(ctx: Context) -> int:
    """Check the running server against the declaration in all three views, changing nothing."""
    result = verify_live(ctx)
    if ctx.options.json:
        emit_json("verify", _json(result))
    else:
        _print(result)
    return 0 if result.ok else 1


def _json(result: VerifyResult) -> dict[str, object]:
    target = result.prepared.rendered.target
    return {"ok": result.ok, "backend": target.backend.value, "label": target.name,
            "disabled": not result.prepared.declaration.settings.enable, "pid": result.state.pid,
            "answered_by": result.answered_by or None, "problems": list(result.problems),
            "fixes": list(result.fixes),
            "verification": result.verification.to_json() if result.verification else None}


def _print(result: VerifyResult) -> None:
    target = result.prepared.rendered.target
    if result.ok:
        if not result.prepared.declaration.settings.enable:
            click.echo(click.style(f"verified: {target.name} is disabled, as declared (no server runs)", fg="green"))
            return
        views = ", ".join(c.view.value for c in result.verification.checks if c.checked) if result.verification \
            else ""
        click.echo(click.style(f"verified: {target.name} answers from {result.answered_by}; views: {views}",
                               fg="green"))
        if result.verification is not None and result.verification.unknown:
            click.echo(click.style("  not read by this server: " + ", ".join(result.verification.unknown),
                                   fg="yellow"))
        return
    click.echo(click.style(f"not verified: {target.name}", fg="red", bold=True), err=True)
    for problem in result.problems:
        click.echo(f"  - {problem}", err=True)
    for fix in result.fixes:
        click.echo(f"  fix: {fix}", err=True)
