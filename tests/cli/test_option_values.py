"""Every CLI option value is validated (enum choices, release numbers, finite timeouts), and `set` refuses
a value no file can hold exactly (issue #11)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ollama_sync.cli import run

CONFIG = '[service]\nbackend = "supervisord"\nbinary = "/usr/bin/ollama"\n\n[ollama]\nport = 11434\n'


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def _cli(config: Path, *args: str) -> int:
    return run(["--root", str(config.parent / "root"), "--config", str(config), *args])


@pytest.mark.parametrize("args", [
    ("apply", "--yes", "--lock-timeout", "nan"), ("apply", "--yes", "--lock-timeout", "inf"),
    ("apply", "--yes", "--lock-timeout", "-1"), ("apply", "--yes", "--timeout", "nan"),
    ("apply", "--yes", "--timeout", "0"), ("apply", "--yes", "--timeout", "1e309"),
    ("rollback", "--timeout", "-inf"), ("rollback", "--lock-timeout", "NaN"),
])
def test_timeouts_must_be_finite_and_in_range(config: Path, args: tuple[str, ...],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config, *args) == 2
    err = capsys.readouterr().err
    assert "is not a finite number of seconds" in err or "is not in the range" in err
    assert not (config.parent / "root").exists()  # refused before anything was touched


@pytest.mark.parametrize("version", ["-1.2.3", "1.2.3.4", "latest", "1.2", "v1.2.3x", " 1.2.3"])
def test_ollama_version_must_be_a_release_number(config: Path, version: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config, "check", "--ollama-version", version) == 2
    assert f"--ollama-version {version!r} is not a release number" in capsys.readouterr().err


@pytest.mark.parametrize("version", ["0.5.7", "v0.12.3", "0.13.0-rc1"])
def test_release_numbers_are_accepted(config: Path, version: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config, "check", "--ollama-version", version) == 0
    assert f"judged against Ollama {version.removeprefix('v')}" in capsys.readouterr().out


def test_kv_cache_type_is_a_choice(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config, "memory", "--kv-cache-type", "q1_evil") == 2
    err = capsys.readouterr().err
    assert "Invalid value for '--kv-cache-type'" in err and "q8_0" in err


@pytest.mark.parametrize("size", ["9" * 30 + "G", "nan", "inf", "-1G", "1e9G"])
def test_memory_sizes_are_bounded(config: Path, size: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config, "memory", "--ram", size) == 2
    assert "is not a size" in capsys.readouterr().err


@pytest.mark.parametrize(("key", "value", "words"), [
    ("host", "caf\udcc3", "not valid UTF-8 (byte 0xc3)"),  # how Python hands over a non-UTF-8 argument
    ("environment.OLLAMA_X", "a\udcffb", "not valid UTF-8 (byte 0xff)"),
    ("models", '["llama3.2", "a\\u0000b"]', "contains a NUL character"),
    ("environment.OLLAMA_X", "a\x00b", "contains a NUL character"),
])
def test_set_refuses_a_value_no_file_can_hold(config: Path, key: str, value: str, words: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config, "set", key, value) == 2
    assert words in capsys.readouterr().err
    assert config.read_text() == CONFIG


def test_set_writes_other_unicode_exactly(config: Path) -> None:
    # without --root: under a root, set edits a copy inside it
    assert run(["--config", str(config), "set", "environment.OLLAMA_ORIGINS", "https://café.example\u2028"]) == 0
    env = tomllib.loads(config.read_text())["ollama"]["environment"]
    assert env["OLLAMA_ORIGINS"] == "https://café.example\u2028"
