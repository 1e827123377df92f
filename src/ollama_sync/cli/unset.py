"""`ollama-sync unset KEY`: remove one setting from the declaration file, then show the plan."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.setting_edit import unset_setting
from ollama_sync.cli.edit_output import show_edit


@click.command(name="unset")
@click.argument("key")
@click.option("--dry-run", is_flag=True, help="Show the edit without writing the file.")
@click.pass_obj
def command(ctx: Context, key: str, dry_run: bool) -> int:
    """Remove KEY's declaration (its line, with its comment) from the declaration file.

    Exit 0 when removed or not declared, 1 when the resulting plan is blocked, 2 on a bad key.
    """
    return show_edit(ctx, "unset", unset_setting(ctx, key, dry_run=dry_run), dry_run=dry_run)
