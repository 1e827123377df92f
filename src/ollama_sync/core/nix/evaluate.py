"""A small static evaluator for the Nix a host module is written in: data, never computation.

Its values are frozen dataclasses with slots (a module makes thousands of them); `AttrsV.attrs` is
filled while its set is built and never changes after.

It evaluates attribute sets (also `rec`, dotted paths merged across the file), strings of both forms
with interpolation, numbers, booleans, null, lists, `let`, `inherit`, `with` over known sets,
`lib.mkForce`/`mkDefault`/`mkOverride N` (unwrapped, priority kept), `toString`, `+`, `++`, `//` and
the module function header. Anything else raises `NotStatic` at the expression it cannot evaluate;
callers turn that into a finding. Evaluation is lazy, as in Nix, so an unevaluable attribute elsewhere
in the file does not stop the ones asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from ollama_sync.core.nix.strings import string_value
from ollama_sync.core.nix.tree import Source, fields, named
from ollama_sync.core.nix.tree import field as fld
from ollama_sync.errors import ConfigError

if TYPE_CHECKING:
    from tree_sitter import Node

Data = str | int | float | bool | None
MAX_DEPTH = 100  # expressions nested in one another (a host module needs about ten)
PRIORITIES = {"mkForce": 50, "mkDefault": 1000, "mkOptionDefault": 1500}
# Nix's global names (its base environment); only the first three and toString are evaluated.
BUILTIN_NAMES = frozenset({"true", "false", "null", "toString", "builtins", "import", "map", "throw", "abort",
                           "baseNameOf", "dirOf", "isNull", "removeAttrs", "derivation", "fetchTarball",
                           "scopedImport", "placeholder", "fetchGit", "fetchMercurial", "fromTOML"})


class NotStatic(Exception):
    """An expression the static reader does not evaluate (an `if`, a call, `config.*`, …)."""

    def __init__(self, node: Node, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Scalar:
    """A string, number, boolean or null; origin is the expression that produced it."""

    data: Data
    origin: Node
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class ListV:
    """A list of lazily evaluated elements."""

    items: tuple[Thunk, ...]
    origin: Node
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class Home:
    """Where bindings of a set are written: an attrset node, and the dotted prefix inside it ("a.b")."""

    container: Node
    prefix: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AttrsV:
    """An attribute set; each attribute remembers the bindings that define it."""

    attrs: dict[str, Attr]  # filled while the set is built; the tuple itself never changes
    origin: Node | None
    homes: list[Home]
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class Opaque:
    """A value the file receives from outside (pkgs, config, a formal argument) or `lib`."""

    name: str
    origin: Node | None = None


@dataclass(frozen=True, slots=True)
class Builtin:
    """A known function (toString, lib.mkForce, …), possibly partly applied."""

    name: str
    arity: int
    args: tuple[Thunk, ...] = ()


Val = Scalar | ListV | AttrsV | Opaque | Builtin


class Thunk:
    """A suspended evaluation: an expression in an environment, or a computation; forced once."""

    __slots__ = ("compute", "env", "forcing", "node", "value")

    def __init__(self, node: Node | None = None, env: Env | None = None, compute: Callable[[], Val] | None = None,
                 value: Val | None = None) -> None:
        self.node, self.env, self.compute, self.value = node, env, compute, value
        self.forcing = False


@dataclass(frozen=True, slots=True)
class Attr:
    """One attribute of a set: its value, the key node, and the bindings (or inherits) that define it."""

    thunk: Thunk
    key: Node
    bindings: tuple[Node, ...]
    expr: Node | None  # the value expression as written; None for a set made by dotted paths
    mergeable: bool = False  # an attribute-set literal or a dotted-path set: may be merged with another


@dataclass(frozen=True, slots=True)
class Env:
    """A scope: lexical variables, or (when with_ is set) a `with` expression's set."""

    names: dict[str, Attr]
    parent: Env | None = None
    with_: Thunk | None = None


def too_deep(source: Source, node: Node) -> ConfigError:
    """The error for an expression nested deeper than MAX_DEPTH."""
    return ConfigError(f"nested more than {MAX_DEPTH} levels deep: too deep for the static reader",
                       location=source.location(node), hint="evaluate it with Nix: --eval nix")


def forced(val: Val) -> Thunk:
    """A thunk already holding val."""
    return Thunk(value=val)


class Evaluator:
    """Evaluates expressions of one parsed file."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.skipped: list[NotStatic] = []  # bindings whose names could not be evaluated
        self.root_env = Env({})
        self.depth = 0  # expressions being evaluated, nested
        from ollama_sync.core.nix.expr import evaluate  # noqa: PLC0415  # the rules module imports this one

        self._evaluate = evaluate

    def top(self) -> Val:
        """The file's value; a module function `{ config, pkgs, lib, ... }:` is entered with opaque arguments."""
        expr = named(self.source.root)[0]
        if expr.type == "function_expression":
            names: dict[str, Attr] = {}
            for formal in fields(fld(expr, "formals") or expr, "formal"):
                ident = fld(formal, "name")
                if ident is not None:
                    name = self.source.text(ident)
                    names[name] = Attr(forced(Opaque(name, formal)), ident, (), None)
            universal = fld(expr, "universal")
            if universal is not None:
                names[self.source.text(universal)] = Attr(forced(Opaque("args", universal)), universal, (), None)
            body = fld(expr, "body")
            assert body is not None
            return self.eval(body, Env(names, self.root_env))
        return self.eval(expr, self.root_env)

    def force(self, thunk: Thunk) -> Val:
        """Evaluate a thunk once; a cycle is NotStatic (Nix reports infinite recursion)."""
        if thunk.value is not None:
            return thunk.value
        if thunk.forcing:
            assert thunk.node is not None
            raise NotStatic(thunk.node, "infinite recursion")
        thunk.forcing = True
        try:
            if thunk.compute is not None:
                thunk.value = thunk.compute()
            else:
                assert thunk.node is not None and thunk.env is not None
                thunk.value = self.eval(thunk.node, thunk.env)
        finally:
            thunk.forcing = False
        return thunk.value

    def eval(self, node: Node, env: Env) -> Val:
        """The value of one expression node; nesting deeper than MAX_DEPTH is a ConfigError, not a crash."""
        self.enter(node)
        try:
            return self._evaluate(self, node, env)
        finally:
            self.depth -= 1

    def enter(self, node: Node) -> None:
        """Count one more level of nesting (the caller decrements); past MAX_DEPTH a ConfigError at node."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.depth -= 1
            raise too_deep(self.source, node)

    # ---- attribute sets -------------------------------------------------------------------------

    def attrset(self, node: Node, env: Env, *, recursive: bool) -> tuple[AttrsV, Env]:
        """Build an attribute set from an attrset/let node's bindings; returns it and its inner scope."""
        result = AttrsV({}, node, [Home(node)])
        inner = Env(result.attrs, env) if recursive else env
        self.enter(node)  # set literals nested in set literals are built eagerly, one level each
        try:
            for binding_set in (c for c in node.named_children if c.type == "binding_set"):
                for binding in named(binding_set):
                    try:
                        self._binding(result, binding, inner, env, node)
                    except NotStatic as exc:
                        self.skipped.append(exc)
        finally:
            self.depth -= 1
        return result, inner

    def _binding(self, target: AttrsV, binding: Node, env: Env, outer: Env, container: Node) -> None:
        if binding.type == "binding":
            self._path_binding(target, binding, env, container)
        elif binding.type in ("inherit", "inherit_from"):
            self._inherit(target, binding, env, outer)

    def _path_binding(self, target: AttrsV, binding: Node, env: Env, container: Node) -> None:
        path_node = fld(binding, "attrpath")
        expr = fld(binding, "expression")
        assert path_node is not None and expr is not None
        parts = fields(path_node, "attr")
        names = [self.attr_name(p, env) for p in parts]
        leaf = self._leaf(expr, env, binding, parts[-1])
        for depth in range(len(names) - 1, 0, -1):
            inner = AttrsV({names[depth]: leaf}, None, [Home(container, tuple(names[:depth]))])
            leaf = Attr(forced(inner), parts[depth - 1], (binding,), None, mergeable=True)
        merge_attr(self.source, target, names[0], leaf)

    def _leaf(self, expr: Node, env: Env, binding: Node, key: Node) -> Attr:
        if expr.type in ("attrset_expression", "rec_attrset_expression"):
            value, _ = self.attrset(expr, env, recursive=expr.type == "rec_attrset_expression")
            return Attr(forced(value), key, (binding,), expr, mergeable=True)
        return Attr(Thunk(expr, env), key, (binding,), expr)

    def _inherit(self, target: AttrsV, binding: Node, env: Env, outer: Env) -> None:
        attrs = fld(binding, "attrs")
        source_expr = fld(binding, "expression")
        for ident in fields(attrs, "attr") if attrs is not None else []:
            name = self.attr_name(ident, outer)
            if source_expr is None:  # `inherit x;` takes x from the enclosing scope, even in a rec set
                thunk = Thunk(compute=partial(self.lookup, ident, name, outer))
            else:
                thunk = Thunk(compute=partial(self._inherited, Thunk(source_expr, env), name, ident))
            merge_attr(self.source, target, name, Attr(thunk, ident, (binding,), ident))

    def _inherited(self, source: Thunk, name: str, ident: Node) -> Val:
        return self.select(self.force(source), name, ident)

    def attr_name(self, node: Node, env: Env) -> str:
        """An attribute name as written: identifier, "string", or ${…} with a static string value."""
        if node.type == "identifier":
            return self.source.text(node)
        if node.type in ("string_expression", "interpolation"):
            value = self.eval(node if node.type == "string_expression" else named(node)[0], env)
            if isinstance(value, Scalar) and isinstance(value.data, str):
                return value.data
        raise NotStatic(node, "a computed attribute name")

    # ---- variables and selection ----------------------------------------------------------------

    def lookup(self, node: Node, name: str, env: Env) -> Val:
        """A variable: lexical scopes first, then `with` scopes innermost first (Nix's rule)."""
        scope: Env | None = env
        while scope is not None:
            if scope.with_ is None and name in scope.names:
                return self.force(scope.names[name].thunk)
            scope = scope.parent
        if name in BUILTIN_NAMES:  # builtins are lexical in Nix: no `with` can shadow them
            return builtin_value(name, node)
        scope = env
        while scope is not None:
            if scope.with_ is not None:
                with_value = self.force(scope.with_)
                if not isinstance(with_value, AttrsV | Opaque):
                    raise NotStatic(node, "`with` on a value that is not an attribute set")
                if isinstance(with_value, Opaque) and with_value.name != "lib":
                    raise NotStatic(node, f"{name!r} may come from `with {with_value.name};`")
                try:
                    return self.select(with_value, name, node)
                except NotStatic:
                    if isinstance(with_value, Opaque):
                        raise
            scope = scope.parent
        return builtin_value(name, node)

    def select(self, value: Val, name: str, node: Node) -> Val:
        """value.name: a set's attribute, lib's mk* functions; anything from outside is NotStatic."""
        if isinstance(value, AttrsV):
            attr = value.attrs.get(name)
            if attr is None:
                raise NotStatic(node, f"attribute {name!r} is not defined here")
            return self.force(attr.thunk)
        if isinstance(value, Opaque):
            if value.name == "lib" or (value.name == "builtins" and name == "toString"):
                return lib_function(name, node)
            if value.name == "pkgs" and name == "lib":
                return Opaque("lib")
            raise NotStatic(node, f"`{value.name}.{name}` is known only when Nix evaluates the system")
        raise NotStatic(node, f"selects {name!r} from a value that is not an attribute set")


def lib_function(name: str, node: Node) -> Builtin:
    """lib.mkForce / mkDefault / mkOverride / mkOptionDefault / toString as functions."""
    if name in PRIORITIES or name == "toString":
        return Builtin(name, 1)
    if name == "mkOverride":
        return Builtin(name, 2)
    raise NotStatic(node, f"`lib.{name}` is applied by the module system")


def builtin_value(name: str, node: Node) -> Val:
    """The value of a name no scope defines: true/false/null, toString, builtins; else NotStatic."""
    constants: dict[str, Data] = {"true": True, "false": False, "null": None}
    if name in constants:
        return Scalar(constants[name], node)
    if name == "toString":
        return Builtin("toString", 1)
    if name == "builtins":
        return Opaque("builtins", node)
    if name == "import":
        raise NotStatic(node, "imports another file")
    if name in BUILTIN_NAMES:
        raise NotStatic(node, f"the builtin `{name}`")
    raise NotStatic(node, f"undefined variable {name!r}")


def merge_attr(source: Source, target: AttrsV, name: str, new: Attr) -> None:
    """Add an attribute, merging two attribute-set definitions as Nix's parser does.

    A dotted path walks into any set already defined (`a = { b.c = 1; }; a.b.d = 2;`); a `{ … }` literal
    merges into an existing set one level deep only (`a.b.c = 1; a = { b.d = 2; };` is an error).
    """
    old = target.attrs.get(name)
    if old is None:
        target.attrs[name] = new
        return
    if old.mergeable and new.mergeable:
        old_set, new_set = old.thunk.value, new.thunk.value
        assert isinstance(old_set, AttrsV) and isinstance(new_set, AttrsV)
        for key, attr in new_set.attrs.items():
            if new.expr is not None and key in old_set.attrs:  # a `{ … }` literal merges one level only
                _defined_twice(source, key, old_set.attrs[key], attr)
            merge_attr(source, old_set, key, attr)
        old_set.homes.extend(new_set.homes)
        target.attrs[name] = replace(old, bindings=old.bindings + new.bindings, expr=old.expr or new.expr)
        return
    _defined_twice(source, name, old, new)


def _defined_twice(source: Source, name: str, old: Attr, new: Attr) -> None:
    raise ConfigError(f"attribute {name!r} is defined twice (first at {source.location(old.key)})",
                      location=source.location(new.key), excerpt=source.line_text(new.key.start_byte),
                      hint="Nix rejects this file too: remove one of the two definitions")


def string_of(evaluator: Evaluator, node: Node, env: Env) -> Scalar:
    """A string literal node (either form) with its interpolations evaluated."""

    def interpolate(expr: Node) -> str:
        value = evaluator.eval(expr, env)
        if isinstance(value, Scalar) and isinstance(value.data, str):
            return value.data
        raise NotStatic(expr, "interpolates a value that is not a string (Nix needs toString here)")

    return Scalar(string_value(evaluator.source, node, interpolate), node)
