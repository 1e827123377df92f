"""The command line: global options, lazily loaded subcommands, and the one place errors become exit codes.

Exit codes: 0 ok; 1 a problem was found or the operation failed; 2 usage or invalid configuration;
3 an internal error (run with --debug for the traceback); 130 interrupted.
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any, Final

import click

from ollama_sync import __version__
from ollama_sync.errors import ConfigError, OllamaSyncError

# name → (module, short help); a module is imported only when its command runs, so --help stays fast.
COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "check": ("ollama_sync.cli.check", "Validate the declaration against what `ollama serve` reads."),
    "render": ("ollama_sync.cli.render", "Print the service file rendered from the declaration."),
    "plan": ("ollama_sync.cli.plan", "Show what `apply` would change, touching nothing."),
    "status": ("ollama_sync.cli.status", "Show what really runs and whether it matches the declaration."),
    "verify": ("ollama_sync.cli.verify", "Check that the answering server is ours and runs as declared; no writes."),
    "doctor": ("ollama_sync.cli.doctor", "Run every check; print findings with the exact fix for each."),
    "apply": ("ollama_sync.cli.apply", "Apply the declaration: one verified transaction, rolled back on failure."),
    "rollback": ("ollama_sync.cli.rollback", "Restore an earlier generation of the service file."),
    "history": ("ollama_sync.cli.history", "List the recorded generations of the service file."),
    "set": ("ollama_sync.cli.set", "Set one setting in the declaration file (Nix or TOML), keeping its layout."),
    "unset": ("ollama_sync.cli.unset", "Remove one setting from the declaration file, keeping its layout."),
    "import": ("ollama_sync.cli.import_", "Write the declaration equivalent to an existing service."),
    "models": ("ollama_sync.cli.models", "Pull the declared models the server lacks (models sync)."),
    "watch": ("ollama_sync.cli.watch", "Apply whenever the declaration changes (foreground, or --install)."),
    "memory": ("ollama_sync.cli.memory", "Estimate what the declared settings cost for the models on disk."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, sorted."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's module and return its `command`."""
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command: click.Command = importlib.import_module(entry[0]).command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from the table, without importing them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", metavar="FILE", envvar="OLLAMA_SYNC_CONFIG",
              help="Config file [default: $OLLAMA_SYNC_CONFIG, else ~/.config/ollama-sync/config.toml].")
@click.option("--root", metavar="DIR", help="Place every machine file read or written under DIR (a sandbox).")
@click.option("--json", "json_output", is_flag=True, help="Machine-readable output.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--eval", "eval_mode", type=click.Choice(["static", "nix"]), default=None,
              help="Read a .nix declaration with the built-in static reader or with real Nix.")
@click.version_option(__version__, prog_name="ollama-sync")
@click.pass_context
def cli(ctx: click.Context, config: str | None, root: str | None, json_output: bool, debug: bool,  # noqa: PLR0917
        eval_mode: str | None) -> None:  # click passes options as keywords; the signature mirrors them
    """Declare the Ollama server service once, then plan, apply and verify it."""
    from ollama_sync.app.context import Context, GlobalOptions  # noqa: PLC0415  # 10 ms: --help and --version never build a Context

    ctx.obj = Context(GlobalOptions(config=config, root=root, json=json_output, debug=debug,
                                       eval_mode=eval_mode))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; expected errors print one message and exit with their code, never a traceback."""
    status = run(argv)
    # The interpreter's last collection at exit scans every object still alive: the modules, classes and
    # click tables of start-up. Frozen, they are skipped: ~10 ms (a tenth) of `plan`'s CPU time, measured
    # against no GC tuning and against pausing collection during start-up (which adds nothing to this).
    gc.freeze()
    sys.exit(status)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit status (the in-process entry point tests use)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    as_json = "--json" in args
    try:
        result: Any = cli.main(args=args, prog_name="ollama-sync", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        if as_json:
            _json_error(args, exc.format_message(), None)
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        return _report(exc, debug, args if as_json else None)
    return result if isinstance(result, int) else 0


def _report(exc: Exception, debug: bool, json_args: list[str] | None) -> int:
    if debug:
        import traceback  # noqa: PLC0415  # 1 ms: only with --debug

        traceback.print_exception(exc)
    if isinstance(exc, OllamaSyncError):
        click.echo(f"error: {exc.render()}", err=True)
        if json_args is not None:
            _json_error(json_args, exc.message, exc)
        return exc.exit_code
    message = f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
    click.echo(message, err=True)
    if json_args is not None:
        _json_error(json_args, message, None)
    return 3


def _json_error(args: list[str], message: str, exc: OllamaSyncError | None) -> None:
    """The error as the --json document on stdout (cli/output.ErrorDocument)."""
    from ollama_sync.cli.output import emit_error  # noqa: PLC0415  # only for errors under --json

    location = exc.location if isinstance(exc, ConfigError) else None
    if location is not None:
        message = message.removeprefix(f"{location}: ")
    command = next((arg for arg in args if arg in COMMANDS), None)
    emit_error(command, {"message": message, "hint": exc.hint if exc is not None else None,
                         "file": location.file if location else None, "line": location.line if location else None})
