"""Machine facts doctor judges beyond the service manager: other Ollama servers, file modes, accounts (types + rules).

Pure: system/processes.py and system/permissions.py fill these in.
"""

from __future__ import annotations

import posixpath
import stat
from dataclasses import dataclass
from enum import StrEnum


class ServerKind(StrEnum):
    """Who started an `ollama serve` process."""

    DESKTOP_APP = "desktop-app"  # Ollama.app's own server (it kills other servers when it cannot bind)
    HOMEBREW = "homebrew"  # `brew services start ollama` (label homebrew.mxcl.ollama)
    OTHER = "other"  # a terminal, another service, a container


@dataclass(frozen=True)
class OllamaProcess:
    """An `ollama serve` process (or the desktop app itself) found in the process list."""

    pid: int
    ppid: int | None
    command: str
    kind: ServerKind
    is_app: bool = False  # the Ollama.app menu-bar process, not a server


def classify_process(args: tuple[str, ...], exe: str = "") -> tuple[bool, bool, ServerKind]:
    """(is an ollama server, is the desktop app, who started it) from a command line and executable path."""
    command = args[1:2] if _is_interpreter(args) else args[:1]  # a script's own path names the program
    program = " ".join((exe, *command))
    kind = ServerKind.OTHER
    if "Ollama.app/" in program:
        kind = ServerKind.DESKTOP_APP
    elif "/Cellar/ollama/" in program or "/opt/ollama/" in program:
        kind = ServerKind.HOMEBREW
    is_app = bool(command) and command[0].endswith("Ollama.app/Contents/MacOS/Ollama")
    return _is_serve(args), is_app, kind


def _is_interpreter(args: tuple[str, ...]) -> bool:
    return bool(args) and posixpath.basename(args[0]).startswith(("python", "sh", "bash"))


def _is_serve(args: tuple[str, ...]) -> bool:
    """`ollama serve`, or an interpreter running a script named for ollama with `serve` (the tests' stand-in)."""
    def named(arg: str) -> bool:
        return posixpath.basename(arg).lower().startswith("ollama")

    if len(args) >= 2 and named(args[0]) and args[1] == "serve":
        return True
    return _is_interpreter(args) and len(args) >= 3 and named(args[1]) and args[2] == "serve"


@dataclass(frozen=True)
class ManagerJob:
    """Another job the service manager knows whose label names Ollama (e.g. homebrew.mxcl.ollama)."""

    label: str
    pid: int | None
    last_exit: int | None
    domain: str | None = None  # launchd: the domain it is loaded in (gui/501, user/501)


def job_kind(label: str) -> ServerKind:
    """Who installed a launchd job, from its label."""
    if label.startswith("homebrew.mxcl."):
        return ServerKind.HOMEBREW
    if "electron.ollama" in label or label.startswith("com.ollama."):
        return ServerKind.DESKTOP_APP
    return ServerKind.OTHER


@dataclass(frozen=True)
class PathStat:
    """One path's owner, group and mode (None: it does not exist)."""

    path: str
    uid: int
    gid: int
    mode: int
    is_dir: bool


@dataclass(frozen=True)
class Account:
    """A user account: the service's user, whose access doctor judges."""

    name: str
    uid: int
    gids: tuple[int, ...]  # primary group first
    home: str | None = None


class Access(StrEnum):
    """What a path needs to allow."""

    READ = "read"
    WRITE = "write"


def can_access(chain: tuple[PathStat, ...], account: Account, want: Access) -> bool:
    """POSIX permission check for account on the last path of chain (every ancestor must be searchable).

    chain: the stats from "/" down to the path. root may do anything (the kernel's CAP_DAC_OVERRIDE).
    """
    if account.uid == 0:
        return True
    for ancestor in chain[:-1]:
        if not _allows(ancestor, account, stat.S_IXOTH):
            return False
    target = chain[-1]
    need = stat.S_IROTH if want is Access.READ else stat.S_IWOTH
    if target.is_dir:
        need |= stat.S_IXOTH
    return _allows(target, account, need)


def blocking_ancestor(chain: tuple[PathStat, ...], account: Account) -> PathStat | None:
    """The first folder above the path that account may not pass through (no search permission), if any."""
    if account.uid == 0:
        return None
    return next((item for item in chain[:-1] if not _allows(item, account, stat.S_IXOTH)), None)


def _allows(item: PathStat, account: Account, bits: int) -> bool:
    """The permission class that applies (owner, else group, else other) grants every bit."""
    if item.uid == account.uid:
        granted = (item.mode >> 6) & 0o7
    elif item.gid in account.gids:
        granted = (item.mode >> 3) & 0o7
    else:
        granted = item.mode & 0o7
    return granted & bits == bits


def is_group_or_world_writable(item: PathStat) -> bool:
    """True when the group or others may write the file."""
    return bool(item.mode & (stat.S_IWGRP | stat.S_IWOTH))


def is_world_readable(item: PathStat) -> bool:
    """True when users other than the owner (and its group) may read the file."""
    return bool(item.mode & stat.S_IROTH)
