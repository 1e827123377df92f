"""`ollama-sync watch`: apply whenever the declaration changes (foreground, or installed as a second service)."""

from __future__ import annotations

import click

from ollama_sync.app.context import Context
from ollama_sync.app.watch import run_once, watch_foreground, watchfiles_batches
from ollama_sync.app.watch_log import WatchRecord
from ollama_sync.cli.output import emit_json
from ollama_sync.errors import UsageError


@click.command(name="watch")
@click.option("--install", "action", flag_value="install",
              help="Install a second service (launchd WatchPaths / systemd .path) that applies on change.")
@click.option("--uninstall", "action", flag_value="uninstall", help="Remove that service.")
@click.option("--once", "action", flag_value="once",
              help="Apply once (apply --yes) and record the result in the watch log (what the service runs).")
@click.option("--debounce", type=click.IntRange(50, 60000), default=500, show_default=True, metavar="MS",
              help="Foreground: apply after the files have been quiet this long.")
@click.pass_obj
def command(ctx: Context, action: str | None, debounce: int) -> int:
    """Apply the declaration each time it changes; Ctrl-C stops (exit 130).

    Without options, watch in this terminal. Every run is `apply --yes`, recorded in the state
    folder's watch.log; `status` shows the newest. supervisord: --install is not applicable (exit 2).
    """
    if action in ("install", "uninstall"):
        return _service(ctx, action)
    if action == "once":
        record = run_once(ctx, trigger="once")
        _show(ctx, record)
        return record.exit_code
    return _foreground(ctx, debounce)


def _service(ctx: Context, action: str) -> int:
    from ollama_sync.app.watch_service import install_watcher, uninstall_watcher  # noqa: PLC0415  # 13 ms: only for --install/--uninstall

    result = install_watcher(ctx) if action == "install" else uninstall_watcher(ctx)
    watcher = result.watcher
    if ctx.options.json:

        # the watcher's own command line is "runs": "command" is the envelope's (the name of this command)
        emit_json("watch", {"ok": True, "action": result.action, "backend": watcher.backend.value,
                            "name": watcher.name, "files": list(watcher.files),
                            "watch_paths": list(watcher.watch_paths), "runs": list(watcher.command),
                            "note": result.note or None})
        return 0
    click.echo(f"watcher {watcher.name}: {result.action}")
    if action == "install":
        click.echo("  watches: " + ", ".join(watcher.watch_paths))
        click.echo("  runs:    " + " ".join(watcher.command))
    if result.note:
        click.echo(result.note)
    return 0


def _foreground(ctx: Context, debounce: int) -> int:
    if ctx.options.json:
        raise UsageError("--json is not available for the foreground watch", hint="use `watch --once --json`")
    def armed(files: tuple[str, ...]) -> None:  # only now: a save before the watch is in place would be lost
        click.echo("watching " + ", ".join(files) + f" (debounce {debounce} ms); Ctrl-C stops")

    try:
        watch_foreground(ctx, batches=watchfiles_batches(debounce), on_run=_announce, on_armed=armed)
    except KeyboardInterrupt:
        click.echo("stopped watching", err=True)
        return 130
    return 0


def _announce(record: WatchRecord, changed: set[str]) -> None:
    click.echo(f"{record.time} changed: {', '.join(sorted(changed))}")
    click.echo(f"  {'ok' if record.ok else 'FAILED'}: {record.message}")


def _show(ctx: Context, record: WatchRecord) -> None:
    if ctx.options.json:

        emit_json("watch", {"ok": record.ok, "action": "once", "record": record.to_json()})
    else:
        click.echo(f"{'ok' if record.ok else 'FAILED'}: {record.message}")
