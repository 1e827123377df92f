"""`set` round trips with hostile values: the tool's own error, or the file re-reads to exactly the value."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.setting_edit import set_setting
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.errors import OllamaSyncError
from tests.conftest import REPO
from tests.fuzz.conftest import FUZZ

TOML = '[service]\nbackend = "supervisord"\n\n[ollama]\nport = 11434  # the port\n\n[ollama.environment]\nA = "1"\n'
NIX_CONFIG = 'source = "reference-setup.nix"\nattribute = "custom.services.ollama"\n[service]\nbackend = "launchd"\n'
VALUES = st.one_of(st.text(max_size=30), st.sampled_from(['"', "\\", "${x}", "''", "\n", "#", "]", "=", "\ufeff",
                                                          "\u2028", "a\"b'c", "\\u0000", "$", "''${", "\r\n"]))
NAMES = st.from_regex(r"OLLAMA_[A-Z0-9_]{1,12}", fullmatch=True)


def _context(config: Path) -> Context:
    return Context(GlobalOptions(config=str(config)), environ={"PATH": "/nonexistent"})


@FUZZ
@given(NAMES, VALUES)
def test_toml_set_round_trip(tmp_path_factory: pytest.TempPathFactory, name: str, value: str) -> None:
    config = tmp_path_factory.mktemp("set") / "config.toml"
    config.write_text(TOML)
    try:
        set_setting(_context(config), f"environment.{name}", value)
    except OllamaSyncError:
        assert config.read_text() == TOML  # refused: the file is untouched
        return
    doc = tomllib.loads(config.read_text())
    assert doc["ollama"]["environment"][name] == value
    assert doc["ollama"]["port"] == 11434


@FUZZ
@given(st.integers(-2**70, 2**70).map(str) | st.text(max_size=8))
def test_toml_set_port(tmp_path_factory: pytest.TempPathFactory, value: str) -> None:
    config = tmp_path_factory.mktemp("set") / "config.toml"
    config.write_text(TOML)
    try:
        set_setting(_context(config), "port", value)
    except OllamaSyncError:
        assert config.read_text() == TOML
        return
    assert tomllib.loads(config.read_text())["ollama"]["port"] == int(value)


@FUZZ
@given(NAMES, VALUES)
def test_nix_set_round_trip(tmp_path_factory: pytest.TempPathFactory, name: str, value: str) -> None:
    folder = tmp_path_factory.mktemp("set")
    nix_file = folder / "reference-setup.nix"
    shutil.copy(REPO / "examples" / "reference-setup.nix", nix_file)
    before = nix_file.read_text()
    config = folder / "config.toml"
    config.write_text(NIX_CONFIG)
    try:
        set_setting(_context(config), f"environment.{name}", value)
    except OllamaSyncError:
        assert nix_file.read_text() == before
        return
    table = read_nix_text(nix_file.read_text(), str(nix_file), "custom.services.ollama").table
    env = table["extraEnvironment"].value
    assert isinstance(env, dict) and env[name].value == value
