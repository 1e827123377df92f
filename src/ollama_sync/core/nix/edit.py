"""Byte-exact edits of Nix text (pure): splice a literal, insert a binding, remove one.

Every byte outside the edited range is kept: comments, alignment, line endings, the final newline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ollama_sync.core.nix.evaluate import PRIORITIES, Home
from ollama_sync.core.nix.strings import has_interpolation
from ollama_sync.core.nix.tree import Source, field, fields, named

if TYPE_CHECKING:
    from tree_sitter import Node

_BLOCK_COMMENT: Final = re.compile(rb"/\*.*?\*/")
_IDENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
_KEYWORDS: Final = frozenset({"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"})
LITERAL_TYPES: Final = frozenset({"string_expression", "indented_string_expression", "integer_expression",
                                  "float_expression"})
_STRING_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
Edit = tuple[int, int, bytes]  # replace data[start:end] with the bytes


def nix_literal(value: object) -> str:
    """A Python value as Nix source: strings quoted and escaped, lists and sets on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if "e" not in repr(value) else f"{value:f}"
    if isinstance(value, str):
        return '"' + "".join(_STRING_ESCAPES.get(c, c) for c in value).replace("${", "\\${") + '"'
    if isinstance(value, list | tuple):
        return "[ " + "".join(nix_literal(v) + " " for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + "".join(f"{nix_key(k)} = {nix_literal(v)}; " for k, v in value.items()) + "}"
    raise TypeError(f"no Nix literal for {type(value).__name__}")


def nix_key(name: str) -> str:
    """An attribute name as written in a binding: bare when it can be, quoted otherwise."""
    return name if _IDENT.fullmatch(name) and name not in _KEYWORDS else nix_literal(name)


def apply_edits(data: bytes, edits: Sequence[Edit]) -> bytes:
    """data with non-overlapping edits applied (any order given)."""
    out = data
    for start, end, text in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + text + out[end:]
    return out


def unwrap(source: Source, node: Node) -> Node:
    """The expression inside `lib.mkForce …`, `mkDefault …`, `mkOverride N …` and parentheses."""
    while True:
        if node.type == "parenthesized_expression":
            node = named(node)[0]
            continue
        if node.type == "apply_expression":
            fn, arg = field(node, "function"), field(node, "argument")
            if fn is not None and arg is not None and _is_priority_function(source, fn):
                node = arg
                continue
        return node


def _is_priority_function(source: Source, fn: Node) -> bool:
    if fn.type == "apply_expression":  # mkOverride N
        inner = field(fn, "function")
        return inner is not None and _last_name(source, inner) == "mkOverride"
    return _last_name(source, fn) in PRIORITIES


def _last_name(source: Source, node: Node) -> str | None:
    if node.type == "select_expression":
        path = field(node, "attrpath")
        return source.text(fields(path, "attr")[-1]) if path is not None else None
    if node.type == "variable_expression":
        return source.text(node)
    return None


def is_literal(source: Source, node: Node) -> bool:
    """True for a literal written in place: string without interpolation, number, true/false/null, -N, [ … ]."""
    if node.type in LITERAL_TYPES:
        return not has_interpolation(node)
    if node.type == "variable_expression":
        return source.text(node) in ("true", "false", "null")
    if node.type == "unary_expression":
        arg = field(node, "argument")
        return source.text(node).startswith("-") and arg is not None and arg.type in LITERAL_TYPES
    if node.type == "list_expression":
        return all(is_literal(source, item) for item in named(node))
    return False


def replace_node(node: Node, value: object) -> Edit:
    """Splice value's literal over node's exact byte range."""
    return node.start_byte, node.end_byte, nix_literal(value).encode("utf-8")


def replace_list(source: Source, node: Node, new: list[object]) -> list[Edit]:
    """Edits that make a literal list hold new, keeping its layout and comments.

    Items that stay keep their bytes (and comments); items that go are removed with their line when
    they stand alone on it; new items are appended after the last item, one per line in a multi-line
    list (with the items' indentation), on the same line otherwise. A reordering rewrites the list in
    its layout (one item per line when it was multi-line).
    """
    items = named(node)
    old = [_literal_value(source, item) for item in items]
    if old == new:
        return []
    kept = [v for v in old if v in new]
    if None in old or kept != [v for v in new if v in kept] or len(set(map(repr, old))) != len(old):
        return [_rewrite_list(source, node, new)]
    edits = [remove_binding(source, item) for item, value in zip(items, old, strict=True) if value not in new]
    added = [v for v in new if v not in kept]
    survivors = [item for item, value in zip(items, old, strict=True) if value in new]
    if not added:
        return edits
    if not survivors:
        return [_rewrite_list(source, node, new)]
    anchor = survivors[-1]
    multiline = b"\n" in source.data[node.start_byte:node.end_byte]
    for value in reversed(added):  # each inserted at the same point: reversed keeps their order
        if multiline:
            edits.append(_after(source, anchor, nix_literal(value)))
        else:
            edits.append((anchor.end_byte, anchor.end_byte, f" {nix_literal(value)}".encode()))
    return _merge_same_point(edits)


def _merge_same_point(edits: list[Edit]) -> list[Edit]:
    """Insertions at one offset joined in list order (apply_edits needs non-overlapping edits)."""
    merged: dict[tuple[int, int], bytes] = {}
    order: list[tuple[int, int]] = []
    for start, end, text in edits:
        if (start, end) in merged and start == end:
            merged[(start, end)] = text + merged[(start, end)]
        else:
            merged[(start, end)] = text
            order.append((start, end))
    return [(start, end, merged[(start, end)]) for start, end in order]


def _literal_value(source: Source, item: Node) -> object:
    """A list item's value when it is a plain string or number literal, else None."""
    if item.type == "string_expression" and not has_interpolation(item):
        text = source.text(item)
        if "\\" not in text:
            return text[1:-1]
    if item.type == "integer_expression":
        return int(source.text(item))
    return None


def _rewrite_list(source: Source, node: Node, new: list[object]) -> Edit:
    text = source.data[node.start_byte:node.end_byte]
    if b"\n" not in text or not new:
        return replace_node(node, new)
    line_start = source.data.rfind(b"\n", 0, node.start_byte) + 1
    base = source.data[line_start:node.start_byte]
    base = base[:len(base) - len(base.lstrip())]
    newline = _newline(source.data).decode()
    inner = "".join(f"{newline}{base.decode()}  {nix_literal(v)}" for v in new)
    return node.start_byte, node.end_byte, f"[{inner}{newline}{base.decode()}]".encode()


def insert_binding(source: Source, home: Home, key: Sequence[str], value: object) -> Edit:
    """Insert `key = value;` into a set, after its last binding, with the siblings' indentation."""
    line = ".".join(nix_key(k) for k in (*home.prefix, *key)) + f" = {nix_literal(value)};"
    bindings = _bindings(source, home)
    if bindings:
        return _after(source, bindings[-1], line)
    return _into_empty(source, home.container, line)


def _bindings(source: Source, home: Home) -> list[Node]:
    sets = [c for c in home.container.named_children if c.type == "binding_set"]
    found = named(sets[0]) if sets else []
    if not home.prefix:
        return found
    return [b for b in found if b.type == "binding" and _path_starts_with(source, b, home.prefix)]


def _path_starts_with(source: Source, binding: Node, prefix: tuple[str, ...]) -> bool:
    path = field(binding, "attrpath")
    parts = [source.text(p).strip('"') for p in fields(path, "attr")] if path is not None else []
    return tuple(parts[:len(prefix)]) == prefix and len(parts) > len(prefix)


def _after(source: Source, anchor: Node, line: str) -> Edit:
    data = source.data
    line_start = data.rfind(b"\n", 0, anchor.start_byte) + 1
    indent = data[line_start:anchor.start_byte]
    end = anchor.end_byte
    if indent.strip():  # the anchor shares its line with `{` or other bindings: stay on that line
        return end, end, f" {line}".encode()
    newline = _newline(data)
    eol = data.find(b"\n", end)
    eol = len(data) if eol < 0 else eol
    rest = _BLOCK_COMMENT.sub(b"", data[end:eol].rstrip(b"\r")).strip()
    if not rest or rest.startswith(b"#"):  # only comments follow on the line: they stay with the anchor
        at = eol - 1 if data[eol - 1:eol] == b"\r" else eol
        return at, at, newline + indent + line.encode()
    return end, end, newline + indent + line.encode()


def _into_empty(source: Source, container: Node, line: str) -> Edit:
    data = source.data
    braces = [c for c in container.children if c.type in ("{", "}")]
    open_brace, close_brace = braces[0], braces[-1]
    if data.count(b"\n", open_brace.end_byte, close_brace.start_byte) == 0:  # `{ }`, `{ /* c */ }`: same line
        pad = " " if open_brace.end_byte == close_brace.start_byte else ""
        return open_brace.end_byte, open_brace.end_byte, f" {line}{pad}".encode()
    line_start = data.rfind(b"\n", 0, close_brace.start_byte) + 1
    indent = data[line_start:close_brace.start_byte]
    indent = indent if not indent.strip() else b""
    return open_brace.end_byte, open_brace.end_byte, _newline(data) + indent + b"  " + line.encode()


def remove_binding(source: Source, binding: Node, key: Node | None = None) -> Edit:
    """Delete a binding (its whole line when it stands alone, trailing comment included).

    For `inherit a b;` with key naming one of several names, only that name goes.
    """
    data = source.data
    if binding.type in ("inherit", "inherit_from") and key is not None:
        attrs = field(binding, "attrs")
        if attrs is not None and len(fields(attrs, "attr")) > 1:
            end = key.end_byte
            while end < len(data) and data[end:end + 1] in (b" ", b"\t"):
                end += 1
            return key.start_byte, end, b""
    line_start = data.rfind(b"\n", 0, binding.start_byte) + 1
    eol = data.find(b"\n", binding.end_byte)
    eol = len(data) if eol < 0 else eol
    before, after = data[line_start:binding.start_byte], data[binding.end_byte:eol].strip()
    if not before.strip() and (not after or after.startswith(b"#")):
        return line_start, min(eol + 1, len(data)), b""
    end = binding.end_byte
    while end < len(data) and data[end:end + 1] in (b" ", b"\t"):
        end += 1
    return binding.start_byte, end, b""


def _newline(data: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in data else b"\n"
