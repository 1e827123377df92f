"""`ollama-sync set KEY VALUE`: change one setting in the declaration file, then show the plan."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.setting_edit import set_setting
from ollama_sync.cli.edit_output import show_edit


@click.command(name="set")
@click.argument("key")
@click.argument("value")
@click.option("--force", is_flag=True, help="Replace the current value even when it is an expression.")
@click.option("--dry-run", is_flag=True, help="Show the edit without writing the file.")
@click.pass_obj
def command(ctx: Context, key: str, value: str, force: bool, dry_run: bool) -> int:
    """Set KEY (num_parallel, kv_cache_type, environment.OLLAMA_KEEP_ALIVE, …) to VALUE in the declaration.

    The file keeps its own option names, comments and layout; only the value's bytes change (or one
    line is added). Exit 0 when written, 1 when the resulting plan is blocked, 2 on a bad key or value.
    """
    return show_edit(ctx, "set", set_setting(ctx, key, value, force=force, dry_run=dry_run), dry_run=dry_run)
