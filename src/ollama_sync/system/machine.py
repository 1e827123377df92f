"""This machine's facts, read once: platform, home, uid, user, state dir, and the environment."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

from ollama_sync.core.target import Machine


def read_machine(environ: Mapping[str, str] | None = None) -> Machine:
    """The running machine's facts; OLLAMA_SYNC_STATE_DIR overrides the state directory."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    system = os.uname().sysname  # "Darwin" or "Linux"; platform.system() costs an import
    state = env.get("OLLAMA_SYNC_STATE_DIR") or default_state_dir(system, home, env)
    if not os.path.isabs(state):
        from ollama_sync.errors import UsageError  # noqa: PLC0415  # only for this mistake

        source = "OLLAMA_SYNC_STATE_DIR" if env.get("OLLAMA_SYNC_STATE_DIR") else "XDG_STATE_HOME or HOME"
        raise UsageError(f"the state directory {state} is a relative path (from {source})",
                         hint="set it to an absolute path, e.g. OLLAMA_SYNC_STATE_DIR=$HOME/.local/state/ollama-sync")
    return Machine(system=system, home=home, uid=os.getuid(), user=_user(), state_dir=state)


def default_state_dir(system: str, home: str, env: Mapping[str, str]) -> str:
    """~/Library/Application Support/ollama-sync on macOS, $XDG_STATE_HOME/ollama-sync (~/.local/state) elsewhere.

    platformdirs' user_state_dir gives the same folders, but reads the process environment rather than
    `env`, and its user_config_dir on macOS is not where ollama-sync (like most CLIs) looks.
    """
    if system == "Darwin":
        return os.path.join(home, "Library/Application Support/ollama-sync")
    base = env.get("XDG_STATE_HOME") or os.path.join(home, ".local/state")
    return os.path.join(base, "ollama-sync")


def default_config_path(system: str, home: str, env: Mapping[str, str]) -> str:
    """~/.config/ollama-sync/config.toml (XDG_CONFIG_HOME respected), on macOS too, like most CLIs."""
    base = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(base, "ollama-sync", "config.toml")


def _user() -> str:
    """The account name of the process's uid (pwd; getpass.getuser() would also import termios)."""

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # no passwd entry (containers)
        return str(os.getuid())
