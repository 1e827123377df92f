"""Nix source → tree-sitter syntax tree, with positions users read (file:line:col) and syntax errors.

tree-sitter and the Nix grammar are imported here only, and only when a .nix file is read, so
commands on TOML declarations never pay for the import.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from ollama_sync.core.findings import Location
from ollama_sync.errors import ConfigError

if TYPE_CHECKING:
    from tree_sitter import Node, Parser


@dataclass(frozen=True)
class Source:
    """A parsed .nix file: its path, its UTF-8 bytes and the syntax tree's root."""

    path: str
    data: bytes
    root: Node

    def text(self, node: Node) -> str:
        """The source text of node."""
        return self.data[node.start_byte:node.end_byte].decode("utf-8", errors="replace")

    def location(self, node: Node) -> Location:
        """node's start as file:line:col, the column counted in characters (1-based)."""
        return self.location_at(node.start_byte)

    def location_at(self, offset: int) -> Location:
        """A byte offset as file:line:col."""
        line_start = self.data.rfind(b"\n", 0, offset) + 1
        line = self.data.count(b"\n", 0, line_start) + 1
        col = len(self.data[line_start:offset].decode("utf-8", errors="replace")) + 1
        return Location(self.path, line, col)

    def line_text(self, offset: int) -> str:
        """The whole source line holding a byte offset (for excerpts)."""
        start = self.data.rfind(b"\n", 0, offset) + 1
        end = self.data.find(b"\n", offset)
        return self.data[start:end if end >= 0 else len(self.data)].decode("utf-8", errors="replace")


@cache
def _parser() -> Parser:
    from tree_sitter import Language, Parser  # noqa: PLC0415  # lazy: only .nix declarations pay for it

    return Parser(Language(_nix_grammar()))


def _nix_grammar() -> Any:
    """tree-sitter-nix's compiled grammar (a capsule for tree_sitter.Language).

    Loaded from the package's `_binding` extension directly: `tree_sitter_nix/__init__.py` imports
    importlib.resources (about 15 ms: pathlib, tempfile, zipfile, …) only to read query files this
    reader never uses, and `plan` on a .nix source has a start-up budget (bench/bench_nix.py). Falls
    back to the ordinary import when the package is laid out otherwise.
    """

    package = importlib.util.find_spec("tree_sitter_nix")  # finds the package without running it
    folders = list(package.submodule_search_locations or []) if package is not None else []
    spec = importlib.machinery.PathFinder.find_spec("_binding", folders) if folders else None
    if spec is None or spec.loader is None:
        import tree_sitter_nix  # noqa: PLC0415  # 9 ms: the fallback when the binding cannot be found directly

        return tree_sitter_nix.language()
    binding = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(binding)
    return binding.language()


INT_MAX: Final = 2**63 - 1  # Nix integers are signed 64-bit; a larger literal is a parse error in Nix
_LONG_DIGITS: Final = re.compile(rb"[0-9]{19,}")
# tree-sitter's parse time grows with the square of an expression chain's length (`1+1+…`, `---1`,
# `a.b.b…`: 4,000 links take 0.7 s, 10,000 take 6 s). A chain needs a long stretch without `;`, brackets
# or quotes; only such a stretch has its operators counted, and more than MAX_CHAIN is refused.
_STRETCH: Final = re.compile(rb"[^;{}\[\]()\"']{2000,}")
_OPERATOR: Final = rb"[-+*/!?<>|&:.]|\b(?:if|then|else|or)\b"  # compiled (by re's cache) only for such a stretch
MAX_CHAIN: Final = 1000


def parse(text: str | bytes, path: str) -> Source:
    """Parse Nix text; a syntax error is a ConfigError at file:line:col with the line and a caret.

    Agrees with Nix (2.8 checked with nix-instantiate) where the grammar is looser: a byte-order mark,
    an empty or comment-only file and an integer literal above 2^63 - 1 are errors.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    if data.startswith(b"\xef\xbb\xbf"):
        raise ConfigError("Nix syntax error: unexpected invalid token (a byte-order mark)",
                          location=Location(path, 1, 1), hint="save the file as UTF-8 without a byte-order mark")
    _check_chains(data, path)
    tree = _parser().parse(data)
    source = Source(path, data, tree.root_node)
    bad = first_error(tree.root_node)
    if bad is not None:
        raise syntax_error(source, bad)
    if not named(tree.root_node):
        raise ConfigError("Nix syntax error: unexpected end of file (the file holds no expression)",
                          location=Location(path, 1, 1), hint="write the module: { ... }: { … }")
    if _LONG_DIGITS.search(data):  # only then is a walk for integer literals worth it
        _check_integers(source)
    return source


def _check_chains(data: bytes, path: str) -> None:
    for stretch in _STRETCH.finditer(data):
        operators = list(re.finditer(_OPERATOR, stretch.group()))
        if len(operators) > MAX_CHAIN:
            offset = stretch.start() + operators[MAX_CHAIN].start()
            line = data.count(b"\n", 0, offset) + 1
            raise ConfigError(f"an expression of more than {MAX_CHAIN} operators in a row: too deep to read",
                              location=Location(path, line), hint="split it with let bindings or parentheses")


def _check_integers(source: Source) -> None:
    for node in _descendants(source.root):
        if node.type == "integer_expression" and int(source.text(node)) > INT_MAX:
            raise ConfigError(f"invalid integer {source.text(node)!r} (Nix integers are 64-bit)",
                              location=source.location(node), excerpt=source.line_text(node.start_byte),
                              hint=f"write a number up to {INT_MAX}")


def _descendants(root: Node) -> Iterator[Node]:
    """Every node under root, in document order (iterative: a deep tree must not exhaust the stack)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def first_error(node: Node) -> Node | None:
    """The first ERROR or MISSING node under node (document order), or None for a clean tree."""
    if not node.has_error:
        return None
    while True:  # iterative: a deeply nested broken file must not exhaust the stack
        if node.type == "ERROR" or node.is_missing:
            return node
        child = next((c for c in node.children if c.has_error or c.is_missing), None)
        if child is None:
            return node  # has_error set without an identifiable child: blame the node itself
        node = child


def syntax_error(source: Source, node: Node) -> ConfigError:
    """A ConfigError for an ERROR/MISSING node: what was expected or found, with the line and a caret."""
    offset = node.start_byte
    if node.is_missing:  # zero-width: blame the token that stands where it was expected
        while offset < len(source.data) and source.data[offset:offset + 1].isspace():
            offset += 1
        found = source.data[offset:offset + 1].decode("utf-8", errors="replace") or "end of file"
        expected = "a value" if node.type == "identifier" else repr(node.type)
        what = f"unexpected {found!r}, expected {expected}"
    else:
        snippet = source.text(node).strip().splitlines()
        what = f"unexpected {snippet[0][:40]!r}" if snippet else "unexpected end of file"
    return ConfigError(f"Nix syntax error: {what}", location=source.location_at(offset),
                       excerpt=source.line_text(offset), hint="fix the syntax at the caret")


def field(node: Node, name: str) -> Node | None:
    """The child in a named field of the grammar (e.g. a binding's "expression")."""
    child: Any = node.child_by_field_name(name)
    return child  # type: ignore[no-any-return]


def fields(node: Node, name: str) -> list[Node]:
    """Every child in a named field (e.g. the "attr" parts of an attribute path)."""
    return list(node.children_by_field_name(name))


def named(node: Node) -> list[Node]:
    """The named children, comments left out."""
    return [c for c in node.named_children if c.type != "comment"]
