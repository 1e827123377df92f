"""The server's own log: its `server config` line (what it resolved), its version, and known error lines.

`ollama serve` prints `msg="server config" env="map[K:V …]"` at start-up (slog layout) or
`routes.go:N: INFO server config env="map[…]"` (older `log` layout); values are Go's `%v`
(`5m0s`, `true`, lists in brackets). A variable the server does not know is absent from the map.
Go's fmt prints map keys sorted by byte value, so the lower-case `http_proxy`/`https_proxy`/`no_proxy`
(logged on non-Windows since 0.3.11) come last. Values may be empty or hold spaces, colons and brackets,
so a key is only taken where it can be one: an upper-case name (or one of the three lower-case proxy
names) after a space, outside brackets, sorting after the key before it. Hand-written because the line
is Go's `%v` of a map, which no Python library reads; recorded lines: tests/fixtures/ollama/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ollama_sync.core.observation import ServerConfig

_CONFIG_RE: Final = re.compile(r'server config"? env="(map\[(?:[^"\\]|\\.)*)')  # to the closing quote or EOL
_KEY_RE: Final = re.compile(r"(?:^|(?<= ))([A-Z][A-Z0-9_]*|http_proxy|https_proxy|no_proxy):")
_VERSION_RE: Final = re.compile(r"Listening on (\S+) \(version ([^)]+)\)")
_UNESCAPE: Final = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\t": "\t"}


def parse_env_map(text: str) -> dict[str, str]:
    """`map[K:V K2:V2]` → {K: V, K2: V2}; list values keep their brackets (`[a b]`)."""
    body = text.removeprefix("map[")
    body = body.removesuffix("]") if body.count("[") < body.count("]") else body  # a cut line has no "]"
    starts: list[re.Match[str]] = []
    depth, counted = 0, 0  # brackets open before `counted`: one pass, so a long line stays linear
    for match in _KEY_RE.finditer(body):
        depth += body.count("[", counted, match.start()) - body.count("]", counted, match.start())
        counted = match.start()
        if depth == 0 and (not starts or match.group(1) > starts[-1].group(1)):
            starts.append(match)
    env: dict[str, str] = {}
    for i, match in enumerate(starts):
        end = starts[i + 1].start() - 1 if i + 1 < len(starts) else len(body)
        env[match.group(1)] = body[match.end():end]
    return env


def _go_unquote(text: str) -> str:
    return re.sub(r'\\\\|\\"|\\n|\\t', lambda m: _UNESCAPE[m.group(0)], text)


def parse_server_config(lines: list[str]) -> ServerConfig | None:
    """The newest `server config` line in lines (and the version announced after it), or None."""
    for index in range(len(lines) - 1, -1, -1):
        match = _CONFIG_RE.search(lines[index])
        if match is None:
            continue
        env = parse_env_map(_go_unquote(match.group(1)))
        version = None
        for later in lines[index + 1:index + 20]:
            listening = _VERSION_RE.search(later)
            if listening:
                version = listening.group(2)
                break
        return ServerConfig(tuple(sorted(env.items())), version, index + 1)
    return None


class LogEventKind(StrEnum):
    """Known causes recognised in the server's log."""

    ADDRESS_IN_USE = "address-in-use"
    ADDRESS_NOT_AVAILABLE = "address-not-available"  # EADDRNOTAVAIL: the host is not (yet) on this machine
    PERMISSION_DENIED = "permission-denied"
    INVALID_VARIABLE = "invalid-variable"
    INVALID_PORT = "invalid-port"
    KV_CACHE_IGNORED = "kv-cache-ignored"
    ERROR = "error"


@dataclass(frozen=True)
class LogEvent:
    """One recognised log line: its kind, 1-based line number, text, and the variable it names if any."""

    kind: LogEventKind
    line_number: int
    text: str
    variable: str | None = None


_PATTERNS: Final[tuple[tuple[LogEventKind, re.Pattern[str]], ...]] = (
    (LogEventKind.ADDRESS_IN_USE, re.compile(r"bind: address already in use|Only one usage of each socket")),
    # Go prints strerror(EADDRNOTAVAIL): Linux "cannot assign", macOS "can't assign"; Windows WSAEADDRNOTAVAIL.
    (LogEventKind.ADDRESS_NOT_AVAILABLE, re.compile(
        r"bind: can(?:not|'t) assign requested address|requested address is not valid in its context")),
    (LogEventKind.PERMISSION_DENIED, re.compile(r"permission denied", re.IGNORECASE)),
    (LogEventKind.INVALID_VARIABLE, re.compile(r'invalid environment variable, using default"? key=(\S+)')),
    (LogEventKind.INVALID_PORT, re.compile(r"invalid port, using default")),
    (LogEventKind.KV_CACHE_IGNORED, re.compile(
        r"quantized kv cache requested but flash attention disabled|OLLAMA_FLASH_ATTENTION must be enabled"
        r"|unsupported OLLAMA_KV_CACHE_TYPE|kv cache type not supported by model")),
    (LogEventKind.ERROR, re.compile(r"^Error: |level=ERROR")),
)


def find_events(lines: list[str]) -> list[LogEvent]:
    """Every recognised line, oldest first (one event per line: the most specific kind)."""
    events: list[LogEvent] = []
    for number, line in enumerate(lines, start=1):
        for kind, pattern in _PATTERNS:
            match = pattern.search(line)
            if match:
                variable = match.group(1) if kind is LogEventKind.INVALID_VARIABLE else None
                events.append(LogEvent(kind, number, line.rstrip("\n"), variable))
                break
    return events


def lines_since_last_start(lines: list[str]) -> list[str]:
    """The lines written by the newest server start (from its `server config` line), else all lines."""
    for index in range(len(lines) - 1, -1, -1):
        if _CONFIG_RE.search(lines[index]):
            return lines[index:]
    return lines
