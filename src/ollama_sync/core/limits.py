"""The limits every declaration reader enforces on hostile input: nesting depth and integer size (pure).

A declaration is a few levels deep and holds ports and sizes: nesting past `MAX_DEPTH` or an integer
outside 64 bits (what TOML and Nix can hold) is a ConfigError at file:line, never a RecursionError,
a multi-thousand-digit int, or an OverflowError further on.
"""

from __future__ import annotations

import re
from typing import Final

from ollama_sync.core.findings import Location
from ollama_sync.errors import ConfigError

MAX_DEPTH: Final = 100
INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1
_BRACKETS: Final = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}]|\n')


def too_deep(path: str, text: str) -> ConfigError:
    """The error for text nested deeper than MAX_DEPTH, at the first line where it gets that deep."""
    depth, line = 0, 1
    for match in _BRACKETS.finditer(text):  # strings are skipped whole; a rough count is enough to blame a line
        token = match.group()
        if token == "\n":
            line += 1
        elif token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                break
        elif token in "]}":
            depth -= 1
    return ConfigError(f"nested more than {MAX_DEPTH} levels deep", location=Location(path, line),
                       hint="a declaration needs a few levels; check the brackets")


def check_int(value: int, location: Location) -> int:
    """value, when it fits in 64 bits; else a ConfigError at location."""
    if not INT_MIN <= value <= INT_MAX:
        raise ConfigError(f"integer out of range ({len(str(abs(value)))} digits; at most 64 bits)",
                          location=location, hint=f"write a number up to {INT_MAX}")
    return value


def long_number_error(path: str, text: str, digits: int) -> ConfigError:
    """The error for a number literal too long to convert, at its line."""
    match = re.search(rf"[0-9_]{{{digits},}}", text)
    line = text.count("\n", 0, match.start()) + 1 if match else None
    return ConfigError(f"a number of more than {digits} digits", location=Location(path, line),
                       hint=f"write a number up to {INT_MAX}")
