"""JSON text → `SourceValue` trees with line and column of every key (pure: text in, values out).

The Nix modules write the declaration as JSON (`builtins.toJSON`) into the store. `json` validates
and reports syntax errors; a small walk over the (then known-valid) text records where each key
stands, so findings on a JSON declaration still point at file:line:col.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Final

from ollama_sync.core.findings import Location
from ollama_sync.core.limits import MAX_DEPTH, check_int, long_number_error, too_deep
from ollama_sync.core.options import SourceValue
from ollama_sync.errors import ConfigError

_WS: Final = re.compile(r"[ \t\n\r]*")
_MAX_DIGITS: Final = 20  # a 64-bit integer has at most 19 digits


class _LongNumber(Exception):
    """A number literal too long to be any value a declaration holds."""


def _parse_int(text: str) -> int:
    if len(text) > _MAX_DIGITS:  # int() of thousands of digits is slow, and past 4300 a ValueError
        raise _LongNumber(text)
    return int(text)


_DECODER: Final = json.JSONDecoder(parse_int=_parse_int)


def parse_json(text: str, path: str) -> dict[str, SourceValue]:
    """The document (a JSON object) as SourceValues with locations; a syntax error is a ConfigError.

    Also errors: a duplicate key (TOML and Nix refuse them too), nesting deeper than MAX_DEPTH, an
    integer outside 64 bits.
    """
    try:
        data = _DECODER.decode(text)
    except RecursionError:
        raise too_deep(path, text) from None
    except _LongNumber:
        raise long_number_error(path, text, _MAX_DIGITS) from None
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        excerpt = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else None
        raise ConfigError(f"invalid JSON: {exc.msg}", location=Location(path, exc.lineno, exc.colno),
                          excerpt=excerpt, hint="fix the syntax at the caret") from None
    if not isinstance(data, dict):
        raise ConfigError("a JSON declaration must be an object ({…})", location=Location(path, 1, 1),
                          hint='write {"ollama": {…}}')
    walker = _Walker(text, path)
    root, _ = walker.value(_skip(text, 0), Location(path, 1, 1))
    assert isinstance(root.value, dict)
    return root.value


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


class _Walker:
    """Walks valid JSON text, building SourceValues located at their keys."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def location(self, pos: int) -> Location:
        """1-based line and column of a character offset."""
        line = bisect.bisect_right(self.line_starts, pos) - 1
        return Location(self.path, line + 1, pos - self.line_starts[line] + 1)

    def value(self, pos: int, loc: Location, depth: int = 0) -> tuple[SourceValue, int]:
        """The value starting at pos (located at loc), and the offset after it."""
        char = self.text[pos]
        if char in "{[" and depth >= MAX_DEPTH:
            raise too_deep(self.path, self.text)
        if char == "{":
            return self.object(pos + 1, loc, depth + 1)
        if char == "[":
            return self.array(pos + 1, loc, depth + 1)
        plain, end = _DECODER.raw_decode(self.text, pos)
        if isinstance(plain, int) and not isinstance(plain, bool):
            check_int(plain, loc)
        return SourceValue(plain, loc), end

    def object(self, pos: int, loc: Location, depth: int) -> tuple[SourceValue, int]:
        """An object's members, each located at its key; a key given twice is an error."""
        members: dict[str, SourceValue] = {}
        pos = _skip(self.text, pos)
        while self.text[pos] != "}":
            key_loc = self.location(pos)
            key, pos = json.decoder.scanstring(self.text, pos + 1)  # type: ignore[attr-defined]
            if key in members:
                first = members[key].location
                raise ConfigError(f"duplicate key {json.dumps(key)}", location=key_loc,
                                  hint=f"it is already set at line {first.line if first else '?'}; keep one")
            pos = _skip(self.text, _skip(self.text, pos) + 1)  # past the ':'
            members[key], pos = self.value(pos, key_loc, depth)
            pos = _skip(self.text, pos)
            if self.text[pos] == ",":
                pos = _skip(self.text, pos + 1)
        return SourceValue(members, loc), pos + 1

    def array(self, pos: int, loc: Location, depth: int) -> tuple[SourceValue, int]:
        """An array's items, each located where it starts."""
        items: list[SourceValue] = []
        pos = _skip(self.text, pos)
        while self.text[pos] != "]":
            item, pos = self.value(pos, self.location(pos), depth)
            items.append(item)
            pos = _skip(self.text, pos)
            if self.text[pos] == ",":
                pos = _skip(self.text, pos + 1)
        return SourceValue(items, loc), pos + 1
