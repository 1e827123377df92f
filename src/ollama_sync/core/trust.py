"""What ollama-sync may trust and what it must keep private: its state directory and the service file's mode.

Pure rules, shared by the code that writes (system/state.py, app/transaction.py) and by doctor, so the
two always agree (issue #11).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from typing import Final

from ollama_sync.core.file_env import read_file_env
from ollama_sync.core.machine_facts import PathStat
from ollama_sync.core.settings import Backend

# Which environment variables hold secrets (API keys, tokens, passwords, proxy URLs with credentials).
_SECRET_WORDS: Final = frozenset({"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS",
                                  "CREDENTIAL", "CREDENTIALS", "AUTH"})
_URL_CREDENTIALS: Final = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
STATE_DIR_MODE: Final = 0o700  # the state holds copies of service files, which may hold secrets
PRIVATE_FILE_MODE: Final = 0o600
PUBLIC_FILE_MODE: Final = 0o644


def is_secret(name: str, value: str) -> bool:
    """True for a secret-looking name (a word such as KEY or TOKEN) or a URL carrying user:password@."""
    words = set(name.upper().split("_"))
    return (bool(words & _SECRET_WORDS) and bool(value)) or bool(_URL_CREDENTIALS.search(value))


def secret_variables(env: Mapping[str, str]) -> list[str]:
    """The names of the variables in env that hold secrets, sorted."""
    return sorted(name for name, value in env.items() if is_secret(name, value))


def state_dir_problem(item: PathStat, uid: int) -> str | None:
    """Why the state directory cannot be trusted (None: it is a folder owned by uid that only uid may write).

    Anyone else who can write it could plant a journal that recovery acts on, or a lock that is a symlink.
    """
    if not item.is_dir:
        return f"the state directory {item.path} is not a directory"
    if item.uid != uid:
        return f"the state directory {item.path} is owned by uid {item.uid}, not by the user running ollama-sync " \
               f"(uid {uid})"
    if item.mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "every user" if item.mode & stat.S_IWOTH else "its group"
        return f"the state directory {item.path} is writable by {who} (mode {item.mode:04o})"
    return None


def state_dir_fix(item: PathStat, uid: int) -> str:
    """The command that makes the state directory trustworthy again."""
    if not item.is_dir:
        return f"move {item.path} away, or set OLLAMA_SYNC_STATE_DIR to a folder of your own"
    if item.uid != uid:
        return f"sudo chown {uid} {item.path}; chmod 700 {item.path} (or set OLLAMA_SYNC_STATE_DIR)"
    return f"chmod 700 {item.path}"


def file_secrets(backend: Backend, content: bytes, path: str, name: str) -> list[str]:
    """The variables in a service file's environment that look like credentials (secret_variables)."""
    env = read_file_env(backend, content, path, name).env
    return secret_variables(env) if env else []


def service_file_mode(backend: Backend, content: bytes, path: str, name: str, existing: int | None) -> int:
    """0600 for a file holding credentials, else 0644; an existing stricter mode is kept (never loosened).

    The owner keeps read and write whatever the old mode was: ollama-sync must read back what it wrote.
    """
    wanted = PRIVATE_FILE_MODE if file_secrets(backend, content, path, name) else PUBLIC_FILE_MODE
    return wanted if existing is None else (wanted & existing) | PRIVATE_FILE_MODE
