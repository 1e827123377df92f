"""systemd: a full `ollama.service` unit, or a drop-in for the unit Ollama's installer owns.

Quoting follows systemd.syntax(7) and systemd.exec(5): `Environment=` takes double-quoted words with
C escapes, then expands `%` specifiers, so `%` is written `%%`; there is no `$` expansion there.
ExecStart= also expands `$VAR`, so `$` is written `$$` in the command line.
"""

from __future__ import annotations

import re
from typing import Final

from ollama_sync.core.paths import Target
from ollama_sync.core.settings import Scope

_CONTROL: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # systemd rejects control characters but \t, \n
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "%": "%%"}


def unsafe_values(env: dict[str, str], target: Target) -> list[tuple[str, str]]:
    """Variables systemd would reject or alter."""
    problems = [(name, "is not a valid environment variable name") for name in env if not _NAME.match(name)]
    problems += [(name, "contains a control character systemd rejects")
                 for name, value in env.items() if _CONTROL.search(value)]
    if _CONTROL.search(target.binary) or "\n" in target.binary:
        problems.append(("ExecStart", "the binary path contains a control character"))
    return problems


def quote_environment(name: str, value: str) -> str:
    """One `Environment=` line for name=value, quoted and escaped."""
    escaped = "".join(_ESCAPES.get(ch, ch) for ch in f"{name}={value}")
    return f'Environment="{escaped}"'


def _exec_word(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"' if any(c in escaped for c in ' \t"\'') else escaped


def render_unit(env: dict[str, str], target: Target, source: str) -> bytes:
    """The unit (or drop-in) text; byte-stable for the same inputs."""
    header = (f"# {_marker(source)}\n")
    env_lines = "".join(quote_environment(k, v) + "\n" for k, v in env.items())
    if target.dropin:
        return (header + "[Service]\n" + env_lines).encode()
    wanted_by = "multi-user.target" if target.scope is Scope.SYSTEM else "default.target"
    lines = [
        "[Unit]",
        "Description=Ollama server (managed by ollama-sync)",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        f"ExecStart={_exec_word(target.binary)} serve",
    ]
    if target.user and target.scope is Scope.SYSTEM:
        lines.append(f"User={target.user}")
    lines += ["Restart=always", "RestartSec=3"]
    if target.log_path:
        lines += [f"StandardOutput=append:{_path_word(target.log_path)}",
                  f"StandardError=append:{_path_word(target.log_path)}"]
    text = header + "\n".join(lines) + "\n" + env_lines + f"\n[Install]\nWantedBy={wanted_by}\n"
    return text.encode()


def _path_word(path: str) -> str:
    return path.replace("%", "%%")


def _marker(source: str) -> str:
    where = source.replace("\n", " ")
    return f"Managed by ollama-sync from {where}. Edit the declaration, then run: ollama-sync apply"
