"""`ollama-sync watch --install / --uninstall`: the watcher as a second launchd job or systemd .path unit.

The watcher runs `ollama-sync --config <config> watch --once` (apply --yes, recorded in the watch log)
whenever the config or the declaration file changes. supervisord cannot watch files: not applicable.
Under --root the files are written inside the root and no service manager is asked.
"""

from __future__ import annotations

import os
import posixpath
import sys
from dataclasses import dataclass
from typing import Final

from ollama_sync.app.context import Context
from ollama_sync.app.declaration import config_path, load
from ollama_sync.core.paths import service_name
from ollama_sync.core.render import is_ours
from ollama_sync.core.render.watcher import (
    Watcher,
    render_watcher,
    watcher_environment,
    watcher_files,
    watcher_name,
)
from ollama_sync.core.settings import Backend
from ollama_sync.core.target import Target, default_backend
from ollama_sync.errors import OllamaSyncError, Unsupported
from ollama_sync.system.service import manager_for
from ollama_sync.system.systemctl import SystemdManager

# launchctl, systemctl and a Homebrew `ollama` must be found from the watcher's bare environment.
EXTRA_PATH: Final = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")
SUPERVISORD_NOTE: Final = ("supervisord has no file-watching mechanism, so `watch --install` does not apply to it; "
                           "run `ollama-sync watch` in a terminal, or as a supervisord program of its own")


@dataclass(frozen=True)
class WatcherResult:
    """What --install or --uninstall did."""

    action: str  # "installed" | "updated" | "unchanged" | "removed" | "not installed"
    watcher: Watcher
    note: str = ""


def self_command() -> tuple[str, ...]:
    """How to run this ollama-sync again: its own script when run as one, else `python -m ollama_sync`."""
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(script).lstrip(".").startswith("ollama-sync") and os.access(script, os.X_OK):
        return (script,)
    return (sys.executable, "-m", "ollama_sync")


def plan_watcher(ctx: Context) -> tuple[Watcher, tuple[bytes, ...]]:
    """The watcher for this declaration and its files' contents; supervisord is Unsupported (exit 2)."""
    loaded = load(ctx)
    service = loaded.declaration.service
    backend = service.backend or default_backend(ctx.machine)
    if backend is Backend.SUPERVISORD:
        raise Unsupported(SUPERVISORD_NOTE)
    config = posixpath.abspath(config_path(ctx))
    name = watcher_name(backend, service_name(service, backend))
    watcher = Watcher(
        backend=backend, name=name, files=watcher_files(backend, name, service.scope, ctx.machine),
        scope=service.scope, command=(*self_command(), "--config", config, "watch", "--once"),
        watch_paths=tuple(dict.fromkeys(posixpath.abspath(p) for p in (config, *loaded.source_files))),
        log_path=posixpath.join(ctx.machine.state_dir, "logs", "watch-output.log"),
        environment=watcher_environment(ctx.environ, EXTRA_PATH))
    return watcher, render_watcher(watcher, config)


def install_watcher(ctx: Context) -> WatcherResult:
    """Write the watcher's files (never over a file ollama-sync did not write) and load it."""
    watcher, contents = plan_watcher(ctx)
    existing = [ctx.files.read_bytes(path) for path in watcher.files]
    for path, old in zip(watcher.files, existing, strict=True):
        if old is not None and not is_ours(old):
            raise OllamaSyncError(f"{path} exists and was not written by ollama-sync; not replacing it",
                                  hint="move it away, then run `ollama-sync watch --install` again")
    for path, data in zip(watcher.files, contents, strict=True):
        ctx.files.write_atomic(path, data)
    ctx.files.mkdir(posixpath.dirname(watcher.log_path))
    action = ("unchanged" if list(contents) == existing else
              "updated" if any(e is not None for e in existing) else "installed")
    if ctx.sandboxed:
        return WatcherResult(action, watcher, "not loaded: under --root no service manager is asked")
    _load(ctx, watcher)
    return WatcherResult(action, watcher)


def uninstall_watcher(ctx: Context) -> WatcherResult:
    """Unload the watcher and remove its files (only files ollama-sync wrote)."""
    watcher, _ = plan_watcher(ctx)
    present = [p for p in watcher.files if ctx.files.read_bytes(p) is not None]
    if not present:
        return WatcherResult("not installed", watcher)
    for path in present:
        data = ctx.files.read_bytes(path)
        if data is not None and not is_ours(data):
            raise OllamaSyncError(f"{path} was not written by ollama-sync; not removing it")
    if not ctx.sandboxed:
        _unload(ctx, watcher)
    for path in present:
        ctx.files.remove(path)
    if not ctx.sandboxed and watcher.backend is Backend.SYSTEMD:
        ctx.runner.run(_systemctl(watcher, "daemon-reload"))
    return WatcherResult("removed", watcher)


def _target(watcher: Watcher) -> Target:
    return Target(watcher.backend, watcher.files[0], watcher.name, watcher.command[0], watcher.scope,
                  watcher.log_path)


def _systemctl(watcher: Watcher, *args: str) -> list[str]:

    return SystemdManager.systemctl_argv(_target(watcher), *args)


def _load(ctx: Context, watcher: Watcher) -> None:
    if watcher.backend is Backend.LAUNCHD:

        manager_for(ctx, Backend.LAUNCHD).load(_target(watcher))  # boot out an older copy, then bootstrap
        return
    ctx.runner.run(_systemctl(watcher, "daemon-reload"))
    ctx.runner.run(_systemctl(watcher, "enable", "--now", f"{watcher.name}.path"))


def _unload(ctx: Context, watcher: Watcher) -> None:
    if watcher.backend is Backend.LAUNCHD:

        manager_for(ctx, Backend.LAUNCHD).stop(_target(watcher))
        return
    # ok_codes=None: a unit systemd never loaded cannot be disabled, and that is fine here.
    ctx.runner.run(_systemctl(watcher, "disable", "--now", f"{watcher.name}.path"), ok_codes=None)
