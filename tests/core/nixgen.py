"""Hypothesis strategies: attribute sets rendered to Nix text with random layout, comments and string forms."""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypeVar

from hypothesis import strategies as st

from ollama_sync.core.nix.edit import nix_key

T = TypeVar("T")


class Draw(Protocol):
    """What draws a value: a composite's `draw` (st.DrawFn) or `DataObject.draw`."""

    def __call__(self, strategy: st.SearchStrategy[T], /) -> T: ...


SURROGATES: tuple[Literal["Cs"]] = ("Cs",)  # unpaired surrogates cannot be encoded
KEYWORDS = {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or", "true", "false", "null"}
identifiers = st.from_regex(r"[a-z_][a-zA-Z0-9_'-]{0,7}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
odd_keys = st.text(st.characters(blacklist_categories=SURROGATES, blacklist_characters="\r\x00"),
                   min_size=1, max_size=6)
keys = st.one_of(identifiers, identifiers, odd_keys)
texts = st.text(st.characters(blacklist_categories=SURROGATES, blacklist_characters="\x00"), max_size=16)
scalars = st.one_of(st.integers(-(2**40), 2**40), st.booleans(), st.none(), texts)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(keys, inner, max_size=3)), max_leaves=8)
attrsets = st.dictionaries(keys, values, min_size=1, max_size=5)


@st.composite
def gaps(draw: st.DrawFn) -> str:
    """Whitespace between two tokens, sometimes with a comment."""
    space = draw(st.sampled_from([" ", "  ", "\n", "\n    ", "\t", " \n  "]))
    comment = draw(st.sampled_from(["", "", "", "# note ü\n", "/* c */", "/* multi\n line */", "#\n"]))
    return space + comment + (" " if comment else "")


def _string(draw: Draw, value: str) -> str:
    indented_ok = value and "\n" not in value and "\r" not in value and not value.startswith((" ", "\t"))
    if indented_ok and draw(st.booleans()):
        body = value.replace("'", "''\\'").replace("${", "''${")
        return "''" + body + "''"
    escaped = "".join({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, c) for c in value)
    return '"' + escaped.replace("${", "\\${") + '"'


def render(draw: Draw, value: Any, *, in_list: bool = False) -> str:
    """A value as Nix text, layout and string form drawn at random (`-1` needs parentheses in a list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value) if value >= 0 else f"-{-value}" if not in_list and draw(st.booleans()) else f"({value})"
    if isinstance(value, str):
        return _string(draw, value)
    if isinstance(value, list):
        return "[" + "".join(draw(gaps()) + render(draw, v, in_list=True) for v in value) + draw(gaps()) + "]"
    return "{" + "".join(bindings(draw, value, ())) + draw(gaps()) + "}"


def bindings(draw: Draw, value: dict[str, Any], prefix: tuple[str, ...]) -> list[str]:
    """`k = v;` lines; a non-empty set is sometimes written as dotted paths `k.k2 = v2;` instead."""
    out: list[str] = []
    for key, item in value.items():
        path = (*prefix, key)
        if isinstance(item, dict) and item and draw(st.booleans()):
            out.extend(bindings(draw, item, path))
            continue
        dotted = draw(gaps()).join([""]) + ".".join(nix_key(k) for k in path)
        out.append(f"{draw(gaps())}{dotted}{draw(gaps())}={draw(gaps())}{render(draw, item)}{draw(gaps())};")
    return out


@st.composite
def modules(draw: st.DrawFn, sets: st.SearchStrategy[dict[str, Any]] = attrsets) -> tuple[dict[str, Any], str]:
    """(the set, a module file declaring it at custom.services.ollama in one of several layouts)."""
    value = draw(sets)
    header = draw(st.sampled_from(["", "{ config, pkgs, lib, ... }:\n", "{ lib, ... }: "]))
    if draw(st.booleans()):
        body = "{" + "".join(bindings(draw, value, ("custom", "services", "ollama"))) + "\n}\n"
    else:
        body = "{\n  custom.services.ollama =" + draw(gaps()) + render(draw, value) + ";\n}\n"
    return value, header + body
