"""supervisord: a `[program:ollama]` section for an include directory (supervisord.conf(5)).

supervisord reads `environment=` with a non-POSIX shlex and strips quote characters from both ends of
each value; `%` starts an expansion, so it is written `%%`. A value that holds both quote kinds, starts
or ends with a quote, or spans lines cannot be written so that it comes back unchanged: it is rejected.
"""

from __future__ import annotations

import re
import shlex
from typing import Final

from ollama_sync.core.paths import Target

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL: Final = re.compile("[\x00-\x1f\x7f]")


def unsafe_values(env: dict[str, str], target: Target) -> list[tuple[str, str]]:
    """Variables supervisord's config parser cannot carry exactly."""
    problems: list[tuple[str, str]] = []
    for name, value in env.items():
        if not _NAME.match(name):
            problems.append((name, "is not a valid environment variable name"))
        elif _CONTROL.search(value):
            problems.append((name, "contains a control character or line break supervisord cannot hold"))
        elif '"' in value and "'" in value:
            problems.append((name, "contains both quote characters; supervisord has no escape for that"))
        elif (value[:1] in "\"'" and value) or value[-1:] in ("'", '"'):
            problems.append((name, "starts or ends with a quote character, which supervisord strips"))
    if _CONTROL.search(target.binary):
        problems.append(("command", "the binary path contains a control character"))
    return problems


def quote_value(value: str) -> str:
    """A value quoted for `environment=`: double quotes unless it holds one; `%` doubled."""
    quote = "'" if '"' in value else '"'
    return quote + value.replace("%", "%%") + quote


def render_program(env: dict[str, str], target: Target, source: str) -> bytes:
    """The program section; byte-stable for the same inputs."""
    command = shlex.join([target.binary, "serve"]).replace("%", "%%")
    lines = [
        f"; Managed by ollama-sync from {source.replace(chr(10), ' ')}. "
        "Edit the declaration, then run: ollama-sync apply",
        f"[program:{target.name}]",
        f"command={command}",
    ]
    if env:
        lines.append("environment=" + ",".join(f"{k}={quote_value(v)}" for k, v in env.items()))
    lines += ["autostart=true", "autorestart=true", "startsecs=1", "stopasgroup=true", "killasgroup=true"]
    if target.user:
        lines.append(f"user={target.user}")
    if target.log_path:
        lines += ["redirect_stderr=true", f"stdout_logfile={target.log_path.replace('%', '%%')}"]
    return ("\n".join(lines) + "\n").encode()
