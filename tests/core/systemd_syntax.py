"""An independent reading of unit files as systemd does it (systemd.syntax(7), systemd.exec(5)).

Used as the oracle for `Environment=` round trips: lines are joined on a trailing backslash, comments
and sections skipped; an `Environment=` value is split into words with quotes removed and C escapes
decoded (extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE), and only then `%` specifiers are
expanded. Any specifier but `%%` makes the reading fail: it would be replaced by a machine fact, so
the declared text would not survive. Values are judged as systemd before v248 did (no control
characters but tab and line feed), which is what the renderer promises.
"""

from __future__ import annotations

import re

WHITESPACE = " \t\n\r"
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           "\\": "\\", '"': '"', "'": "'", "s": " "}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_OLD_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


class SyntaxProblem(ValueError):
    """The text would be refused, warned about or altered by systemd."""


def utf8_clean(text: str) -> bool:
    """systemd's UTF-8 check: besides encoding errors it refuses surrogates and non-characters."""
    return not any(0xD800 <= ord(c) <= 0xDFFF or 0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE
                   for c in text)


def logical_lines(text: str) -> list[str]:
    """The unit's lines after joining continuations, stripped, without comments and blank lines."""
    if "\r" in text or "\x00" in text:
        raise SyntaxProblem("CR or NUL ends a line in systemd's reader")
    if not utf8_clean(text):
        raise SyntaxProblem("not UTF-8 clean: systemd ignores the line")
    out: list[str] = []
    pending = ""
    for raw in text.split("\n"):
        line = raw.strip()
        if not pending and line[:1] in ("#", ";"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line:
            out.append(line)
    return out


def assignments(text: str, key: str) -> list[str]:
    """The right-hand sides of every `key=` line, in order."""
    values = []
    for line in logical_lines(text):
        if line.startswith("["):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise SyntaxProblem(f"not an assignment: {line!r}")
        if name.strip() == key:
            values.append(value.strip())
    return values


def unescape_one(text: str, i: int) -> tuple[str, int]:
    """Decode the C escape starting after the backslash at text[i - 1]; return (char, next index)."""
    if i >= len(text):
        raise SyntaxProblem("a trailing backslash")
    ch = text[i]
    if ch in _SIMPLE:
        return _SIMPLE[ch], i + 1
    digits = {"x": (2, 16), "u": (4, 16), "U": (8, 16)}.get(ch)
    if digits is not None:
        count, base = digits
        code = _number(text[i + 1:i + 1 + count], count, base)
        return _char(code), i + 1 + count
    if ch in "0123":
        return _char(_number(text[i:i + 3], 3, 8)), i + 3
    raise SyntaxProblem(f"unknown escape \\{ch}")


def _number(digits: str, count: int, base: int) -> int:
    if len(digits) != count:
        raise SyntaxProblem("a short numeric escape")
    try:
        return int(digits, base)
    except ValueError:
        raise SyntaxProblem(f"bad digits {digits!r}") from None


def _char(code: int) -> str:
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise SyntaxProblem("an escape for NUL or a non-character")
    return chr(code)


def words(rvalue: str) -> list[str]:
    """Split a value into words: quotes removed, C escapes decoded, whitespace separates."""
    out: list[str] = []
    i, n = 0, len(rvalue)
    while True:
        while i < n and rvalue[i] in WHITESPACE:
            i += 1
        if i >= n:
            return out
        word: list[str] = []
        quote = ""
        while i < n:
            ch = rvalue[i]
            if ch == "\\":
                decoded, i = unescape_one(rvalue, i + 1)
                word.append(decoded)
                continue
            if quote:
                if ch == quote:
                    quote = ""
                else:
                    word.append(ch)
            elif ch in "\"'":
                quote = ch
            elif ch in WHITESPACE:
                break
            else:
                word.append(ch)
            i += 1
        if quote:
            raise SyntaxProblem("unbalanced quoting")
        out.append("".join(word))


def expand_specifiers(word: str) -> str:
    """`%%` → `%`; any other specifier is a machine fact, so the text would not survive."""
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] == "%":
            if word[i + 1:i + 2] != "%":
                raise SyntaxProblem(f"specifier %{word[i + 1:i + 2]} would be expanded")
            i += 2
            out.append("%")
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def environment(text: str) -> dict[str, str]:
    """The environment a unit (or drop-in) file sets, as systemd reads it; later assignments win."""
    env: dict[str, str] = {}
    for rvalue in assignments(text, "Environment"):
        for word in words(rvalue):
            name, sep, value = expand_specifiers(word).partition("=")
            if not sep or not _NAME.match(name) or _OLD_CONTROL.search(value):
                raise SyntaxProblem(f"invalid environment assignment {word!r}")
            env[name] = value
    return env


def exec_start(text: str) -> list[str]:
    """The ExecStart= command line as argv (specifiers expanded; no `$` may appear)."""
    (rvalue,) = assignments(text, "ExecStart")
    argv = [expand_specifiers(w) for w in words(rvalue)]
    if any("$" in w for w in argv):
        raise SyntaxProblem("$ would be expanded")
    return argv
