"""Nix string literals, both forms, decoded exactly as Nix's lexer does (escapes, indentation stripping).

tree-sitter finds the interpolations; the text between them is decoded here by Nix's own rules,
because the grammar's token split of escapes is not the lexer's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ollama_sync.core.nix.tree import Source, named

if TYPE_CHECKING:
    from tree_sitter import Node

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
# An indented-string part: literal text (True when it counts for indentation) or an interpolated value.
Part = tuple[str, bool]


def string_value(source: Source, node: Node, interpolate: Callable[[Node], str]) -> str:
    """The value of a string_expression or indented_string_expression node."""
    indented = node.type == "indented_string_expression"
    quote = 2 if indented else 1
    segments: list[str | Node] = []
    pos = node.start_byte + quote
    for child in node.named_children:
        if child.type == "interpolation":
            segments.append(source.data[pos:child.start_byte].decode("utf-8"))
            segments.append(child)
            pos = child.end_byte
    segments.append(source.data[pos:node.end_byte - quote].decode("utf-8"))
    if not indented:
        return "".join(_unescape(s) if isinstance(s, str) else interpolate(named(s)[0]) for s in segments)
    first = segments[0]
    if isinstance(first, str):  # the lexer drops spaces and one newline right after the opening ''
        stripped = first.lstrip(" ")
        if stripped.startswith("\n"):
            segments[0] = stripped[1:]  # only when the spaces end the line: `'' x''` keeps them
    parts: list[Part | Node] = []
    for seg in segments:
        if isinstance(seg, str):
            parts.extend(_indented_tokens(seg))
        else:
            parts.append(seg)
    return _strip_indentation(parts, lambda n: interpolate(named(n)[0]))


def has_interpolation(node: Node) -> bool:
    """True when a string literal node interpolates anything."""
    return any(c.type == "interpolation" for c in node.named_children)


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if char == "\r":  # Nix normalises CR and CR LF to LF in "…" strings
            out.append("\n")
            i += 2 if text[i + 1:i + 2] == "\n" else 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _indented_tokens(text: str) -> list[Part]:
    """Raw runs (count for indentation) and escapes (''$ ''' ''\\x, which do not)."""
    tokens: list[Part] = []
    run: list[str] = []
    i = 0
    while i < len(text):
        escape = None
        if text.startswith("''$", i):
            escape, width = "$", 3
        elif text.startswith("'''", i):
            escape, width = "''", 3
        elif text.startswith("''\\", i) and i + 3 < len(text):
            escape, width = _ESCAPES.get(text[i + 3], text[i + 3]), 4
        if escape is None:
            run.append(text[i])
            i += 1
            continue
        if run:
            tokens.append(("".join(run), True))
            run = []
        tokens.append((escape, False))
        i += width
    if run:
        tokens.append(("".join(run), True))
    return tokens


def _min_indent(parts: list[Part | Node]) -> int:
    at_start, min_indent, cur = True, 1_000_000, 0
    for part in parts:
        if not isinstance(part, tuple) or not part[1]:  # interpolations and escapes end the indentation
            if at_start:
                at_start, min_indent = False, min(min_indent, cur)
            continue
        for char in part[0]:
            if at_start:
                if char == " ":
                    cur += 1
                elif char == "\n":
                    cur = 0  # an empty line does not count
                else:
                    at_start, min_indent = False, min(min_indent, cur)
            elif char == "\n":
                at_start, cur = True, 0
    return min_indent


def _strip_indentation(parts: list[Part | Node], interpolate: Callable[[Node], str]) -> str:
    """Nix's stripIndentation: drop the common indentation, and a last line of only spaces."""
    min_indent = _min_indent(parts)
    out: list[str] = []
    at_start, dropped = True, 0
    for index, part in enumerate(parts):
        if not isinstance(part, tuple):
            at_start, dropped = False, 0
            out.append(interpolate(part))
            continue
        text: list[str] = []
        for char in part[0]:
            if at_start:
                if char == " ":
                    if dropped >= min_indent:
                        text.append(char)
                    dropped += 1
                elif char == "\n":
                    dropped = 0
                    text.append(char)
                else:
                    at_start, dropped = False, 0
                    text.append(char)
            else:
                text.append(char)
                if char == "\n":
                    at_start = True
        chunk = "".join(text)
        if index == len(parts) - 1:
            newline = chunk.rfind("\n")
            if newline >= 0 and chunk[newline + 1:].strip(" ") == "":
                chunk = chunk[:newline + 1]
        out.append(chunk)
    return "".join(out)
