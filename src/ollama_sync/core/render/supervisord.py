"""supervisord: a `[program:ollama]` section for an include directory (supervisord.conf(5)).

How supervisord reads the file decides what can be written. Its INI parser ends a value at `;` or `#`
preceded by white space (an inline comment) and has no escape for that; it then replaces `%(here)s`
everywhere, even after a `%`, before `%`-expanding each value, so `%` is written `%%`. `environment=`
is split by a non-POSIX shlex: a value is quoted with `"` (or `'` when it holds `"`), there is no escape
inside quotes, and quote characters at either end of each value are stripped. A value holding both
quote kinds, starting or ending with a quote, or holding a line break (LF or CR) cannot come back
unchanged: it is rejected. Other control characters and any Unicode pass through exactly.
"""

from __future__ import annotations

import re
import shlex
from typing import Final

from ollama_sync.core.render import SERVICE, Problem, binds_tailscale, marker_comment
from ollama_sync.core.target import Target

_LINE_BREAK: Final = re.compile("[\x00\n\r]")  # the file is read with universal newlines
_HERE: Final = "%(here)s"


def unsafe_values(env: dict[str, str], target: Target) -> list[Problem]:
    """Variables and target fields supervisord's config parser cannot carry exactly."""
    problems: list[Problem] = []
    for name, value in env.items():
        why = _value_problem(value)
        if why:
            problems.append((name, why))
    fields = {"binary": target.binary, "log_path": target.log_path or ""}
    for field, text in fields.items():
        why = _line_problem(text) or ("starts or ends with white space" if text != text.strip() else "")
        if why:
            problems.append((SERVICE + field, why))
    return problems


def _value_problem(value: str) -> str:
    """Why one environment value cannot be written, or ""."""
    if '"' in value and "'" in value:
        return "contains both quote characters; supervisord has no escape for that"
    if value[:1] in ("'", '"') or value[-1:] in ("'", '"'):
        return "starts or ends with a quote character, which supervisord strips"
    return _line_problem(value)


def _line_problem(text: str) -> str:
    """Why text cannot sit in a supervisord config line, or ""."""
    if _LINE_BREAK.search(text):
        return "contains a line break, which would end the line in supervisord's config file"
    if _HERE in text:
        return f"contains {_HERE}, which supervisord replaces with a directory even when escaped"
    if any(ch in ";#" and i and text[i - 1].isspace() for i, ch in enumerate(text)):
        return "contains white space followed by ';' or '#', which supervisord reads as a comment"
    return ""


TAILSCALE_START_RETRIES: Final = 60


def quote_value(value: str) -> str:
    """A value quoted for `environment=`: double quotes unless it holds one; `%` doubled."""
    quote = "'" if '"' in value else '"'
    return quote + value.replace("%", "%%") + quote


def render_program(env: dict[str, str], target: Target, source: str) -> bytes:
    """The program section; byte-stable for the same inputs."""
    command = shlex.join([target.binary, "serve"]).replace("%", "%%")
    lines = [
        f"; {marker_comment(source)}",
        f"[program:{target.name}]",
        f"command={command}",
    ]
    if env:
        lines.append("environment=" + ",".join(f"{k}={quote_value(v)}" for k, v in sorted(env.items())))
    lines += ["autostart=true", "autorestart=true", "startsecs=1", "stopasgroup=true", "killasgroup=true"]
    if binds_tailscale(env):
        # A failed bind counts as a failed start; supervisord gives up (FATAL) after startretries=3, about 6 s.
        # A Tailscale address can take minutes to appear: 60 retries, 1 s longer apart each time, wait ~30 min.
        lines.append(f"startretries={TAILSCALE_START_RETRIES}")
    if target.user:
        lines.append(f"user={target.user}")
    if target.log_path:
        lines += ["redirect_stderr=true", f"stdout_logfile={target.log_path.replace('%', '%%')}"]
    return ("\n".join(lines) + "\n").encode()
