"""`ollama-sync watch`: apply on change — as a second service (`--install`), or in the foreground (watchfiles).

Every run (`watch --once`, which the installed watcher executes, or a foreground trigger) is
`apply --yes` plus one JSON line in `<state dir>/watch.log`; app/watch_log.py keeps
that log; `status` shows its newest line.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from ollama_sync.app.context import Context
from ollama_sync.app.declaration import config_path, load
from ollama_sync.app.prepare import Prepared
from ollama_sync.app.watch_log import WatchRecord, append_record
from ollama_sync.errors import ConfigError, OllamaSyncError

# (ok, changed, message) of one `apply --yes`; tests inject a fake.
ApplyOnce = Callable[[Context], tuple[bool, bool, str]]


def apply_yes(ctx: Context) -> tuple[bool, bool, str]:
    """`apply --yes`, in process: (ok, changed, one-line message)."""
    from ollama_sync.app.apply import apply  # noqa: PLC0415  # 20 ms (the transaction): a watcher imports it when a change arrives

    result = apply(ctx, confirm=lambda plan, target: True)
    plan = result.plan
    if plan.blocked:
        errors = [f.message for f in plan.findings if f.severity.value == "error"]
        return False, False, "blocked: " + "; ".join(errors)
    if not plan.has_changes:
        return _with_models(ctx, result.prepared, False, plan.noop_reason or "up to date")
    if result.outcome is not None and not result.outcome.ok:
        attempt = result.outcome.attempt
        reason = attempt.reason if attempt is not None else ""
        return False, True, f"failed and rolled back: {reason}".rstrip(": ")
    if result.restart is not None and not result.restart.ok:
        return False, True, f"restart failed: {result.restart.reason}"
    generation = result.outcome.generation.number if result.outcome is not None else None
    message = f"applied: generation {generation}" if generation else "applied"
    return _with_models(ctx, result.prepared, True, message)


def _with_models(ctx: Context, prepared: Prepared, changed: bool, message: str) -> tuple[bool, bool, str]:
    """Pull the declared models after a successful apply, as `apply` does; a failed pull fails the run."""
    from ollama_sync.app.models import sync_after_apply  # noqa: PLC0415  # 90 ms (the ollama client): only when models are declared

    models = sync_after_apply(ctx, prepared)
    if models is None or not models.pulled:
        return True, changed, message
    failed = [p.name for p in models.pulled if not p.ok]
    if failed:
        return False, changed, f"{message}; models not pulled: {', '.join(failed)}"
    return True, changed, f"{message}; pulled {', '.join(p.name for p in models.pulled)}"


def run_once(ctx: Context, *, trigger: str, apply_once: ApplyOnce = apply_yes,
             now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> WatchRecord:
    """Apply once and record the result; expected errors become a failed record, not an exception."""
    try:
        ok, changed, message = apply_once(ctx)
        code = 0 if ok else 1
    except OllamaSyncError as exc:
        ok, changed, message, code = False, False, exc.render().replace("\n", " "), exc.exit_code
    record = WatchRecord(now().isoformat(timespec="seconds"), trigger, ok, code, changed, message)
    append_record(ctx, record)
    return record


def watched_files(ctx: Context) -> tuple[str, ...]:
    """The absolute paths of the config file and every declaration file it reads."""
    loaded = load(ctx)
    return tuple(dict.fromkeys(posixpath.abspath(p) for p in (config_path(ctx), *loaded.source_files)))


# Sets of changed files; an empty set means "watching, nothing changed" (the first one: the watch is armed).
Batches = Callable[[tuple[str, ...]], Iterable[set[str]]]
IDLE_MS = 500  # how long watchfiles waits for a first change before it yields an empty set


def watchfiles_batches(debounce_ms: int) -> Batches:
    """Changed files, one set per quiet period of debounce_ms (watchfiles, on the files' folders).

    watchfiles sets up its OS watches before it waits for anything, so its first answer, an empty set after
    IDLE_MS or the first changes, comes when no save can be missed any more.
    """

    def batches(files: tuple[str, ...]) -> Iterator[set[str]]:
        import watchfiles  # noqa: PLC0415  # the Rust watcher loads only for `watch`

        folders = sorted({posixpath.dirname(f) for f in files})
        wanted = set(files)
        # Folders, not files: editors replace files by renaming, which ends a watch on the old inode.
        for changes in watchfiles.watch(*folders, step=debounce_ms, debounce=max(4 * debounce_ms, 2000),
                                        watch_filter=lambda _change, path: path in wanted, recursive=False,
                                        raise_interrupt=True, rust_timeout=IDLE_MS, yield_on_timeout=True):
            yield {path for _change, path in changes}

    return batches


def watch_foreground(ctx: Context, *, batches: Batches, on_run: Callable[[WatchRecord, set[str]], None],
                     on_armed: Callable[[tuple[str, ...]], None] = lambda _files: None,
                     apply_once: ApplyOnce = apply_yes, max_runs: int | None = None) -> int:
    """Apply once per batch of changes until interrupted (or max_runs); the watched set is re-read after each run.

    on_armed is told the files once their watch is in place (and again when the set changes): a save from
    then on is seen.
    """
    runs = 0
    files = watched_files(ctx)
    while True:
        armed = False
        for changed in batches(files):
            if not armed:
                on_armed(files)
                armed = True
            if not changed:
                continue
            record = run_once(ctx, trigger="foreground", apply_once=apply_once)
            on_run(record, changed)
            runs += 1
            if max_runs is not None and runs >= max_runs:
                return runs
            now = _files_or(ctx, files)
            if now != files:
                files = now
                break  # the config points at other files now: watch the new set
        else:
            return runs


def _files_or(ctx: Context, fallback: tuple[str, ...]) -> tuple[str, ...]:
    """The watched files, or the previous set while the declaration does not parse (the next save may fix it)."""
    try:
        return watched_files(ctx)
    except ConfigError:
        return fallback
