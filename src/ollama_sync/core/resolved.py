"""Comparing a declared value with what the server resolved (its `server config` line), the way the server parses.

The server prints Go's `%v` of each setting: `5m0s` for a duration, `true`/`false` for a bool, a list in
brackets, OLLAMA_HOST as a URL, OLLAMA_DEBUG as a level name (newer) or a bool (older), extra origins
prepended to the built-in ones. `server_agrees` applies envconfig's parsing rules (catalog kinds) to
the declared text and compares it with that output. Used by status/doctor and by apply's verification.
"""

from __future__ import annotations

import re
from typing import Final

from ollama_sync.core import catalog
from ollama_sync.core.catalog import VarKind
from ollama_sync.core.hostport import parse_host, strip_value

_FALSE: Final = ("0", "f", "F", "FALSE", "false", "False")
_TRUE: Final = ("1", "t", "T", "TRUE", "true", "True")
_UNITS_NS: Final = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                    "m": 60_000_000_000, "h": 3_600_000_000_000}
_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
MAX_DURATION_NS: Final = 2**63 - 1  # Go's math.MaxInt64: "forever"
_DEFAULT_DURATION_NS: Final = 5 * 60 * 1_000_000_000


def parse_go_duration(text: str) -> int | None:
    """time.ParseDuration: "1h30m", "2.5s", "-1m" → nanoseconds; None when it is not a Go duration."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body == "0":
        return 0
    parts = _PART.findall(body)
    if not parts or "".join(number + unit for number, unit in parts) != body:
        return None
    return sign * sum(_scaled(number, _UNITS_NS[unit]) for number, unit in parts)


def _scaled(number: str, unit: int) -> int:
    """number × unit exactly (Go keeps integer nanoseconds; a float would lose the last digits)."""
    whole, _, fraction = number.partition(".")
    value = int(whole or "0") * unit
    if fraction:
        value += int(fraction) * unit // 10 ** len(fraction)
    return value


def duration_ns(name: str, raw: str) -> int:
    """What envconfig makes of a duration variable: Go duration, else integer seconds, else 5m (silently)."""
    text = strip_value(raw)
    value = parse_go_duration(text)
    if value is None and re.fullmatch(r"[-+]?\d+", text):
        value = int(text) * 1_000_000_000
    if value is None:
        return _DEFAULT_DURATION_NS
    if name == "OLLAMA_LOAD_TIMEOUT" and value <= 0:
        return MAX_DURATION_NS  # LoadTimeout: <= 0 means no timeout
    return MAX_DURATION_NS if value < 0 else value


def _bool(text: str, default: str) -> str:
    value = strip_value(text) or default
    if not value or value in _FALSE:
        return "false"
    return "true"  # strconv.ParseBool, and any other non-empty string is TRUE


def _level(text: str) -> str:
    """OLLAMA_DEBUG → a level name; the server prints the name (newer) or a bool (older releases)."""
    value = strip_value(text)
    if value in _TRUE or value == "DEBUG":
        return "DEBUG"
    if value in ("2", "TRACE", "DEBUG-4"):
        return "TRACE"
    if value in ("-1", "WARN"):
        return "WARN"
    if value in ("-2", "ERROR"):
        return "ERROR"
    return "INFO"


def _uint(text: str, default: str) -> str:
    value = strip_value(text)
    return str(int(value)) if value.isdigit() else default


def _items(text: str) -> list[str]:
    """A server-printed list `[a b]` or a declared comma list `a,b` → items."""
    value = strip_value(text)
    if value.startswith("[") and value.endswith("]"):
        return value[1:-1].split()
    return [item.strip() for item in value.split(",") if item.strip()]


def server_agrees(name: str, declared: str, resolved: str) -> bool:
    """True when the server's printed value is what it makes of the declared value."""
    var = catalog.lookup(name)
    kind = var.kind if var is not None else VarKind.STRING
    default = var.default if var is not None else ""
    match kind:
        case VarKind.BOOL:
            return _bool(declared, default) == _bool(resolved, default)
        case VarKind.UINT:
            return _uint(declared, default) == _uint(resolved, "")
        case VarKind.DURATION:
            return duration_ns(name, declared) == duration_ns(name, resolved)
        case VarKind.HOST:
            want, got = parse_host(declared), parse_host(resolved)
            return (want.host, want.port) == (got.host, got.port)
        case VarKind.LOGLEVEL:
            return _level(declared) == _level(resolved)
        case VarKind.ENUM:
            return (strip_value(declared).lower() or default) == (strip_value(resolved).lower() or default)
        case VarKind.LIST if name == "OLLAMA_ORIGINS":
            return set(_items(declared)) <= set(_items(resolved))  # the built-in origins are appended
        case VarKind.LIST:
            return _items(declared) == _items(resolved)
        case _:
            return strip_value(declared) == resolved
