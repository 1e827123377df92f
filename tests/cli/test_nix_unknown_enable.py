"""Unknown is not true: an `enable` (or host/port) the static reader cannot evaluate blocks plan and apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ollama_sync.cli import run

HOST = """{ config, lib, ... }: {
  services.ollama = {
    enable = if config.networking.hostName == "gpu-box" then true else false;
    host = "0.0.0.0";
  };
}
"""


def setup(tmp_path: Path, body: str = HOST, flavor: str = "nixos") -> Path:
    (tmp_path / "host.nix").write_text(body)
    config = tmp_path / "config.toml"
    config.write_text(f'source = "host.nix"\nflavor = "{flavor}"\n')
    return config


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("command", [["plan"], ["apply", "--yes"], ["check"]])
def test_unresolved_enable_writes_nothing_and_exits_1(tmp_path: Path, command: list[str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = setup(tmp_path)
    root = tmp_path / "root"
    assert run(["--root", str(root), "--config", str(config), *command]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "host.nix:3:14: error[nix-unevaluated] enable is not read" in text
    assert "--eval nix" in text
    assert files_under(root) == []  # no service file, no journal, nothing


def test_unresolved_enable_under_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = setup(tmp_path)
    assert run(["--root", str(tmp_path / "root"), "--config", str(config), "--json", "plan"]) == 1
    doc = json.loads(capsys.readouterr().out)
    [finding] = [f for f in doc["findings"] if f["code"] == "nix-unevaluated"]
    assert finding["severity"] == "error" and finding["location"]["line"] == 3


@pytest.mark.parametrize("line", [
    'port = if config.x then 1 else 2;',
    'environmentVariables.OLLAMA_HOST = config.x;',
    '${config.name} = true;',
])
def test_other_unresolved_listening_settings_block_too(tmp_path: Path, line: str) -> None:
    body = "{ config, ... }: { services.ollama = { enable = true; " + line + " }; }\n"
    config = setup(tmp_path, body, flavor="custom")
    assert run(["--root", str(tmp_path / "root"), "--config", str(config), "plan"]) == 1
    assert files_under(tmp_path / "root") == []
