"""systemd: a full `ollama.service` unit, or a drop-in for the unit Ollama's installer owns.

Quoting follows systemd.syntax(7) and systemd.exec(5). `Environment=` splits its value into words,
removes quotes and C escapes, and only then expands `%` specifiers; there is no `$` expansion there.
So each assignment is one double-quoted word with `\\`, `"`, tab and line feed escaped and `%` written
`%%`. Other control characters are rejected: systemd before v248 refused them in values; so are
Unicode non-characters, which systemd's UTF-8 check refuses (measured with systemd 252). ExecStart=
takes the same word syntax, but refuses a program path holding a quote, backslash or control character,
and expands `$VAR` in argv while executing the path verbatim (no escape keeps a `$` exact in both):
such paths are rejected.
`StandardOutput=append:` takes the rest of the line as a path, with only `%` specifiers expanded.

Restarts: `Restart=on-failure` (as Homebrew's service.rb renders KeepAlive; a failed bind exits 1) every
`RestartSec=5` s: at most 2 starts in 10 s, under the default start limit (5 per 10 s), so systemd never
gives up while a declared address is still missing. RestartSteps=/RestartMaxDelaySec= (a growing delay)
need systemd 254; 252 logs "Unknown key" for them at every daemon-reload, so they are not written.
A host in Tailscale's ranges (or a MagicDNS `*.ts.net` name) exists only once tailscaled is up: a system
unit then also orders itself after tailscaled.service (Wants=, not Requires=: without tailscaled the server
still starts and retries). A user unit cannot order after a system unit, so it relies on the restarts.
"""

from __future__ import annotations

import re
from typing import Final

from ollama_sync.core.render import SERVICE, Problem, binds_tailscale, marker_comment
from ollama_sync.core.settings import Scope
from ollama_sync.core.target import Target

_CONTROL: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and line feed, which are escaped
_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "%": "%%"}
_PLAIN_WORD: Final = re.compile(r"[A-Za-z0-9_./+:@,=-]+\Z")  # needs no quotes in a command line


def unsafe_values(env: dict[str, str], target: Target) -> list[Problem]:
    """Variables and target fields systemd would reject or alter."""
    problems: list[Problem] = []
    for name, value in env.items():
        if _CONTROL.search(value):
            problems.append((name, "contains a control character systemd rejects (only tab and line feed can be "
                                   "written)"))
        elif any(is_noncharacter(ch) for ch in value):
            problems.append((name, "contains a Unicode non-character (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF), which "
                                   "systemd refuses as not UTF-8 clean"))
    binary = target.binary
    if not binary.startswith("/"):
        problems.append((SERVICE + "binary", "must be an absolute path: systemd does not search your PATH"))
    elif any(ch in binary for ch in "\\\"'"):
        problems.append((SERVICE + "binary", "holds a quote or backslash: systemd refuses such an executable "
                                             "(\"Executable name contains special characters\")"))
    elif "$" in binary:
        problems.append((SERVICE + "binary", "contains '$', which systemd cannot keep exact in ExecStart="))
    log = target.log_path
    if log is not None and log != log.strip():
        problems.append((SERVICE + "log_path", "starts or ends with white space, which systemd strips"))
    elif log is not None and ".." in log.split("/"):
        problems.append((SERVICE + "log_path", "has a '..' component; systemd refuses paths that are not normalized"))
    return problems


def is_noncharacter(ch: str) -> bool:
    """A code point systemd's UTF-8 check refuses although it is valid Unicode."""
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def quote_environment(name: str, value: str) -> str:
    """One `Environment=` line for name=value, quoted and escaped."""
    escaped = "".join(_ESCAPES.get(ch, ch) for ch in f"{name}={value}")
    return f'Environment="{escaped}"'


def exec_word(word: str) -> str:
    """The program path for ExecStart=: `%` doubled, double-quoted unless plain.

    unsafe_values has refused quotes, backslashes, `$` and control characters, so quoting is enough.
    """
    escaped = word.replace("%", "%%")
    return escaped if _PLAIN_WORD.match(word) else f'"{escaped}"'


def render_unit(env: dict[str, str], target: Target, source: str) -> bytes:
    """The unit (or drop-in) text; byte-stable for the same inputs."""
    header = f"# {marker_comment(source)}\n"
    env_lines = "".join(quote_environment(k, v) + "\n" for k, v in sorted(env.items()))
    after_tailscale = binds_tailscale(env) and target.scope is Scope.SYSTEM
    if target.dropin:
        unit = "[Unit]\nAfter=tailscaled.service\nWants=tailscaled.service\n\n" if after_tailscale else ""
        return (header + unit + "[Service]\n" + env_lines).encode()
    wanted_by = "multi-user.target" if target.scope is Scope.SYSTEM else "default.target"
    also = " tailscaled.service" if after_tailscale else ""
    lines = [
        "[Unit]",
        "Description=Ollama server (managed by ollama-sync)",
        f"After=network-online.target{also}",
        f"Wants=network-online.target{also}",
        "",
        "[Service]",
        f"ExecStart={exec_word(target.binary)} serve",
    ]
    if target.user and target.scope is Scope.SYSTEM:
        lines.append(f"User={target.user}")
    if binds_tailscale(env) and not after_tailscale:
        lines.append("# the Tailscale address appears after login; a user unit cannot wait for tailscaled.service, "
                     "so the restarts below retry until it exists")
    lines += ["Restart=on-failure", "RestartSec=5"]
    if target.log_path:
        path = target.log_path.replace("%", "%%")
        lines += [f"StandardOutput=append:{path}", f"StandardError=append:{path}"]
    text = header + "\n".join(lines) + "\n" + env_lines + f"\n[Install]\nWantedBy={wanted_by}\n"
    return text.encode()
