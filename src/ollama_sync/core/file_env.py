"""The environment a service file on disk passes: plist, systemd unit or drop-in, supervisord program section.

launchd and systemd files are read with core/servicefile (the importer's readers, which follow each
format's quoting rules); the supervisord `environment=` line is read here with supervisord's own lexer.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from ollama_sync.core.settings import Backend
from ollama_sync.errors import ConfigError


@dataclass(frozen=True)
class FileEnv:
    """The variables a service file passes, or why they could not be read."""

    env: dict[str, str] | None
    error: str = ""  # the file is not valid in its format


def read_file_env(backend: Backend, content: bytes, path: str, name: str = "ollama") -> FileEnv:
    """The environment the file at path passes to the server (name: the supervisord program)."""
    if backend is Backend.SUPERVISORD:
        return program_env(content.decode("utf-8", errors="replace"), name)
    from ollama_sync.core.servicefile import read_plist, read_systemd  # noqa: PLC0415  # plistlib: only here

    try:
        if backend is Backend.LAUNCHD:
            return FileEnv(dict(read_plist(content, path).environment))
        return FileEnv(dict(read_systemd([(path, content.decode("utf-8", errors="replace"))]).environment))
    except ConfigError as exc:
        return FileEnv(None, exc.message.removeprefix(f"{path}: "))


def program_env(text: str, name: str) -> FileEnv:
    """The `environment=` of `[program:name]`: KEY="v",KEY2='v' (supervisord strips the quotes)."""
    section = ""
    found = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
            found = found or section == f"[program:{name}]"
            continue
        if section == f"[program:{name}]" and re.match(r"environment\s*=", line):
            return _supervisor_pairs(line.split("=", 1)[1].strip())
    return FileEnv({}) if found else FileEnv(None, f"no [program:{name}] section")


def _supervisor_pairs(value: str) -> FileEnv:
    """supervisor's dict_of_key_value_pairs, same lexer: tokens KEY = VALUE separated by commas, quotes stripped."""
    lexer = shlex.shlex(value.replace("%%", "%"))
    lexer.wordchars += "/.+-():"
    try:
        tokens = list(lexer)
    except ValueError as exc:
        return FileEnv(None, f"environment= cannot be parsed: {exc}")
    env: dict[str, str] = {}
    for i in range(0, len(tokens), 4):
        triple = tokens[i:i + 3]
        if len(triple) != 3 or triple[1] != "=":
            return FileEnv(None, f"environment= cannot be parsed near {' '.join(triple)!r}")
        env[triple[0]] = triple[2].strip("'\"")
    return FileEnv(env)


HOMEBREW_ENV_FILE = ".homebrew/services/ollama.env"  # under $HOME; Homebrew ≥ 6.0.15 adds it to `brew services`


def parse_env_file(text: str) -> tuple[dict[str, str], tuple[int, ...]]:
    """`KEY=VALUE` lines (an optional `export `, `#` comments, one pair of surrounding quotes removed).

    The subset every dotenv reader agrees on; a line outside it is not guessed at: its number is returned.
    """
    env: dict[str, str] = {}
    bad: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            bad.append(number)
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[name] = value
    return env, tuple(bad)

