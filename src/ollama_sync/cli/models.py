"""`ollama-sync models sync`: pull the declared models the server lacks; `--prune` removes undeclared ones."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from ollama_sync.app.context import Context
from ollama_sync.cli.output import emit_json
from ollama_sync.errors import UsageError

if TYPE_CHECKING:  # the use case (the API clients) loads only when a command runs, not for --help
    from ollama_sync.app.models import HasDeclaration, ModelsResult
    from ollama_sync.system.models import Progress

ATTEMPTS = 3  # app.models.ATTEMPTS, repeated so --help does not import the use case


@click.group(name="models")
def command() -> None:
    """Declared models: the `models = [...]` list of the declaration."""


@command.command(name="sync")
@click.option("--prune", is_flag=True, help="Also remove installed models that are not declared (asks first).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing models.")
@click.option("--attempts", type=click.IntRange(1, 10), default=ATTEMPTS, show_default=True,
              help="Tries per model; the pause between tries doubles from 2 s.")
@click.pass_obj
def sync(ctx: Context, prune: bool, yes: bool, attempts: int) -> int:
    """Pull the declared models the server does not have, with a progress bar per model; exit 1 if one fails."""
    from ollama_sync.app import models as models_app  # noqa: PLC0415  # 70 ms (httpx, pydantic): not for --help
    from ollama_sync.app.declaration import load  # noqa: PLC0415  # 20 ms: not for --help
    from ollama_sync.app.models import SyncOptions, sync_models  # noqa: PLC0415  # as above

    if prune and not yes and not sys.stdin.isatty():
        raise UsageError("--prune removes models and needs confirmation, but there is no terminal",
                         hint="pass --yes to remove them without asking")
    terminal = sys.stderr.isatty() and not ctx.options.json
    reporter: RichReporter | PlainReporter = RichReporter() if terminal else PlainReporter(quiet=ctx.options.json)
    options = SyncOptions(prune=prune, confirm=(lambda names: True) if yes else _ask, attempts=attempts,
                          backoff=models_app.BACKOFF)
    with reporter:
        result = sync_models(ctx, load(ctx), options=options, reporter=reporter)
    report(ctx, result)
    return 0 if result.ok else 1


def pull_after_apply(ctx: Context, prepared: HasDeclaration) -> tuple[int, dict[str, object] | None]:
    """`apply`'s last step: pull the declared models; (exit status, JSON for apply's document or None)."""
    from ollama_sync.app.models import sync_after_apply  # noqa: PLC0415  # 35 ms (httpx, pydantic): only when models are declared

    terminal = sys.stderr.isatty() and not ctx.options.json
    reporter: RichReporter | PlainReporter = RichReporter() if terminal else PlainReporter(quiet=ctx.options.json)
    with reporter:
        result = sync_after_apply(ctx, prepared, reporter=reporter)
    if result is None:
        return 0, None
    if not ctx.options.json:
        report(ctx, result)
    return (0 if result.ok else 1), _json(result)


def _ask(names: tuple[str, ...]) -> bool:
    click.echo("Installed but not declared:\n" + "".join(f"  {n}\n" for n in names), err=True, nl=False)
    return click.confirm(f"Remove {len(names)} model(s)?", default=False, err=True)


def report(ctx: Context, result: ModelsResult) -> None:
    """The outcome, as text on stderr/stdout or as the JSON envelope."""
    if ctx.options.json:

        emit_json("models sync", _json(result))
        return
    for outcome in result.pulled:
        if not outcome.ok:
            click.echo(f"error: {outcome.name}: not pulled after {outcome.attempts} attempt(s): {outcome.error}",
                       err=True)
            click.echo(f"  hint: {outcome.hint}", err=True)
    kept = [n for n in result.diff.extra if n not in result.removed]
    if kept:
        click.echo("installed but not declared (kept; --prune removes them): " + ", ".join(kept), err=True)
    if result.diff.kept:
        click.echo("cloud and safetensors/MLX models (never pruned): " + ", ".join(result.diff.kept), err=True)
    pulled = sum(1 for p in result.pulled if p.ok)
    click.echo(f"models: {len(result.diff.present)} present, {pulled} pulled, "
               f"{len(result.pulled) - pulled} failed, {len(result.removed)} removed ({result.url})")


def _json(result: ModelsResult) -> dict[str, object]:
    return {"ok": result.ok, "server": result.url, "present": list(result.diff.present),
            "pulled": [{"name": p.name, "ok": p.ok, "attempts": p.attempts, "error": p.error}
                       for p in result.pulled],
            "extra": list(result.diff.extra), "never_pruned": list(result.diff.kept), "removed": list(result.removed)}


class PlainReporter:
    """One line per status change (for logs and pipes)."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.last: dict[str, str] = {}

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def started(self, name: str, attempt: int) -> None:
        """`pulling NAME (attempt N)`."""
        self._say(f"pulling {name}" + (f" (attempt {attempt})" if attempt > 1 else ""))

    def advanced(self, name: str, progress: Progress) -> None:
        """A line when the status text changes."""
        if self.last.get(name) != progress.status:
            self.last[name] = progress.status
            self._say(f"{name}: {progress.status}")

    def finished(self, name: str, error: str | None) -> None:
        """`NAME: pulled` or `NAME: failed: …`."""
        self.last.pop(name, None)
        self._say(f"{name}: pulled" if error is None else f"{name}: failed: {error}")

    def _say(self, text: str) -> None:
        if not self.quiet:
            click.echo(text, err=True)


class RichReporter:
    """A progress bar per model on a terminal (rich), bytes summed over the model's layers."""

    def __init__(self) -> None:
        # rich loads only for a terminal
        from rich import progress as bars  # noqa: PLC0415  # 45 ms (rich): only on a terminal

        self.bars = bars.Progress(bars.TextColumn("{task.description}"), bars.BarColumn(), bars.DownloadColumn(),
                                  bars.TransferSpeedColumn(), transient=False, console=_stderr_console())
        self.tasks: dict[str, Any] = {}
        self.layers: dict[str, dict[str, tuple[int, int]]] = {}

    def __enter__(self) -> RichReporter:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def started(self, name: str, attempt: int) -> None:
        """A new bar (or the same bar, reset, for a retry)."""
        label = name + (f" (attempt {attempt})" if attempt > 1 else "")
        if name in self.tasks:
            self.bars.reset(self.tasks[name], description=label)
        else:
            self.tasks[name] = self.bars.add_task(label, total=None)
        self.layers[name] = {}

    def advanced(self, name: str, progress: Progress) -> None:
        """Sum completed/total over the layers seen so far."""
        if progress.digest and progress.total:
            self.layers[name][progress.digest] = (progress.completed or 0, progress.total)
            done = sum(c for c, _ in self.layers[name].values())
            total = sum(t for _, t in self.layers[name].values())
            self.bars.update(self.tasks[name], completed=done, total=total)

    def finished(self, name: str, error: str | None) -> None:
        """Complete the bar, or mark it failed."""
        label = f"{name} ✓" if error is None else f"{name} ✗ {error}"
        self.bars.update(self.tasks[name], description=label)


def _stderr_console() -> Any:
    from rich.console import Console  # noqa: PLC0415  # 50 ms (rich): only on a terminal

    return Console(stderr=True)

