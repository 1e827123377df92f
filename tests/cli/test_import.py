"""`ollama-sync import`: service file → declaration → render gives back the same environment, byte for byte."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from ollama_sync.cli import run
from ollama_sync.core.servicefile import read_systemd
from tests.conftest import FIXTURES, REPO, require_tool

IMPORT = FIXTURES / "import"
PLISTS = ["com.github.ollama.plist", "homebrew.mxcl.ollama.plist", "org.nixos.ollama.plist"]
UNIT = IMPORT / "ollama.service"
DROPINS = sorted((IMPORT / "ollama.service.d").glob("*.conf"))


def plist_env(path: Path) -> dict[str, str]:
    env: dict[str, str] = plistlib.loads(path.read_bytes())["EnvironmentVariables"]
    return env


def systemd_env(unit: Path, dropins: list[Path]) -> dict[str, str]:
    files = [(str(p), p.read_text()) for p in [unit, *dropins]]
    return dict(read_systemd(files).environment)


def import_to(args: list[str], out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    rc = run(["import", *args, "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    return err


def render(config: Path, root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> bytes:
    rc = run(["--root", str(root), "--config", str(config), "render", *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return captured.out.encode()


@pytest.mark.parametrize("name", PLISTS)
def test_plist_round_trip_through_toml(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    import_to([str(IMPORT / name)], config, capsys)
    rendered = plistlib.loads(render(config, tmp_path / "root", capsys))
    assert rendered["EnvironmentVariables"] == plist_env(IMPORT / name)
    original = plistlib.loads((IMPORT / name).read_bytes())
    assert rendered["ProgramArguments"] == original["ProgramArguments"]


def test_reference_plist_becomes_the_reference_declaration(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    config = tmp_path / "config.toml"
    err = import_to([str(IMPORT / "com.github.ollama.plist")], config, capsys)
    text = config.read_text()
    for line in ('host = "0.0.0.0"', "port = 11434", "flash_attention = true", 'kv_cache_type = "q8_0"',
                 'models_path = "/Users/jeridf/.ollama/models"', 'OLLAMA_NUM_CTX = "8192"',
                 'label = "com.github.ollama"', 'binary = "/opt/homebrew/bin/ollama"'):
        assert line in text
    assert "unknown-variable" in err and "OLLAMA_NUM_CTX" in err  # findings are shown
    ours = render(config, tmp_path / "root", capsys)
    reference = render(REPO / "examples" / "reference-setup.toml", tmp_path / "root", capsys)
    assert ours.split(b"<plist", 1)[1] == reference.split(b"<plist", 1)[1]  # identical but for the marker


def test_homebrew_plist_keeps_log_and_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    err = import_to([str(IMPORT / "homebrew.mxcl.ollama.plist")], config, capsys)
    assert 'log_path = "/opt/homebrew/var/log/ollama.log"' in config.read_text()
    assert 'label = "com.github.ollama"' in config.read_text()
    assert "brew services stop ollama" in err
    assert "LimitLoadToSessionType" not in err  # rendered with every session type, as Homebrew writes it


def test_systemd_unit_with_dropins_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    err = import_to([str(UNIT)], config, capsys)
    assert "override.conf sorts after ollama-sync.conf" in err
    unit = render(config, tmp_path / "root", capsys).decode()
    assert read_systemd([("/etc/systemd/system/ollama.service", unit)]).environment == tuple(
        sorted(systemd_env(UNIT, DROPINS).items()))
    assert 'Environment="OLLAMA_MODELS=/srv/ollama models/100%%"' in unit  # `%` written back as systemd wants
    assert "User=ollama" in unit


def test_systemd_round_trip_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    analyze = require_tool("systemd-analyze")
    config = tmp_path / "config.toml"
    import_to([str(UNIT)], config, capsys)
    unit = tmp_path / "ollama.service"
    unit.write_bytes(render(config, tmp_path / "root", capsys))
    fake = tmp_path / "usr/local/bin/ollama"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    text = unit.read_text().replace("/usr/local/bin/ollama", str(fake)).replace("User=ollama\n", "")
    unit.write_text(text)
    done = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False,
                          env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    assert done.returncode == 0, done.stderr
    assert "Environment" not in done.stderr, done.stderr


def test_dropin_given_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = tmp_path / "ollama.service"
    shutil.copy(UNIT, unit)
    extra = tmp_path / "extra.conf"
    extra.write_text('[Service]\nEnvironment="OLLAMA_CONTEXT_LENGTH=4096"\n')
    config = tmp_path / "config.toml"
    import_to([str(unit), "--dropin", str(extra)], config, capsys)
    assert "context_length = 4096" in config.read_text()


@pytest.mark.parametrize("name", PLISTS)
def test_plist_round_trip_through_the_nix_module(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                 ) -> None:
    tool = require_tool("nix-instantiate")
    module = tmp_path / "ollama.nix"
    import_to(["--format", "nix", str(IMPORT / name)], module, capsys)
    env = {**os.environ, "NIX_STATE_DIR": str(tmp_path / "state"), "NIX_LOG_DIR": str(tmp_path / "log")}
    stub = REPO / "tests" / "nix" / "stub.nix"
    expr = f"""let stub = import {stub}; in (stub.evalModule {{
        module = import {REPO / "nix" / "darwin-module.nix"} {{ self = stub.self; }};
        settings = (import {module}).services.ollama-sync; extraConfig.system.primaryUser = "jeridf"; }}).json"""
    done = subprocess.run([tool, "--store", "dummy://", "--eval", "--strict", "--json", "-E", expr],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    config = tmp_path / "ollama-sync.json"
    config.write_text(json.loads(done.stdout))
    rendered = plistlib.loads(render(config, tmp_path / "root", capsys))
    assert rendered["EnvironmentVariables"] == plist_env(IMPORT / name)


def test_never_overwrites_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "config.toml"
    out.write_text("mine\n")
    assert run(["import", str(IMPORT / PLISTS[0]), "--output", str(out)]) == 2
    assert "not overwriting" in capsys.readouterr().err
    assert out.read_text() == "mine\n"
    assert run(["import", str(IMPORT / PLISTS[0]), "--output", str(out), "--force"]) == 0
    assert out.read_text().startswith("# Imported by ollama-sync")


def test_discovers_the_one_service_file_under_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    agents = root / str(Path.home()).lstrip("/") / "Library/LaunchAgents"
    agents.mkdir(parents=True)
    shutil.copy(IMPORT / "homebrew.mxcl.ollama.plist", agents)
    assert run(["--root", str(root), "import"]) == 0
    assert 'kv_cache_type = "q8_0"' in capsys.readouterr().out
    shutil.copy(IMPORT / "com.github.ollama.plist", agents)
    assert run(["--root", str(root), "import"]) == 2
    assert "several Ollama service files found" in capsys.readouterr().err


def test_nothing_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--root", str(tmp_path), "import"]) == 2
    assert "no Ollama service file found" in capsys.readouterr().err


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--json", "import", str(IMPORT / PLISTS[0])]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "import" and doc["format"] == "toml"
    assert "[ollama]" in doc["text"]
    assert {f["code"] for f in doc["findings"]} >= {"unknown-variable"}


def test_bad_plist_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.plist"
    bad.write_text("<?xml version='1.0'?><plist><dict><key>a</key></plist>")
    assert run(["import", str(bad)]) == 2
    assert "not a property list" in capsys.readouterr().err


def test_nix_module_reads_back_through_the_static_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "ollama.nix"
    import_to(["--format", "nix", str(IMPORT / "com.github.ollama.plist")], module, capsys)
    config = tmp_path / "config.toml"
    # no `attribute`: the default attribute list finds the imported module's services.ollama-sync again
    config.write_text('source = "ollama.nix"\n'
                      '[service]\nbackend = "launchd"\nbinary = "/opt/homebrew/bin/ollama"\n')
    assert run(["--root", str(tmp_path / "root"), "--config", str(config), "check"]) == 0
    out = capsys.readouterr().out
    assert "unknown-option" not in out  # the module's own options are known to be Nix-only
    assert "read as flavor 'ollama-sync'" in out
    rendered = plistlib.loads(render(config, tmp_path / "root", capsys))
    assert rendered["EnvironmentVariables"] == plist_env(IMPORT / "com.github.ollama.plist")


def test_homebrew_env_file_is_merged_over_the_plist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Homebrew ≥ 6.0.15 adds ~/.homebrew/services/ollama.env to `brew services` on every start."""
    root = tmp_path / "root"
    home = root / str(Path.home()).lstrip("/")
    (home / "Library/LaunchAgents").mkdir(parents=True)
    shutil.copy(IMPORT / "homebrew.mxcl.ollama.plist", home / "Library/LaunchAgents")
    (home / ".homebrew/services").mkdir(parents=True)
    (home / ".homebrew/services/ollama.env").write_text(
        "# set by me\nexport OLLAMA_KV_CACHE_TYPE=f16\nOLLAMA_ORIGINS='https://app.example'\nnot a line\n")
    assert run(["--root", str(root), "import"]) == 0
    captured = capsys.readouterr()
    assert 'kv_cache_type = "f16"' in captured.out  # the env file wins over the plist's q8_0
    assert "https://app.example" in captured.out
    assert "merged 2 variable(s) from" in captured.err and "ollama.env:4: not a KEY=VALUE line" in captured.err


def test_an_imported_declaration_with_a_secret_is_written_0600(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    unit = tmp_path / "ollama.service"
    unit.write_text("[Unit]\nDescription=Ollama\n[Service]\nExecStart=/usr/bin/ollama serve\n"
                    'Environment="HF_TOKEN=hf_secret" "OLLAMA_HOST=127.0.0.1:11434"\n')
    secret, plain = tmp_path / "secret.toml", tmp_path / "plain.toml"
    import_to([str(unit)], secret, capsys)
    assert "hf_secret" in secret.read_text() and secret.stat().st_mode & 0o777 == 0o600
    unit.write_text(unit.read_text().replace('"HF_TOKEN=hf_secret" ', ""))
    import_to([str(unit)], plain, capsys)
    assert plain.stat().st_mode & 0o777 == 0o644
