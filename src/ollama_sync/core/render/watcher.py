"""The watcher: a second service that runs `ollama-sync watch --once` (apply --yes, logged) on a change.

launchd: a LaunchAgent with `WatchPaths` (launchd.plist(5)). systemd: a `.path` unit with one
`PathChanged=` per file, activating a oneshot `.service` (systemd.path(5)). supervisord has no
file-watching mechanism. Pure: names, paths and bytes only.
"""

from __future__ import annotations

import plistlib
import posixpath
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ollama_sync.core.render import MARKER, printable
from ollama_sync.core.render.launchd import SESSION_TYPES, xml_comment
from ollama_sync.core.render.systemd import quote_environment
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine


@dataclass(frozen=True)
class Watcher:
    """Where the watcher's files go and what it runs."""

    backend: Backend
    name: str  # launchd label, or systemd unit stem
    files: tuple[str, ...]  # the files to write (plist; or .path then .service)
    scope: Scope
    command: tuple[str, ...]  # argv run on each change
    watch_paths: tuple[str, ...]
    log_path: str  # launchd: the run's output; systemd: the journal has it, this is unused
    environment: tuple[tuple[str, str], ...] = ()


def watcher_name(backend: Backend, service_name: str) -> str:
    """`<label>.watch` for launchd, `<unit>-sync-watch` for systemd (e.g. ollama-sync-watch)."""
    return f"{service_name}.watch" if backend is Backend.LAUNCHD else f"{service_name}-sync-watch"


def watcher_files(backend: Backend, name: str, scope: Scope, machine: Machine) -> tuple[str, ...]:
    """The watcher's file paths: one plist, or a .path and a .service unit."""
    system = scope is Scope.SYSTEM
    if backend is Backend.LAUNCHD:
        folder = "/Library/LaunchDaemons" if system else posixpath.join(machine.home, "Library/LaunchAgents")
        return (posixpath.join(folder, f"{name}.plist"),)
    folder = "/etc/systemd/system" if system else posixpath.join(machine.home, ".config/systemd/user")
    return (posixpath.join(folder, f"{name}.path"), posixpath.join(folder, f"{name}.service"))


def render_watcher(watcher: Watcher, source: str) -> tuple[bytes, ...]:
    """The contents of watcher.files, in the same order."""
    if watcher.backend is Backend.LAUNCHD:
        return (render_watch_plist(watcher, source),)
    return render_path_unit(watcher, source), render_oneshot_unit(watcher, source)


def render_watch_plist(watcher: Watcher, source: str) -> bytes:
    """A job that launchd starts whenever one of the watched paths changes (not at load)."""
    plist: dict[str, object] = {
        "Label": watcher.name,
        "ProgramArguments": list(watcher.command),
        "WatchPaths": list(watcher.watch_paths),
        "RunAtLoad": False,
        "ProcessType": "Background",
        "StandardOutPath": watcher.log_path,
        "StandardErrorPath": watcher.log_path,
    }
    if watcher.scope is Scope.USER:
        plist["LimitLoadToSessionType"] = list(SESSION_TYPES)  # loads in the same domains as the server
    if watcher.environment:
        plist["EnvironmentVariables"] = dict(watcher.environment)
    body = plistlib.dumps(plist, fmt=plistlib.FMT_XML, sort_keys=True)
    head, sep, rest = body.partition(b"<plist")
    return head + xml_comment(_marker(source)).encode() + b"\n" + sep + rest


def render_path_unit(watcher: Watcher, source: str) -> bytes:
    """The .path unit: PathChanged= per watched file, activating the oneshot service."""
    lines = [f"# {_marker(source)}", "[Unit]", "Description=Apply the Ollama declaration when it changes (ollama-sync)",
             "", "[Path]"]
    lines += [f"PathChanged={_path_word(p)}" for p in watcher.watch_paths]
    lines += [f"Unit={watcher.name}.service", "", "[Install]",
              f"WantedBy={'multi-user.target' if watcher.scope is Scope.SYSTEM else 'default.target'}"]
    return ("\n".join(lines) + "\n").encode()


def render_oneshot_unit(watcher: Watcher, source: str) -> bytes:
    """The oneshot service the .path unit starts: one `watch --once` run, its output in the journal."""
    lines = [f"# {_marker(source)}", "[Unit]", "Description=ollama-sync apply after a declaration change", "",
             "[Service]", "Type=oneshot", f"ExecStart={_exec_line(watcher.command)}"]
    lines += [quote_environment(k, v) for k, v in watcher.environment]
    return ("\n".join(lines) + "\n").encode()


def _exec_line(argv: Sequence[str]) -> str:
    # systemd expands % specifiers and $VARIABLES in ExecStart=; shlex quoting covers spaces and quotes.
    return " ".join(shlex.quote(a).replace("%", "%%").replace("$", "$$") for a in argv)


def _path_word(path: str) -> str:
    return path.replace("%", "%%")


def _marker(source: str) -> str:
    """One printable line (a `#` comment in a unit, an XML comment in a plist) naming the declaration."""
    return f"{MARKER}: the watcher that applies {printable(source)} when it changes (ollama-sync watch)"


def watcher_environment(environ: Mapping[str, str], extra_path: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """PATH (so launchctl/systemctl and `ollama` are found) and ollama-sync's own variables, sorted."""
    ordered = [p for p in dict.fromkeys([*environ.get("PATH", "").split(":"), *extra_path]) if p]
    path = ":".join(ordered)
    env = {"PATH": path}
    env.update({k: v for k, v in environ.items() if k.startswith("OLLAMA_SYNC_") and k != "OLLAMA_SYNC_CONFIG"})
    return tuple(sorted(env.items()))
