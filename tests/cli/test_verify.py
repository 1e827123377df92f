"""`ollama-sync verify` without a live service: refused under --root; the live cases are in tests/e2e_supervisor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ollama_sync.cli import run


def test_verify_under_root_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[service]\nbackend = "systemd"\nbinary = "/usr/bin/ollama"\n\n[ollama]\nport = 11500\n')
    assert run(["--root", str(tmp_path / "root"), "--config", str(config), "verify"]) == 2
    assert "under --root there is nothing live to verify" in capsys.readouterr().err
    assert run(["--root", str(tmp_path / "root"), "--config", str(config), "--json", "verify"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["command"] == "verify"
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").rglob("*"))  # nothing written
