"""The Nix side, without nixpkgs: every .nix file parses, and the modules evaluate against tests/nix/stub.nix.

What this proves: option names, types and defaults; the JSON the modules write (read back by ollama-sync
and rendered to the same plist as the TOML reference setup); the activation commands; the flake's outputs
and its package's dependency list. What it cannot prove (no nixpkgs, nix-darwin or home-manager here):
that the package builds, that the real module system merges these modules, and that activation runs.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from ollama_sync.cli import run
from tests.conftest import REPO, require_tool

STUB = REPO / "tests" / "nix" / "stub.nix"
NIX_FILES = sorted([REPO / "flake.nix", *(REPO / "nix").glob("*.nix"), *(REPO / "tests" / "nix").glob("*.nix")])

REFERENCE = {
    "enable": True, "port": 11434, "host": "0.0.0.0", "modelsPath": "/Users/jeridf/.ollama/models",
    "flashAttention": True, "kvCacheType": "q8_0",
    "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "4", "OLLAMA_NUM_CTX": "8192"},
    "service": {"label": "com.github.ollama", "binary": "/opt/homebrew/bin/ollama", "backend": "launchd"},
}


def nix(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """nix-instantiate with a throw-away state dir and no store: nothing is written under /nix."""
    tool = require_tool("nix-instantiate")
    env = {**os.environ, "NIX_STATE_DIR": str(tmp_path / "state"), "NIX_LOG_DIR": str(tmp_path / "log"),
           "NIX_CONF_DIR": str(tmp_path / "conf"), "NIX_PATH": ""}
    return subprocess.run([tool, "--store", "dummy://", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60, check=False)


def evaluate(module: str, settings: dict[str, object], tmp_path: Path, extra: dict[str, object] | None = None
             ) -> dict[str, object]:
    """Evaluate nix/<module> with settings under services.ollama-sync; the stub's result as JSON."""
    expr = f"""{{ settings, extra }}:
      let stub = import {STUB}; in stub.evalModule {{
        module = import {REPO / "nix" / module} {{ self = stub.self; }};
        settings = builtins.fromJSON settings; extraConfig = builtins.fromJSON extra; }}"""
    done = nix(["--eval", "--strict", "--json", "--argstr", "settings", json.dumps(settings),
                "--argstr", "extra", json.dumps(extra or {}), "-E", expr], tmp_path)
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def evaluation_error(module: str, settings: dict[str, object], tmp_path: Path) -> str:
    """The error message of an evaluation that must fail."""
    with pytest.raises(AssertionError) as err:
        evaluate(module, settings, tmp_path, {"system": {"primaryUser": "alice"}})
    return str(err.value)


@pytest.mark.parametrize("path", NIX_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_nix_file_parses(path: Path, tmp_path: Path) -> None:
    done = nix(["--parse", str(path)], tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module", ["darwin-module.nix", "home-manager-module.nix"])
def test_options_of_the_reference_module(module: str, tmp_path: Path) -> None:
    options = evaluate(module, {}, tmp_path, {"system": {"primaryUser": "alice"}})["options"]
    assert isinstance(options, dict)
    for name in ("enable", "host", "port", "modelsPath", "flashAttention", "kvCacheType", "extraEnvironment",
                 "models", "package", "service", "applyOnActivation", "configFile"):
        assert name in options, name
    assert options["port"] == {"type": "null or 16 bit unsigned integer", "default": None, "readOnly": False}
    assert options["extraEnvironment"]["default"] == {}
    assert options["enable"]["default"] is False
    assert options["configFile"]["readOnly"] is True
    assert set(options["service"]) == {"label", "binary", "backend", "logPath"}


def test_disabled_module_defines_nothing(tmp_path: Path) -> None:
    result = evaluate("darwin-module.nix", {"port": 1}, tmp_path, {"system": {"primaryUser": "alice"}})
    assert result["config"] is None
    assert result["json"] is None


def test_darwin_json_renders_like_the_toml_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = evaluate("darwin-module.nix", REFERENCE, tmp_path, {"system": {"primaryUser": "jeridf"}})
    assert isinstance(result["json"], str)
    declared = json.loads(result["json"])
    assert "contextLength" not in declared["ollama"]  # unset options are left out: the server's defaults apply
    assert declared["service"] == REFERENCE["service"]
    config = tmp_path / "ollama-sync.json"
    config.write_text(result["json"])
    root = str(tmp_path / "root")
    assert run(["--root", root, "--config", str(config), "render"]) == 0
    from_nix = capsys.readouterr().out
    assert run(["--root", root, "--config", str(REPO / "examples" / "reference-setup.toml"), "render"]) == 0
    from_toml = capsys.readouterr().out
    differing = [(a, b) for a, b in zip(from_nix.splitlines(), from_toml.splitlines(), strict=True) if a != b]
    assert len(differing) == 1 and "Managed by ollama-sync from" in differing[0][0]  # only the marker's source


def test_darwin_activation_applies_as_the_user(tmp_path: Path) -> None:
    result = evaluate("darwin-module.nix", REFERENCE, tmp_path, {"system": {"primaryUser": "jeridf"}})
    config = result["config"]
    assert isinstance(config, dict)
    script = config["system"]["activationScripts"]["postActivation"]["text"]
    words = shlex.split(script.split("\n", 1)[1].replace("\\\n", " "))
    assert words[:3] == ["/bin/launchctl", "asuser", "$(/usr/bin/id -u -- jeridf)"]
    assert words[3:7] == ["/usr/bin/sudo", "--user=jeridf", "--set-home", "--"]
    assert words[-4:] == ["--config", result["configFile"], "apply", "--yes"]
    assert words[8].startswith("PATH=/opt/homebrew/bin:")  # sudo resets PATH; launchctl and ollama are found
    assert words[-5].endswith("-ollama-sync-0.1.0/bin/ollama-sync")
    assert config["environment"]["variables"]["OLLAMA_SYNC_CONFIG"] == result["configFile"]
    assert config["services"]["ollama-sync"]["configFile"] == result["configFile"]


def test_darwin_without_user_fails_its_assertion(tmp_path: Path) -> None:
    config = evaluate("darwin-module.nix", {"enable": True}, tmp_path)["config"]
    assert isinstance(config, dict)
    assert config["assertions"][0]["assertion"] is False
    assert "services.ollama-sync.user" in config["assertions"][0]["message"]


def test_apply_on_activation_can_be_turned_off(tmp_path: Path) -> None:
    result = evaluate("darwin-module.nix", {"enable": True, "applyOnActivation": False}, tmp_path,
                      {"system": {"primaryUser": "a"}})
    config = result["config"]
    assert isinstance(config, dict)
    assert "text" not in config["system"]["activationScripts"]["postActivation"]  # mkIf false: no definition
    assert config["environment"]["variables"]["OLLAMA_SYNC_CONFIG"] == result["configFile"]


def test_home_manager_activation_after_write_boundary(tmp_path: Path) -> None:
    result = evaluate("home-manager-module.nix", {"enable": True, "models": ["llama3.1:8b"], "port": 11500},
                      tmp_path)
    config = result["config"]
    assert isinstance(config, dict)
    entry = config["home"]["activation"]["ollamaSync"]
    assert entry["after"] == ["writeBoundary"]
    words = shlex.split(entry["data"])
    assert words[0] == "run" and words[2:] == ["--config", result["configFile"], "apply", "--yes"]
    assert config["home"]["sessionVariables"]["OLLAMA_SYNC_CONFIG"] == result["configFile"]
    assert isinstance(result["json"], str)
    assert json.loads(result["json"]) == {"service": {"label": "com.github.ollama"},
                                          "ollama": {"enable": True, "port": 11500, "models": ["llama3.1:8b"],
                                                     "extraEnvironment": {}}}


def test_json_path_changes_with_the_declaration(tmp_path: Path) -> None:
    one = evaluate("home-manager-module.nix", {"enable": True, "port": 1}, tmp_path)["configFile"]
    two = evaluate("home-manager-module.nix", {"enable": True, "port": 2}, tmp_path)["configFile"]
    assert one != two


@pytest.mark.parametrize("settings,message", [
    ({"enable": True, "port": "11434"}, "services.ollama-sync.port' is not of type"),
    ({"enable": True, "port": 70000}, "services.ollama-sync.port' is not of type"),
    ({"enable": True, "flashAtention": True}, "services.ollama-sync.flashAtention' does not exist"),
    ({"enable": True, "service": {"backend": "runit"}}, "services.ollama-sync.service.backend' is not of type"),
    ({"enable": True, "configFile": "/tmp/x.json"}, "services.ollama-sync.configFile' is read-only"),
    ({"enable": True, "extraEnvironment": {"OLLAMA_NUM_PARALLEL": 4}}, "extraEnvironment' is not of type"),
])
def test_bad_values_fail_evaluation(settings: dict[str, object], message: str, tmp_path: Path) -> None:
    assert message in evaluation_error("darwin-module.nix", settings, tmp_path)


def test_flake_outputs_and_package(tmp_path: Path) -> None:
    done = nix(["--eval", "--strict", "--json", "-E",
                f"(import {STUB}).flakeOutputs (import {REPO / 'flake.nix'})"], tmp_path)
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)
    assert sorted(outputs["systems"]) == ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"]
    assert outputs["modules"] == {"darwin": True, "homeManager": True}
    package = outputs["package"]
    assert package["pname"] == "ollama-sync" and package["pyproject"] is True
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert package["version"] == project["version"]
    wanted = {dep.split(">")[0].split("=")[0].strip() for dep in project["dependencies"]}
    assert {d["pname"] for d in package["dependencies"]} == wanted
    assert package["meta"]["mainProgram"] == "ollama-sync"
