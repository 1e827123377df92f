"""systemd parsers on real recorded output (tests/fixtures/systemd, systemd 252; see its README)."""

from __future__ import annotations

import json

import pytest

from ollama_sync.core.observation import RunState
from ollama_sync.system.systemctl_parse import (
    failure_hint,
    is_manager_unreachable,
    parse_environ,
    parse_show,
    service_state,
    split_words,
)
from tests.conftest import FIXTURES

SYSTEMD = FIXTURES / "systemd"


def show(name: str) -> str:
    return (SYSTEMD / f"show-{name}.stdout").read_text()


def test_running_unit_with_dropin_environment_round_trips() -> None:
    facts = parse_show(show("ollama"))
    declared = json.loads((SYSTEMD / "tricky-environment.json").read_text())
    assert facts.environment == declared  # rendered by quote_environment, read back from systemd, all equal
    assert (facts.load_state, facts.active_state, facts.sub_state) == ("loaded", "active", "running")
    assert facts.main_pid == 29278
    assert (facts.last_exit, facts.enabled, facts.n_restarts) == (None, True, 0)
    state = service_state(facts, domain="user")
    assert state.state is RunState.RUNNING and state.is_running
    assert state.environment == tuple(sorted(declared.items()))
    assert state.domain == "user"


@pytest.mark.parametrize(("name", "run", "last_exit", "enabled", "words"), [
    ("exits3", RunState.FAILED, 3, False, "last exit: status 3"),
    ("killed", RunState.FAILED, -9, False, "signal 9 (SIGKILL)"),
    ("crashloop", RunState.STARTING, 1, False, "activating (auto-restart)"),
    ("crashloop-fast", RunState.STARTING, 2, False, "times by systemd"),  # NRestarts > 0
    ("stopped", RunState.STOPPED, None, False, "inactive (dead)"),
    ("static", RunState.STOPPED, None, None, "inactive (dead)"),
    ("ollama-after-stop", RunState.STOPPED, None, False, "inactive (dead)"),
    ("nosuch", RunState.NOT_LOADED, None, None, "inactive (dead)"),
])
def test_recorded_states(name: str, run: RunState, last_exit: int | None, enabled: bool | None,
                         words: str) -> None:
    state = service_state(parse_show(show(name)), domain="user")
    assert (state.state, state.pid, state.last_exit, state.enabled) == (run, None, last_exit, enabled)
    assert words in state.detail


@pytest.mark.parametrize(("name", "loop", "runs"), [
    ("crashloop", True, 0), ("crashloop-fast", True, 4), ("ollama", False, 0), ("exits3", False, 0),
    ("stopped", False, 0),
])
def test_recorded_crash_loops_and_run_counts(name: str, loop: bool, runs: int | None) -> None:
    state = service_state(parse_show(show(name)), domain="user")
    assert (state.crash_loop, state.runs) == (loop, runs)
    if loop:
        assert "auto-restart" in state.crash_reason and "status" in state.crash_reason
    else:
        assert state.crash_reason == ""


def test_start_limit_hit_is_a_crash_loop() -> None:
    text = "ActiveState=failed\nSubState=failed\nResult=start-limit-hit\nExecMainCode=1\nExecMainStatus=1\n"
    state = service_state(parse_show(text), domain="user")
    assert state.crash_loop and "status 1" in state.crash_reason
    assert not service_state(parse_show(text.replace("start-limit-hit", "exit-code")), domain="user").crash_loop


def test_empty_and_single_environment() -> None:
    assert parse_show(show("exits3")).environment == {}
    assert parse_show(show("stopped")).environment == {"OLLAMA_HOST": "0.0.0.0"}
    assert parse_show("ActiveState=active\n").environment is None  # not asked for: unknown, not empty


@pytest.mark.parametrize(("text", "words"), [
    ('A=1 "B=two words" C=', ["A=1", "B=two words", "C="]),
    (r'"Q=say \"hi\"" "S=a\\b"', ['Q=say "hi"', "S=a\\b"]),
    (r'"T=a\tb\nc" "D=\$x \`y\`"', ["T=a\tb\nc", "D=$x `y`"]),
    (r'"O=caf\303\251" "H=\x41\x7f"', ["O=café", "H=A\x7f"]),  # octal bytes (cescape_char), hex
    ("OLD=unquoted OTHER=x", ["OLD=unquoted", "OTHER=x"]),  # releases before the quoting
    ("", []),
])
def test_split_words(text: str, words: list[str]) -> None:
    assert split_words(text) == words


def test_parse_environ() -> None:
    data = b"OLLAMA_HOST=127.0.0.1:11500\0OLLAMA_ORIGINS=a b\0EMPTY=\0WEIRD=x=y\0"
    assert parse_environ(data) == {"OLLAMA_HOST": "127.0.0.1:11500", "OLLAMA_ORIGINS": "a b", "EMPTY": "",
                                   "WEIRD": "x=y"}
    assert parse_environ(b"") == {}


def test_failure_hints_on_recorded_errors() -> None:
    no_user = (SYSTEMD / "show-no-user-manager.stderr").read_text()
    no_systemd = (SYSTEMD / "show-no-systemd.stderr").read_text()
    missing = (SYSTEMD / "restart-nosuch.stderr").read_text()
    assert "enable-linger" in (failure_hint(no_user) or "")
    assert "supervisord" in (failure_hint(no_systemd) or "")
    assert "daemon-reload" in (failure_hint(missing) or "")
    assert is_manager_unreachable(no_user) and is_manager_unreachable(no_systemd)
    assert not is_manager_unreachable(missing)
    assert "sudo" in (failure_hint("Failed to restart ollama.service: Access denied") or "")
    assert failure_hint("something else") is None
