"""A .nix declaration → the option table at an attribute path, without Nix (pure).

Values come back as `SourceValue`s at file:line:col; whatever the static evaluator cannot evaluate
becomes a `nix-unevaluated` finding at the expression, and that option is left out — never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Final

from ollama_sync.core.findings import Finding, Location, Severity
from ollama_sync.core.nix.evaluate import (
    MAX_DEPTH,
    Attr,
    AttrsV,
    Evaluator,
    ListV,
    NotStatic,
    Opaque,
    Scalar,
    Val,
    too_deep,
)
from ollama_sync.core.nix.tree import Source, parse
from ollama_sync.core.options import BUILD_ONLY_NIX_OPTIONS, SourceValue
from ollama_sync.errors import ConfigError

if TYPE_CHECKING:
    from tree_sitter import Node

DEFAULT_ATTRIBUTES: Final = ("custom.services.ollama", "services.ollama", "services.ollama-sync")
# Options that decide whether and where the server listens: not read is an error, never a default.
DECISIVE: Final = frozenset({"enable", "host", "port", "OLLAMA_HOST", "environmentVariables", "extraEnvironment",
                             "environment"})


@dataclass(frozen=True)
class NixRead:
    """What the static reader found: the option table, findings, and the set itself (for write-back)."""

    source: Source
    evaluator: Evaluator
    attribute: tuple[str, ...]  # the path where the set was found
    attrs: AttrsV
    table: dict[str, SourceValue]
    findings: tuple[Finding, ...]
    top: frozenset[str] = frozenset()  # the file's top-level attribute names (and those under `config`)
    unreadable: frozenset[str] = frozenset()  # options (dotted for nested ones) the static reader left out


def split_attribute(text: str) -> tuple[str, ...]:
    """"custom.services.ollama" → its parts (a part may be quoted: services."my.name")."""
    parts: list[str] = []
    current, quoted = "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if not all(parts):
        raise ConfigError(f"invalid attribute path {text!r}", hint='attribute = "custom.services.ollama"')
    return tuple(parts)


def read_nix_text(text: str | bytes, path: str, attribute: str | None = None) -> NixRead:
    """Parse and statically evaluate a .nix file, then read the set at attribute (or the default paths)."""
    source = parse(text, path)
    evaluator = Evaluator(source)
    top = _checked(source, evaluator.top, "the file")
    tried = [attribute] if attribute else list(DEFAULT_ATTRIBUTES)
    for candidate in tried:
        path_parts = split_attribute(candidate)
        for prefix in ((), ("config",)):  # a module may also write `config = { custom.services… }`
            found = _walk(evaluator, source, top, prefix + path_parts)
            if found is not None:
                findings: list[Finding] = []
                unread: list[str] = []
                table = _table(evaluator, source, found, (), findings, unread=unread)
                findings.extend(_skipped(evaluator, source, found))
                return NixRead(source, evaluator, prefix + path_parts, found, table, tuple(findings),
                               _top_names(evaluator, top), frozenset(unread))
    raise _missing(source, top, tried)


def _top_names(evaluator: Evaluator, top: Val) -> frozenset[str]:
    if not isinstance(top, AttrsV):
        return frozenset()
    names = set(top.attrs)
    config = top.attrs.get("config")
    if config is not None:
        try:
            inner = evaluator.force(config.thunk)
        except NotStatic:
            inner = None
        if isinstance(inner, AttrsV):
            names |= set(inner.attrs)
    return frozenset(names)


def _checked(source: Source, action: Callable[[], Val], what: str) -> Val:
    try:
        value = action()
    except NotStatic as exc:
        raise ConfigError(f"cannot read {what} without Nix: {exc.reason}", location=source.location(exc.node),
                          excerpt=source.line_text(exc.node.start_byte),
                          hint="evaluate it with Nix: --eval nix (or eval = \"nix\" in the config)") from None
    return value


def _walk(evaluator: Evaluator, source: Source, value: Val, path: tuple[str, ...]) -> AttrsV | None:
    for depth, name in enumerate(path):
        if not isinstance(value, AttrsV) or name not in value.attrs:
            return None
        attr = value.attrs[name]
        dotted = ".".join(path[:depth + 1])
        value = _checked(source, partial(evaluator.force, attr.thunk), dotted)
    if not isinstance(value, AttrsV):
        raise ConfigError(f"{'.'.join(path)} is not an attribute set", location=_where(source, value),
                          hint="point `attribute` at the set that holds the ollama options")
    return value


def _where(source: Source, value: Val) -> Location | None:
    origin = getattr(value, "origin", None)
    return source.location(origin) if origin is not None else None


def _missing(source: Source, top: Val, tried: list[str]) -> ConfigError:
    names = sorted(top.attrs) if isinstance(top, AttrsV) else []
    listed = ", ".join(names) if names else "none"
    return ConfigError(f"no attribute {' or '.join(tried)} in {source.path}", location=Location(source.path),
                       hint=f"top-level attributes here: {listed}; set `attribute = \"…\"` in the config")


def _table(evaluator: Evaluator, source: Source, attrs: AttrsV, prefix: tuple[str, ...],
           findings: list[Finding], *, unread: list[str]) -> dict[str, SourceValue]:
    table: dict[str, SourceValue] = {}
    if len(prefix) >= MAX_DEPTH:
        raise too_deep(source, attrs.origin or source.root)
    for name, attr in attrs.attrs.items():
        item = _attr_value(evaluator, source, attr, (*prefix, name), findings, unread=unread)
        if item is not None:
            table[name] = item
    return table


def _attr_value(evaluator: Evaluator, source: Source, attr: Attr, path: tuple[str, ...],
                findings: list[Finding], *, unread: list[str]) -> SourceValue | None:
    location = source.location(attr.key)
    try:
        value = evaluator.force(attr.thunk)
        if isinstance(value, AttrsV):
            return SourceValue(_table(evaluator, source, value, path, findings, unread=unread), location)
        return SourceValue(plain(evaluator, value, attr.expr or attr.key), location)
    except NotStatic as exc:
        if len(path) == 1 and path[0] in BUILD_ONLY_NIX_OPTIONS:  # `package = pkgs.ollama;`: Nix's business
            return SourceValue(None, location)
        findings.append(unevaluated(source, exc, ".".join(path)))
        unread.append(".".join(path))
        return None


def plain(evaluator: Evaluator, value: Val, blame: Node, depth: int = 0) -> object:
    """A value as Python data, lists and sets forced deeply; NotStatic (at blame if no better node) if not data."""
    if isinstance(value, Scalar):
        return value.data
    if depth >= MAX_DEPTH:
        raise too_deep(evaluator.source, blame)
    if isinstance(value, ListV):
        return [plain(evaluator, evaluator.force(item), item.node or blame, depth + 1) for item in value.items]
    if isinstance(value, AttrsV):
        return {k: plain(evaluator, evaluator.force(a.thunk), a.expr or a.key, depth + 1)
                for k, a in value.attrs.items()}
    if isinstance(value, Opaque):
        raise NotStatic(value.origin or blame, f"`{value.name}`, known only when Nix evaluates the system")
    raise NotStatic(blame, "a function")


def unevaluated(source: Source, exc: NotStatic, name: str) -> Finding:
    """The finding for an option the static reader leaves out (its dotted name in `variable`).

    An option that decides whether and where the server listens (enable, host, port, OLLAMA_HOST or a
    whole environment set) is an error: left out it would mean the module's default, a guess.
    """
    parts = name.split(".")
    decisive = parts[0] in DECISIVE if len(parts) == 1 else parts[-1] == "OLLAMA_HOST"
    if decisive:
        return Finding("nix-unevaluated", Severity.ERROR,
                       f"{name} is not read: `{excerpt(source, exc.node)}`: {exc.reason}; it decides whether "
                       "and where the server listens, so nothing is planned or applied",
                       "evaluate with Nix: --eval nix (or eval = \"nix\" in the config), or write a literal value",
                       source.location(exc.node))
    return Finding("nix-unevaluated", Severity.WARNING,
                   f"{name} is not read: `{excerpt(source, exc.node)}`: {exc.reason}",
                   "write a literal value, or evaluate with Nix: --eval nix", source.location(exc.node))


def excerpt(source: Source, node: Node, width: int = 60) -> str:
    """An expression's source text on one line, shortened."""
    text = " ".join(source.text(node).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _skipped(evaluator: Evaluator, source: Source, found: AttrsV) -> list[Finding]:
    containers = [(h.container.start_byte, h.container.end_byte) for h in found.homes]
    return [Finding("nix-unevaluated", Severity.ERROR,
                    f"a binding is not read: `{excerpt(source, exc.node)}`: {exc.reason}; it may be enable, "
                    "host or port, so nothing is planned or applied",
                    "write the attribute name literally, or evaluate with Nix: --eval nix", source.location(exc.node))
            for exc in evaluator.skipped
            if any(start <= exc.node.start_byte < end for start, end in containers)]
