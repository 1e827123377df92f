"""The server's log: `server config` lines as each release prints them (tests/fixtures/ollama), error lines."""

from __future__ import annotations

import json

import pytest

from ollama_sync.system.server_log import (
    LogEventKind,
    find_events,
    lines_since_last_start,
    parse_env_map,
    parse_server_config,
)
from tests.conftest import FIXTURES

OLLAMA = FIXTURES / "ollama"
RECORDED = sorted(p.stem for p in OLLAMA.glob("server-config-*.log"))


def test_every_release_is_recorded() -> None:
    assert {name.split("-")[2] for name in RECORDED} >= {"v0.1.38", "v0.3.11", "v0.5.7", "v0.12.10", "v0.32.15"}


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_lines_parse_to_the_printed_map(name: str) -> None:
    lines = (OLLAMA / f"{name}.log").read_text().splitlines()
    expected = json.loads((OLLAMA / f"{name}.json").read_text())
    config = parse_server_config(lines)
    assert config is not None
    assert dict(config.env) == expected
    assert config.line_number == 2


def test_lower_case_proxy_keys_are_not_glued_to_the_key_before() -> None:
    env = parse_env_map("map[OLLAMA_SCHED_SPREAD:false ROCR_VISIBLE_DEVICES: http_proxy: https_proxy: no_proxy:]")
    assert env == {"OLLAMA_SCHED_SPREAD": "false", "ROCR_VISIBLE_DEVICES": "", "http_proxy": "",
                   "https_proxy": "", "no_proxy": ""}


@pytest.mark.parametrize(("text", "expected"), [
    ("map[A:x B:y]", {"A": "x", "B": "y"}),
    ("map[A:x y:z B:1]", {"A": "x y:z", "B": "1"}),  # a lower-case word is not a key
    ("map[B:x A:1]", {"B": "x A:1"}),  # fmt sorts keys: a smaller name cannot start the next key
    ("map[A:[p Q:r] B:]", {"A": "[p Q:r]", "B": ""}),  # inside brackets
    ("map[A:map[k:v] B:2]", {"A": "map[k:v]", "B": "2"}),
    ("map[A:C:\\x B:3]", {"A": "C:\\x", "B": "3"}),  # a colon not after a space
    ("map[A:1 B:tw", {"A": "1", "B": "tw"}),  # a line cut before its end
])
def test_key_boundaries(text: str, expected: dict[str, str]) -> None:
    assert parse_env_map(text) == expected


def test_older_log_layout_and_version() -> None:
    lines = ['2024/05/01 10:00:00 routes.go:1008: INFO server config env="map[OLLAMA_DEBUG:false OLLAMA_HOST:]"',
             "time=x level=INFO msg=\"Listening on 127.0.0.1:11434 (version 0.1.38)\""]
    config = parse_server_config(lines)
    assert config is not None and dict(config.env) == {"OLLAMA_DEBUG": "false", "OLLAMA_HOST": ""}
    assert config.version == "0.1.38"


def test_bind_error_without_config_line() -> None:
    """The real server binds before it logs: a taken port leaves only the error, no `server config`."""
    lines = ["Error: listen tcp 127.0.0.1:11434: bind: address already in use"]
    assert parse_server_config(lines) is None
    events = find_events(lines)
    assert [e.kind for e in events] == [LogEventKind.ADDRESS_IN_USE]
    assert lines_since_last_start(lines) == lines


@pytest.mark.parametrize("goos", ["linux", "darwin"])
def test_standin_prints_the_recorded_key_set(goos: str) -> None:
    """The stand-in copies v0.32.15: the same keys, in the same order, as the recorded line for the platform."""
    recorded = json.loads((OLLAMA / f"server-config-v0.32.15-{goos}.json").read_text())
    from tests.standin import ollama_standin  # noqa: PLC0415

    assert ollama_standin.config_keys(goos) == list(recorded)  # the .json is written with sorted keys
