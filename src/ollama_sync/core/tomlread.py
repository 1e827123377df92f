"""TOML text → `SourceValue` trees with line numbers (pure: text in, values out).

tomllib parses; it reports no positions for values, so each key's line is found by a scan of
the text that tracks `[table]` headers and `key =` lines (dotted and quoted keys included).
"""

from __future__ import annotations

import re
import tomllib
from typing import Final

from ollama_sync.core.findings import Location
from ollama_sync.core.limits import MAX_DEPTH, check_int, long_number_error, too_deep
from ollama_sync.core.options import SourceValue
from ollama_sync.errors import ConfigError

_HEADER_RE: Final = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_PART: Final = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY_RE: Final = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_POS: Final = r"\(at line (\d+), column (\d+)\)"  # compiled on use: only errors need it


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of every `key =` and `[table]` in text, by full dotted path."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER_RE.match(line)
        if header:
            table = _split_key(header.group(1))
            lines.setdefault(table, number)
            continue
        key = _KEY_RE.match(line)
        if key:
            lines.setdefault(table + _split_key(key.group(1)), number)
    return lines


def parse_toml(text: str, path: str) -> dict[str, SourceValue]:
    """The document as SourceValues with locations; a syntax error is a ConfigError at file:line:col.

    Also errors: nesting deeper than MAX_DEPTH, an integer outside 64 bits (TOML's own limit).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, path) from None
    except RecursionError:
        raise too_deep(path, text) from None
    except ValueError:  # int() of a literal past Python's 4300-digit limit
        raise long_number_error(path, text, 20) from None
    lines = key_lines(text)
    return {k: _wrap(v, (k,), lines, path, None, 1) for k, v in data.items()}


def _wrap(value: object, key: tuple[str, ...], lines: dict[tuple[str, ...], int], path: str,  # noqa: PLR0917
          parent_line: int | None, depth: int) -> SourceValue:
    """value with its line; keys inside an inline table (`env = { A = "1" }`) take the table's line."""
    line = lines.get(key, parent_line)
    loc = Location(path, line)
    if depth > MAX_DEPTH:
        raise ConfigError(f"nested more than {MAX_DEPTH} levels deep", location=loc,
                          hint="a declaration needs a few levels; check the brackets")
    if isinstance(value, dict):
        return SourceValue({k: _wrap(v, (*key, k), lines, path, line, depth + 1) for k, v in value.items()}, loc)
    if isinstance(value, list):
        return SourceValue([_wrap(v, key, lines, path, line, depth + 1) for v in value], loc)
    if isinstance(value, int) and not isinstance(value, bool):
        check_int(value, loc)
    return SourceValue(value, loc)


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: str) -> ConfigError:
    message = str(exc)
    match = re.search(_POS, message)
    if match is None:
        return ConfigError(f"invalid TOML: {message}", location=Location(path),
                           hint="check the file against https://toml.io")
    line, col = int(match.group(1)), int(match.group(2))
    source_lines = text.splitlines()
    excerpt = source_lines[line - 1] if 0 < line <= len(source_lines) else None
    return ConfigError(f"invalid TOML: {re.sub(_POS, '', message).strip()}", location=Location(path, line, col),
                       excerpt=excerpt, hint="fix the syntax at the caret")
