"""Where ollama-sync keeps its state and looks for its config: the folders users already have."""

from __future__ import annotations

import os

import pytest

from ollama_sync.system.machine import default_config_path, default_state_dir, read_machine


def test_state_dir_on_macos_is_application_support() -> None:
    assert default_state_dir("Darwin", "/Users/alice", {"XDG_STATE_HOME": "/elsewhere"}) == \
        "/Users/alice/Library/Application Support/ollama-sync"


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "/home/bob/.local/state/ollama-sync"),
    ({"XDG_STATE_HOME": "/srv/state"}, "/srv/state/ollama-sync"),
])
def test_state_dir_elsewhere_follows_xdg(env: dict[str, str], expected: str) -> None:
    assert default_state_dir("Linux", "/home/bob", env) == expected


@pytest.mark.parametrize(("system", "env", "expected"), [
    ("Darwin", {}, "/h/.config/ollama-sync/config.toml"),
    ("Linux", {}, "/h/.config/ollama-sync/config.toml"),
    ("Linux", {"XDG_CONFIG_HOME": "/c"}, "/c/ollama-sync/config.toml"),
])
def test_config_path_is_xdg_on_every_platform(system: str, env: dict[str, str], expected: str) -> None:
    assert default_config_path(system, "/h", env) == expected


def test_read_machine_uses_the_given_environment() -> None:
    machine = read_machine({"HOME": "/home/carol", "XDG_STATE_HOME": "/home/carol/st"})
    assert machine.home == "/home/carol" and machine.uid == os.getuid()
    if os.uname().sysname == "Linux":
        assert machine.state_dir == "/home/carol/st/ollama-sync"
    assert read_machine({"HOME": "/h", "OLLAMA_SYNC_STATE_DIR": "/override"}).state_dir == "/override"
