"""The expression rules of the static Nix evaluator: one small function per kind of syntax node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ollama_sync.core.nix.evaluate import (
    PRIORITIES,
    AttrsV,
    Builtin,
    Env,
    Evaluator,
    ListV,
    NotStatic,
    Scalar,
    Thunk,
    Val,
    string_of,
)
from ollama_sync.core.nix.tree import field, fields, named

if TYPE_CHECKING:
    from tree_sitter import Node

_UNSUPPORTED = {
    "if_expression": "an `if`, decided when Nix evaluates the system",
    "function_expression": "a function",
    "assert_expression": "an `assert`",
    "has_attr_expression": "a `?` test",
    "path_expression": "a path (Nix copies it to the store)",
    "hpath_expression": "a path (Nix copies it to the store)",
    "spath_expression": "a <…> search path",
    "uri_expression": "a URI literal",
    "let_attrset_expression": "a legacy `let { … }`",
}


def evaluate(ev: Evaluator, node: Node, env: Env) -> Val:
    """The value of node in env; NotStatic for anything beyond data."""
    rule = _RULES.get(node.type)
    if rule is None:
        raise NotStatic(node, _UNSUPPORTED.get(node.type, f"a {node.type.replace('_', ' ')}"))
    return rule(ev, node, env)


def _integer(ev: Evaluator, node: Node, env: Env) -> Val:
    return Scalar(int(ev.source.text(node)), node)


def _float(ev: Evaluator, node: Node, env: Env) -> Val:
    return Scalar(float(ev.source.text(node)), node)


def _string(ev: Evaluator, node: Node, env: Env) -> Val:
    return string_of(ev, node, env)


def _variable(ev: Evaluator, node: Node, env: Env) -> Val:
    name_node = field(node, "name")
    assert name_node is not None
    return ev.lookup(node, ev.source.text(name_node), env)


def _paren(ev: Evaluator, node: Node, env: Env) -> Val:
    return ev.eval(named(node)[0], env)


def _list(ev: Evaluator, node: Node, env: Env) -> Val:
    return ListV(tuple(Thunk(item, env) for item in named(node)), node)


def _attrset(ev: Evaluator, node: Node, env: Env) -> Val:
    return ev.attrset(node, env, recursive=node.type == "rec_attrset_expression")[0]


def _let(ev: Evaluator, node: Node, env: Env) -> Val:
    _, inner = ev.attrset(node, env, recursive=True)
    body = field(node, "body")
    assert body is not None
    return ev.eval(body, inner)


def _with(ev: Evaluator, node: Node, env: Env) -> Val:
    scope, body = field(node, "environment"), field(node, "body")
    assert scope is not None and body is not None
    return ev.eval(body, Env({}, env, with_=Thunk(scope, env)))


def _select(ev: Evaluator, node: Node, env: Env) -> Val:
    if field(node, "default") is not None:
        raise NotStatic(node, "an `or` default, decided when Nix evaluates the system")
    base, path = field(node, "expression"), field(node, "attrpath")
    assert base is not None and path is not None
    value = ev.eval(base, env)
    for part in fields(path, "attr"):
        value = ev.select(value, ev.attr_name(part, env), node)
    return value


def _unary(ev: Evaluator, node: Node, env: Env) -> Val:
    operator, argument = field(node, "operator"), field(node, "argument")
    assert operator is not None and argument is not None
    value = ev.eval(argument, env)
    if ev.source.text(operator) == "-" and isinstance(value, Scalar) and type(value.data) in (int, float):
        return Scalar(-value.data, node)  # type: ignore[operator]  # int or float, checked above
    raise NotStatic(node, f"the operator {ev.source.text(operator)!r}")


def _binary(ev: Evaluator, node: Node, env: Env) -> Val:
    left_node, op_node, right_node = field(node, "left"), field(node, "operator"), field(node, "right")
    assert left_node is not None and op_node is not None and right_node is not None
    operator = ev.source.text(op_node)
    if operator not in ("+", "++", "//"):
        raise NotStatic(node, f"the operator {operator!r}")
    left, right = ev.eval(left_node, env), ev.eval(right_node, env)
    if operator == "++" and isinstance(left, ListV) and isinstance(right, ListV):
        return ListV(left.items + right.items, node)
    if operator == "//" and isinstance(left, AttrsV) and isinstance(right, AttrsV):
        return AttrsV({**left.attrs, **right.attrs}, node, [])
    if operator == "+" and isinstance(left, Scalar) and isinstance(right, Scalar):
        for kind in (str, int):
            if type(left.data) is kind and type(right.data) is kind:
                return Scalar(left.data + right.data, node)  # type: ignore[operator]  # same kind, checked
    raise NotStatic(node, f"{operator!r} on these operands")


def _apply(ev: Evaluator, node: Node, env: Env) -> Val:
    function_node, argument = field(node, "function"), field(node, "argument")
    assert function_node is not None and argument is not None
    try:
        function = ev.eval(function_node, env)
    except NotStatic as exc:
        if exc.node is function_node:  # blame the whole call (`lib.mkIf c v`), not just its head
            raise NotStatic(node, exc.reason) from None
        if exc.node.type == "function_expression":  # a call of a function the file defines
            raise NotStatic(node, "a function call") from None
        raise
    if not isinstance(function, Builtin):
        raise NotStatic(node, "a function call")
    applied = replace(function, args=(*function.args, Thunk(argument, env)))
    if len(applied.args) < applied.arity:
        return applied
    return _call(ev, applied, node)


def _call(ev: Evaluator, fn: Builtin, node: Node) -> Val:
    if fn.name == "toString":
        return Scalar(_to_string(ev.force(fn.args[0]), node), node)
    if fn.name == "mkOverride":
        priority = ev.force(fn.args[0])
        if not (isinstance(priority, Scalar) and type(priority.data) is int):
            raise NotStatic(node, "mkOverride with a priority that is not an integer")
        return _with_priority(ev.force(fn.args[1]), priority.data)
    return _with_priority(ev.force(fn.args[0]), PRIORITIES[fn.name])


def _with_priority(value: Val, priority: int) -> Val:
    if isinstance(value, Scalar | ListV | AttrsV):
        return replace(value, priority=priority)
    return value


def _to_string(value: Val, node: Node) -> str:
    if isinstance(value, Scalar):
        data = value.data
        if isinstance(data, bool):
            return "1" if data else ""
        if data is None:
            return ""
        if isinstance(data, float):
            return f"{data:f}"  # C's %f, as Nix prints floats
        return str(data)
    raise NotStatic(node, "toString of a value that is not a string, number, boolean or null")


_RULES: dict[str, Callable[[Evaluator, Node, Env], Val]] = {
    "integer_expression": _integer,
    "float_expression": _float,
    "string_expression": _string,
    "indented_string_expression": _string,
    "variable_expression": _variable,
    "parenthesized_expression": _paren,
    "list_expression": _list,
    "attrset_expression": _attrset,
    "rec_attrset_expression": _attrset,
    "let_expression": _let,
    "with_expression": _with,
    "select_expression": _select,
    "unary_expression": _unary,
    "binary_expression": _binary,
    "apply_expression": _apply,
}
