"""Property tests: any environment value round-trips exactly through each format, or is rejected with an
`unsafe-value` finding, and then only when the format truly cannot carry it.

The readers: plistlib for launchd; for systemd an independent reading per systemd.syntax(7)
(tests/core/systemd_syntax.py). supervisord's real parser and the real tools are in
tests/system/test_render_properties_real.py.
"""

from __future__ import annotations

import plistlib
from dataclasses import replace
from xml.parsers.expat import ExpatError

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ollama_sync.core.render import MARKER, Rendered, launchd, render, systemd
from ollama_sync.core.settings import Backend, OllamaSettings
from ollama_sync.core.target import Target
from tests.core import systemd_syntax
from tests.core.render_cases import SOURCE, TARGETS, declaration, render_with
from tests.core.render_strategies import any_names, names, values

LAUNCHD = TARGETS["launchd-agent"]
SYSTEMD = TARGETS["systemd-system"]
DROPIN = TARGETS["systemd-dropin"]


def _rejected_for(rendered: Rendered, env: dict[str, str]) -> set[str]:
    """The variables rendering refused; asserts that refusal is the only outcome and is well-formed."""
    assert rendered.content is None
    assert rendered.findings
    assert all(f.code == "unsafe-value" and f.severity.value == "error" for f in rendered.findings)
    refused = {f.variable for f in rendered.findings}
    assert refused <= set(env)
    return {name for name in refused if name is not None}


def _plist_reads_back(env: dict[str, str], target: Target) -> bool:
    """Does the plist written WITHOUT the safety checks carry env exactly?"""
    try:
        data = launchd.render_plist(env, target, SOURCE)
        return bool(plistlib.loads(data)["EnvironmentVariables"] == env)
    except (ValueError, UnicodeError, ExpatError):  # ExpatError: not well-formed XML, e.g. U+FFFE
        return False


def _unit_reads_back(env: dict[str, str], target: Target) -> bool:
    """Does the unit written WITHOUT the safety checks read back as env by systemd's rules?"""
    try:
        return systemd_syntax.environment(systemd.render_unit(env, target, SOURCE).decode()) == env
    except (systemd_syntax.SyntaxProblem, UnicodeError):
        return False


@settings(max_examples=150)
@given(value=values)
def test_launchd_value_round_trips_or_is_rejected_for_cause(value: str) -> None:
    env = {"OLLAMA_X": value}
    rendered = render_with(LAUNCHD, env)
    event("rendered" if rendered.content is not None else "rejected")
    if rendered.content is not None:
        assert plistlib.loads(rendered.content)["EnvironmentVariables"] == env
    else:
        assert _rejected_for(rendered, env) == {"OLLAMA_X"}
        assert not _plist_reads_back(env, LAUNCHD)


@settings(max_examples=150)
@given(value=values, dropin=st.booleans())
def test_systemd_value_round_trips_or_is_rejected_for_cause(value: str, dropin: bool) -> None:
    env = {"OLLAMA_X": value}
    target = DROPIN if dropin else SYSTEMD
    rendered = render_with(target, env)
    event("rendered" if rendered.content is not None else "rejected")
    if rendered.content is not None:
        assert systemd_syntax.environment(rendered.content.decode()) == env
    else:
        assert _rejected_for(rendered, env) == {"OLLAMA_X"}
        assert not _unit_reads_back(env, target)


@settings(max_examples=60)
@given(env=st.dictionaries(names, values, max_size=6))
def test_many_values_keep_their_order_independent_reading(env: dict[str, str]) -> None:
    for target, read in ((LAUNCHD, lambda b: plistlib.loads(b)["EnvironmentVariables"]),
                         (SYSTEMD, lambda b: systemd_syntax.environment(b.decode()))):
        rendered = render_with(target, env)
        if rendered.content is not None:
            assert read(rendered.content) == env
        else:
            refused = _rejected_for(rendered, env)
            assert refused
            for name in refused:  # each refused variable is unrenderable on its own
                assert render_with(target, {name: env[name]}).content is None


@settings(max_examples=60)
@given(name=any_names)
def test_variable_names_render_only_when_valid(name: str) -> None:
    valid = systemd_syntax._NAME.match(name) is not None
    for target in (LAUNCHD, SYSTEMD, TARGETS["supervisord"]):
        rendered = render_with(target, {name: "1"})
        assert (rendered.content is not None) == valid
        if not valid:
            assert _rejected_for(rendered, {name: "1"}) == {name}


@settings(max_examples=50)
@given(source=values)
def test_marker_stays_one_line_whatever_the_declaration_path(source: str) -> None:
    decl = replace(declaration(OllamaSettings(), env={"OLLAMA_X": "1"}), source=source)
    for target in (LAUNCHD, SYSTEMD, DROPIN, TARGETS["supervisord"]):
        content = render(decl, target).content
        assert content is not None
        lines = content.decode().splitlines()
        assert sum(MARKER in line for line in lines) == 1
        if target.backend is Backend.LAUNCHD:
            assert plistlib.loads(content)["EnvironmentVariables"] == {"OLLAMA_X": "1"}  # the comment is valid XML
        elif target.backend is Backend.SYSTEMD:
            assert systemd_syntax.environment(content.decode()) == {"OLLAMA_X": "1"}
