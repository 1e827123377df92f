"""apply writes a service file holding credentials 0600, never loosens a stricter mode, and doctor agrees (#11)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from ollama_sync.cli import run
from ollama_sync.core.target import Machine
from tests.fakes import FakeRunner

PLIST = "Users/alice/Library/LaunchAgents/com.github.ollama.plist"
BASE = '[service]\nbackend = "launchd"\nbinary = "/opt/homebrew/bin/ollama"\n\n[ollama]\nport = 11500\n'


def cli(machine: Machine, *args: str) -> int:
    """The CLI in-process on the fake machine (FakeRunner: any subprocess fails the test)."""
    with mock.patch("ollama_sync.app.context.Context.machine", machine), \
            mock.patch("ollama_sync.app.context.SubprocessRunner", FakeRunner):
        return run(list(args))


def doctor_codes(machine: Machine, root: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> set[str]:
    cli(machine, "--root", str(root), "--config", str(config), "--json", "doctor")
    return {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}


def test_secret_file_is_0600_and_stays_so(machine: Machine, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    root, config = tmp_path / "root", tmp_path / "config.toml"
    written = root / PLIST
    config.write_text(BASE + 'environment = { HF_TOKEN = "hf_secret" }\n')
    assert cli(machine, "--root", str(root), "--config", str(config), "apply", "--yes") == 0
    assert written.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert "secrets-readable" not in doctor_codes(machine, root, config, capsys)

    config.write_text(BASE)  # the secret is gone: a stricter mode is still never loosened
    assert cli(machine, "--root", str(root), "--config", str(config), "apply", "--yes") == 0
    assert b"hf_secret" not in written.read_bytes() and written.stat().st_mode & 0o777 == 0o600


def test_a_readable_secret_file_is_flagged_then_tightened(machine: Machine, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    root, config = tmp_path / "root", tmp_path / "config.toml"
    written = root / PLIST
    config.write_text(BASE + 'environment = { HTTPS_PROXY = "http://bob:hunter2@proxy:3128" }\n')
    assert cli(machine, "--root", str(root), "--config", str(config), "apply", "--yes") == 0
    written.chmod(0o644)
    capsys.readouterr()
    assert "secrets-readable" in doctor_codes(machine, root, config, capsys)
    config.write_text(BASE.replace("11500", "11501") + 'environment = { HTTPS_PROXY = "http://bob:hunter2@p:3128" }\n')
    assert cli(machine, "--root", str(root), "--config", str(config), "apply", "--yes") == 0
    assert written.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert "secrets-readable" not in doctor_codes(machine, root, config, capsys)
