"""Property tests against the real readers: supervisord's parser for every example; plistutil, systemd-analyze
verify and systemd's test mode on a smaller sample of accepted values (each example starts processes)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ollama_sync.core.render import supervisord
from tests.core.render_cases import SOURCE, TARGETS, render_with
from tests.core.render_strategies import names, values
from tests.system.render_tools import (
    dump_environment_block,
    fake_binary,
    plistutil_read,
    supervisord_read,
    supervisord_target,
    systemd_test_mode_unit,
    systemd_verify,
)

pytestmark = pytest.mark.slow
REAL = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _supervisord_reads(content: bytes, tmp: Path) -> dict[str, str] | None:
    """The environment supervisord's parser builds from content, or None when it refuses the file."""
    try:
        (proc,) = supervisord_read(content, tmp)
    except ValueError:
        return None
    return dict(proc.environment)  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None)
@given(value=values)
def test_supervisord_value_round_trips_or_is_rejected_for_cause(value: str) -> None:
    env = {"OLLAMA_X": value}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        target = supervisord_target(TARGETS["supervisord"], tmp)
        rendered = render_with(target, env)
        event("rendered" if rendered.content is not None else "rejected")
        if rendered.content is not None:
            assert _supervisord_reads(rendered.content, tmp) == env
            return
        assert {f.variable for f in rendered.findings} == {"OLLAMA_X"}
        assert all(f.code == "unsafe-value" for f in rendered.findings)
        if "\x00" in value:
            return  # refused for every backend: no process environment can hold NUL (execve), whatever the parser does
        try:
            unchecked = supervisord.render_program(env, target, SOURCE)
        except UnicodeError:
            return  # not even encodable
        assert _supervisord_reads(unchecked, tmp) != env


def _accepted(env: dict[str, str], case: str) -> dict[str, str]:
    """The part of env that the renderer accepts for case (each variable judged alone)."""
    return {k: v for k, v in env.items() if render_with(TARGETS[case], {k: v}).content is not None}


@REAL
@given(env=st.dictionaries(names, values, max_size=8))
def test_plistutil_reads_every_accepted_value(env: dict[str, str]) -> None:
    env = _accepted(env, "launchd-agent")
    rendered = render_with(TARGETS["launchd-agent"], env)
    assert rendered.content is not None
    with tempfile.TemporaryDirectory() as scratch:
        assert plistutil_read(rendered.content, Path(scratch))["EnvironmentVariables"] == env


@REAL
@given(env=st.dictionaries(names, values, max_size=8))
def test_systemd_reads_every_accepted_value(env: dict[str, str]) -> None:
    env = _accepted(env, "systemd-system")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        binary = fake_binary(tmp / "bin")
        rendered = render_with(replace(TARGETS["systemd-system"], binary=str(binary), log_path=None), env)
        assert rendered.content is not None
        unit = tmp / "units" / "ollama.service"
        unit.parent.mkdir()
        unit.write_bytes(rendered.content)
        assert systemd_verify(unit) == ""
        dump = systemd_test_mode_unit(unit.parent, "ollama.service")
        assert dump_environment_block(dict(sorted(env.items()))) in dump
