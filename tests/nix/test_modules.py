"""The Nix side, without nixpkgs: every .nix file parses, and the modules evaluate against tests/nix/stub.nix.

What this proves: option names, types and defaults; the JSON the modules write (read back by ollama-sync
and rendered to the same plist as the TOML reference setup); that the build-time derivation's script,
run with the real ollama-sync, fails on an error finding and otherwise outputs the rendered service file;
that enable = false defines no service; that models are pulled by a separate job; that the config path is
stable; the activation snippet's verify command (absolute paths), run with bash under a bare PATH.
What it cannot prove (no nixpkgs, nix-darwin or home-manager here): that the package builds, that the
real module systems merge these modules, and that activation runs on a Mac (see README: "evaluated for
real").
"""

from __future__ import annotations

import json
import os
import plistlib
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ollama_sync.cli import run
from tests.conftest import REPO, require_tool
from tests.nixenv import nix_env  # noqa: F401  # fixture

STUB = REPO / "tests" / "nix" / "stub.nix"
PACKAGE = "/nix/store/00000000000000000000000000000000-ollama-sync-0.1.0"  # the stub flake's package
NIX_FILES = sorted([REPO / "flake.nix", *(REPO / "nix").glob("*.nix"), *(REPO / "tests" / "nix").glob("*.nix")])
DARWIN: dict[str, Any] = {"system": {"primaryUser": "jeridf"}}
HM_LINUX: dict[str, Any] = {"home": {"homeDirectory": "/home/jeridf"}, "xdg": {"configHome": "/home/jeridf/.config"},
            "systemd": {"user": {"systemctlPath": "/nix/store/33333333333333333333333333333333-systemd/bin/systemctl"}}}
HM_DARWIN: dict[str, Any] = {"home": {"homeDirectory": "/Users/jeridf"}, "xdg": {"configHome": "/Users/jeridf/.config"}}

REFERENCE: dict[str, Any] = {
    "enable": True, "port": 11434, "host": "0.0.0.0", "modelsPath": "/Users/jeridf/.ollama/models",
    "flashAttention": True, "kvCacheType": "q8_0",
    "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "4", "OLLAMA_NUM_CTX": "8192"},
    "service": {"label": "com.github.ollama", "binary": "/opt/homebrew/bin/ollama"},
}


def nix(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """nix-instantiate with a throw-away state dir and no store: nothing is written under /nix."""
    tool = require_tool("nix-instantiate")
    env = {**os.environ, "NIX_STATE_DIR": str(tmp_path / "state"), "NIX_LOG_DIR": str(tmp_path / "log"),
           "NIX_CONF_DIR": str(tmp_path / "conf"), "NIX_PATH": ""}
    return subprocess.run([tool, "--store", "dummy://", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60, check=False)


def evaluate(module: str, settings: Mapping[str, object], tmp_path: Path, extra: Mapping[str, object] | None = None,
             system: str = "aarch64-darwin", name: str = "ollama-sync") -> dict[str, object]:
    """Evaluate nix/<module> with settings under services.<name>; the stub's result as JSON."""
    expr = f"""{{ settings, extra }}:
      let stub = import {STUB}; in stub.evalModule {{
        module = import {REPO / "nix" / module} {{ self = stub.self; }}; system = "{system}"; name = "{name}";
        settings = builtins.fromJSON settings; extraConfig = builtins.fromJSON extra; }}"""
    done = nix(["--eval", "--strict", "--json", "--argstr", "settings", json.dumps(settings),
                "--argstr", "extra", json.dumps(extra or {}), "-E", expr], tmp_path)
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def section(result: dict[str, object], *path: str) -> object:
    node: object = result
    for part in path:
        assert isinstance(node, dict), path
        node = node.get(part)
    return node


def fake_package(tmp_path: Path, verify_rc: int | None = None) -> Path:
    """A package folder whose bin/ollama-sync is this checkout's real one (or, for verify, a stand-in)."""
    pkg = tmp_path / "pkg"
    (pkg / "bin").mkdir(parents=True)
    tool = pkg / "bin" / "ollama-sync"
    if verify_rc is None:
        tool.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m ollama_sync "$@"\n')
    else:  # records its argv and environment, exits as told (verify's 0/1)
        tool.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/argv\nenv > {tmp_path}/env\nexit {verify_rc}\n')
    tool.chmod(0o755)
    return pkg


def run_build(result: dict[str, object], tmp_path: Path, derivation: dict[str, object]
              ) -> subprocess.CompletedProcess[str]:
    """Run a stub derivation's build script with bash, the real ollama-sync and the JSON at its store path."""
    script = derivation["script"]
    assert isinstance(script, str) and isinstance(result["configFile"], str) and isinstance(result["json"], str)
    config = tmp_path / "ollama-sync.json"
    config.write_text(result["json"])
    script = script.replace(result["configFile"], str(config))
    script = script.replace(PACKAGE, str(fake_package(tmp_path)))
    out = tmp_path / "out"
    env = {"PATH": "/usr/bin:/bin", "out": str(out), "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


@pytest.mark.parametrize("path", NIX_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_nix_file_parses(path: Path, tmp_path: Path) -> None:
    done = nix(["--parse", str(path)], tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module", ["darwin-module.nix", "home-manager-module.nix"])
def test_options_of_the_reference_module(module: str, tmp_path: Path) -> None:
    options = evaluate(module, {}, tmp_path, DARWIN if module.startswith("darwin") else HM_DARWIN)["options"]
    assert isinstance(options, dict)
    for name in ("enable", "host", "port", "modelsPath", "flashAttention", "kvCacheType", "extraEnvironment",
                 "models", "package", "service", "verifyOnActivation", "failOnVerifyError", "configFile",
                 "configPath", "checkedService"):
        assert name in options, name
    assert options["port"]["default"] is None and options["port"]["type"].startswith("null or 16 bit unsigned")
    assert options["failOnVerifyError"]["default"] is False  # report loudly, do not fail the switch
    assert options["configFile"]["readOnly"] is True and options["configPath"]["readOnly"] is True
    assert set(options["service"]) == {"label", "binary", "logPath"}


@pytest.mark.parametrize(("module", "extra", "system"), [
    ("darwin-module.nix", DARWIN, "aarch64-darwin"),
    ("home-manager-module.nix", HM_LINUX, "x86_64-linux"),
    ("home-manager-module.nix", HM_DARWIN, "aarch64-darwin"),
])
def test_enable_false_defines_no_service(module: str, extra: Mapping[str, object], system: str,
                                         tmp_path: Path) -> None:
    result = evaluate(module, {"enable": False, "port": 1, "models": ["x"]}, tmp_path, extra, system)
    config = result["config"]
    text = json.dumps(config)
    for absent in ("userLaunchAgents", "launchd", "systemd/user", "activation", "activationScripts",
                   "ollama-sync/config.json", "OLLAMA_SYNC_CONFIG", "packages"):
        assert absent not in text, absent
    assert result["json"] is None


def test_darwin_json_renders_like_the_toml_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = evaluate("darwin-module.nix", REFERENCE, tmp_path, DARWIN)
    assert isinstance(result["json"], str)
    declared = json.loads(result["json"])
    assert "contextLength" not in declared["ollama"]  # unset options are left out: the server's defaults apply
    assert declared["service"] == {**REFERENCE["service"], "backend": "launchd"}
    config = tmp_path / "ollama-sync.json"
    config.write_text(result["json"])
    root = str(tmp_path / "root")
    assert run(["--root", root, "--config", str(config), "render"]) == 0
    from_nix = capsys.readouterr().out
    assert run(["--root", root, "--config", str(REPO / "examples" / "reference-setup.toml"), "render"]) == 0
    from_toml = capsys.readouterr().out
    differing = [(a, b) for a, b in zip(from_nix.splitlines(), from_toml.splitlines(), strict=True) if a != b]
    assert len(differing) == 1 and "Managed by ollama-sync from" in differing[0][0]  # only the marker's source


def test_binary_is_homebrew_by_default_on_macos_and_never_detected(tmp_path: Path) -> None:
    darwin = evaluate("darwin-module.nix", {"enable": True}, tmp_path, DARWIN)
    assert json.loads(str(darwin["json"]))["service"]["binary"] == "/opt/homebrew/bin/ollama"
    linux = evaluate("home-manager-module.nix", {"enable": True}, tmp_path, HM_LINUX, "x86_64-linux")
    assert json.loads(str(linux["json"]))["service"]["binary"].endswith("-ollama-0.9/bin/ollama")
    own = evaluate("darwin-module.nix", {"enable": True, "service": {"binary": "/usr/local/bin/ollama"}}, tmp_path,
                   DARWIN)
    assert json.loads(str(own["json"]))["service"]["binary"] == "/usr/local/bin/ollama"


@pytest.mark.usefixtures("nix_env")
def test_build_time_check_renders_the_service_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = evaluate("darwin-module.nix", REFERENCE, tmp_path, DARWIN)
    checked = result["checked"]
    assert isinstance(checked, dict)
    source = section(result, "config", "environment", "userLaunchAgents", "com.github.ollama.plist", "source")
    assert source == f"{checked['path']}/com.github.ollama.plist"  # the installed file is the checked one
    done = run_build(result, tmp_path, checked)
    assert done.returncode == 0, done.stdout + done.stderr
    rendered = plistlib.loads((tmp_path / "out" / "com.github.ollama.plist").read_bytes())
    assert rendered["EnvironmentVariables"]["OLLAMA_HOST"] == "0.0.0.0:11434"
    assert rendered["ProgramArguments"] == ["/opt/homebrew/bin/ollama", "serve"]
    assert rendered["StandardOutPath"].startswith("/Users/jeridf/")  # rendered for the user's home


@pytest.mark.usefixtures("nix_env")
def test_build_time_check_fails_on_an_error_finding(tmp_path: Path) -> None:
    bad = {**REFERENCE, "kvCacheType": "q9", "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "four"}}
    result = evaluate("darwin-module.nix", bad, tmp_path, DARWIN)
    checked = result["checked"]
    assert isinstance(checked, dict)
    done = run_build(result, tmp_path, checked)
    assert done.returncode == 1  # the derivation fails: darwin-rebuild build stops here, nothing is switched
    assert "error[invalid-kv-cache-type] OLLAMA_KV_CACHE_TYPE='q9'" in done.stdout
    assert "error[invalid-number] OLLAMA_NUM_PARALLEL='four'" in done.stdout
    assert not (tmp_path / "out" / "com.github.ollama.plist").exists()


@pytest.mark.usefixtures("nix_env")
def test_home_manager_linux_installs_the_checked_unit_where_sd_switch_looks(tmp_path: Path) -> None:
    result = evaluate("home-manager-module.nix", {"enable": True, "port": 11500}, tmp_path, HM_LINUX,
                      "x86_64-linux")
    files = section(result, "config", "xdg", "configFile")
    assert isinstance(files, dict)
    checked = result["checked"]
    assert isinstance(checked, dict)
    unit = f"{checked['path']}/ollama.service"
    assert files["systemd/user/ollama.service"] == {"source": unit}
    assert files["systemd/user/default.target.wants/ollama.service"] == {"source": unit}
    assert json.loads(str(result["json"]))["service"]["unit_mode"] == "full"
    done = run_build(result, tmp_path, checked)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'Environment="OLLAMA_HOST=127.0.0.1:11500"' in (tmp_path / "out" / "ollama.service").read_text()


def test_home_manager_macos_agent_environment_is_checked_against_render(tmp_path: Path) -> None:
    result = evaluate("home-manager-module.nix", REFERENCE, tmp_path, HM_DARWIN)
    agent = section(result, "config", "launchd", "agents", "com.github.ollama", "config")
    assert isinstance(agent, dict)
    assert agent["ProgramArguments"] == ["/opt/homebrew/bin/ollama", "serve"]
    assert agent["EnvironmentVariables"] == {
        "OLLAMA_HOST": "0.0.0.0:11434", "OLLAMA_MODELS": "/Users/jeridf/.ollama/models",
        "OLLAMA_FLASH_ATTENTION": "1", "OLLAMA_KV_CACHE_TYPE": "q8_0", "OLLAMA_NUM_PARALLEL": "4",
        "OLLAMA_NUM_CTX": "8192"}
    builder = section(result, "config", "home", "extraBuilderCommands")
    assert isinstance(builder, str) and "-ollama-sync-agent-check" in builder  # a build dependency


@pytest.mark.parametrize(("module", "extra", "system"), [
    ("darwin-module.nix", DARWIN, "aarch64-darwin"),
    ("home-manager-module.nix", HM_LINUX, "x86_64-linux"),
])
def test_config_path_is_stable_across_generations(module: str, extra: Mapping[str, object], system: str,
                                                  tmp_path: Path) -> None:
    one = evaluate(module, {"enable": True, "port": 1}, tmp_path, extra, system)
    two = evaluate(module, {"enable": True, "port": 2}, tmp_path, extra, system)
    assert one["configFile"] != two["configFile"]  # the store path changes with the declaration…
    stable = section(one, "cfg", "configPath")
    assert stable == section(two, "cfg", "configPath")  # …the path everything reads does not
    if module.startswith("darwin"):
        assert stable == "/etc/ollama-sync/config.json"
        assert section(one, "config", "environment", "etc", "ollama-sync/config.json", "source") == one["configFile"]
        assert section(one, "config", "environment", "variables", "OLLAMA_SYNC_CONFIG") == stable
    else:
        assert stable == "/home/jeridf/.config/ollama-sync/config.json"
        assert section(one, "config", "xdg", "configFile", "ollama-sync/config.json", "source") == one["configFile"]
        assert section(one, "config", "home", "sessionVariables", "OLLAMA_SYNC_CONFIG") == stable


def test_models_are_pulled_by_a_separate_background_job(tmp_path: Path) -> None:
    darwin = evaluate("darwin-module.nix", {"enable": True, "models": ["llama3.2"]}, tmp_path, DARWIN)
    agent = section(darwin, "config", "launchd", "user", "agents", "ollama-sync-models", "serviceConfig")
    assert isinstance(agent, dict) and agent["RunAtLoad"] is True and agent["ProcessType"] == "Background"
    activation = section(darwin, "config", "system", "activationScripts", "postActivation", "text")
    assert isinstance(activation, str) and "models" not in activation  # never inside activation
    linux = evaluate("home-manager-module.nix", {"enable": True, "models": ["llama3.2"]}, tmp_path, HM_LINUX,
                     "x86_64-linux")
    unit = section(linux, "config", "systemd", "user", "services", "ollama-sync-models")
    assert isinstance(unit, dict)
    assert unit["Service"]["Restart"] == "on-failure" and unit["Service"]["RestartMaxDelaySec"] == "2h"
    assert unit["Unit"]["After"][0] == "ollama.service"
    hm_activation = section(linux, "config", "home", "activation", "ollamaSyncVerify", "data")
    assert isinstance(hm_activation, str) and "models" not in hm_activation
    none = evaluate("darwin-module.nix", {"enable": True}, tmp_path, DARWIN)
    assert section(none, "config", "launchd", "user", "agents") in (None, {})  # no models, no job


def test_models_script_retries_with_backoff(tmp_path: Path) -> None:
    expr = f"""let stub = import {STUB}; pkgs = stub.mkPkgs "aarch64-darwin";
      shared = import {REPO / "nix" / "options.nix"} {{ lib = stub.lib; defaultPackage = null; }};
      in (shared.modelsScript {{ inherit pkgs; cfg.package = "{fake_package(tmp_path, verify_rc=1)}";
                                 configPath = "/etc/ollama-sync/config.json"; }}).text"""
    done = nix(["--eval", "--strict", "--json", "-E", expr], tmp_path)
    assert done.returncode == 0, done.stderr
    script = json.loads(done.stdout).replace('sleep "$delay"', ": sleep")  # no real waiting in the test
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 1
    assert ran.stderr.count("failed; next try in") == 10 and "giving up after 10 rounds" in ran.stderr
    assert "next try in 10 s" in ran.stderr and "next try in 3600 s" in ran.stderr  # doubling, capped at 1 h
    assert (tmp_path / "argv").read_text().split() == ["--config", "/etc/ollama-sync/config.json", "models", "sync"]


def _verify_words(snippet: str) -> list[str]:
    line = next(line for line in snippet.splitlines() if line.startswith("if ! "))
    return shlex.split(line.removeprefix("if ! ").removesuffix("; then"))


def test_darwin_activation_runs_verify_with_absolute_paths(tmp_path: Path) -> None:
    result = evaluate("darwin-module.nix", REFERENCE, tmp_path, DARWIN)
    snippet = section(result, "config", "system", "activationScripts", "postActivation", "text")
    assert isinstance(snippet, str)
    words = _verify_words(snippet)
    assert words[:3] == ["/bin/launchctl", "asuser", "$(/usr/bin/id -u -- jeridf)"]
    assert words[3:7] == ["/usr/bin/sudo", "--user=jeridf", "--set-home", "--"]
    assert words[7] == "/usr/bin/env" and words[8].startswith("PATH=/bin:")  # /bin/launchctl for ollama-sync
    assert words[9].endswith("-ollama-sync-0.1.0/bin/ollama-sync")
    assert words[10:] == ["--config", "/etc/ollama-sync/config.json", "verify"]
    assert subprocess.run(["bash", "-n", "-c", snippet], check=False).returncode == 0


@pytest.mark.parametrize(("fail", "rc"), [(False, 0), (True, 1)])
def test_home_manager_verify_snippet_under_the_activation_path(fail: bool, rc: int, tmp_path: Path) -> None:
    result = evaluate("home-manager-module.nix", {"enable": True, "failOnVerifyError": fail}, tmp_path, HM_LINUX,
                      "x86_64-linux")
    entry = section(result, "config", "home", "activation", "ollamaSyncVerify")
    assert isinstance(entry, dict) and entry["after"] == ["reloadSystemd"]
    snippet = entry["data"]
    words = _verify_words(snippet)
    assert words[:2] == ["run", "/usr/bin/env"]
    assert words[2] == 'XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}'  # as reloadSystemd does
    assert words[3].startswith("PATH=/nix/store/33333333333333333333333333333333-systemd/bin:")
    assert words[-3:] == ["--config", "/home/jeridf/.config/ollama-sync/config.json", "verify"]
    # Run it as home-manager's activation does (set -eu -o pipefail, `run` defined, a PATH with coreutils
    # but neither systemctl nor launchctl), with a stand-in ollama-sync that fails verification.
    package = fake_package(tmp_path, verify_rc=1)
    coreutils = tmp_path / "coreutils"
    coreutils.mkdir()
    (coreutils / "id").symlink_to(require_tool("id"))
    script = "set -eu -o pipefail\nrun() { \"$@\"; }\n" + snippet.replace(
        PACKAGE, str(package))
    done = subprocess.run(["/bin/bash", "-c", script], capture_output=True, text=True, timeout=30, check=False,
                          env={"PATH": str(coreutils)})
    assert done.returncode == rc
    assert "VERIFICATION FAILED" in done.stderr
    env = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines() if "=" in line)
    assert env["PATH"].startswith("/nix/store/33333333333333333333333333333333-systemd/bin:")
    assert env["XDG_RUNTIME_DIR"] == f"/run/user/{os.getuid()}"


@pytest.mark.parametrize(("settings", "message"), [
    ({"enable": True, "port": "11434"}, "services.ollama-sync.port' is not of type"),
    ({"enable": True, "port": 70000}, "services.ollama-sync.port' is not of type"),
    ({"enable": True, "flashAtention": True}, "services.ollama-sync.flashAtention' does not exist"),
    ({"enable": True, "service": {"backend": "launchd"}}, "services.ollama-sync.service.backend' does not exist"),
    ({"enable": True, "configFile": "/tmp/x.json"}, "services.ollama-sync.configFile' is read-only"),
    ({"enable": True, "extraEnvironment": {"OLLAMA_NUM_PARALLEL": 4}}, "extraEnvironment' is not of type"),
])
def test_bad_values_fail_evaluation(settings: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(AssertionError) as err:
        evaluate("darwin-module.nix", settings, tmp_path, DARWIN)
    assert message in str(err.value)


NIXOS_OLLAMA = {"enable": True, "host": "0.0.0.0", "port": 11434, "home": "/var/lib/ollama",
                "models": "/var/lib/ollama/models", "environmentVariables": {"OLLAMA_NUM_PARALLEL": "4"},
                "rocmOverrideGfx": None, "acceleration": None, "loadModels": [],
                "package": {"outPath": "/nix/store/22222222222222222222222222222222-ollama-0.9",
                            "meta": {"mainProgram": "ollama"}}}


@pytest.mark.usefixtures("nix_env")
@pytest.mark.parametrize(("variables", "rc"), [({"OLLAMA_NUM_PARALLEL": "4"}, 0),
                                               ({"OLLAMA_NUM_PARALLEL": "four"}, 1)])
def test_nixos_check_module_validates_services_ollama(variables: dict[str, str], rc: int, tmp_path: Path) -> None:
    extra = {"services": {"ollama": {**NIXOS_OLLAMA, "environmentVariables": variables}},
             "systemd": {"package": "/nix/store/33333333333333333333333333333333-systemd"}}
    result = evaluate("nixos-module.nix", {}, tmp_path, extra, "x86_64-linux", name="ollama-sync-check")
    checks = result["checks"]
    assert isinstance(checks, list) and len(checks) == 1
    check: dict[str, str] = checks[0]
    etc = section(result, "config", "environment", "etc", "ollama-sync", "source")
    assert etc == f"{check['path']}/etc/ollama-sync"
    script = str(check["script"]).replace(PACKAGE,
                                          str(fake_package(tmp_path)))
    out = tmp_path / "out"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120,
                          check=False, env={"PATH": "/usr/bin:/bin", "out": str(out), "TMPDIR": str(tmp_path),
                                            "PYTHONPATH": str(REPO / "src")})
    assert done.returncode == rc, done.stdout + done.stderr
    if rc:
        assert "error[invalid-number] OLLAMA_NUM_PARALLEL='four'" in done.stdout
    else:  # read with NixOS's semantics: HOME and OLLAMA_HOST from the module's own options
        assert "OLLAMA_HOST=0.0.0.0:11434 listens on every network interface" in done.stdout
    verify = section(result, "config", "systemd", "services", "ollama-sync-verify")
    assert isinstance(verify, dict) and verify["after"] == ["ollama.service"]


def test_flake_outputs_and_package(tmp_path: Path) -> None:
    done = nix(["--eval", "--strict", "--json", "-E",
                f"(import {STUB}).flakeOutputs (import {REPO / 'flake.nix'})"], tmp_path)
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)
    assert sorted(outputs["systems"]) == ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"]
    assert outputs["modules"] == {"darwin": True, "homeManager": True, "nixos": True}
    package = outputs["package"]
    assert package["pname"] == "ollama-sync" and package["pyproject"] is True
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert package["version"] == project["version"]
    wanted = {dep.split(">")[0].split("=")[0].strip() for dep in project["dependencies"]}
    assert {d["pname"] for d in package["dependencies"]} == wanted
    assert package["meta"]["mainProgram"] == "ollama-sync"


@pytest.mark.parametrize(("fail", "rc"), [(False, 0), (True, 1)])
def test_home_manager_verify_snippet_runs_the_real_verify(fail: bool, rc: int, tmp_path: Path) -> None:
    # The snippet as evaluated, with this checkout's ollama-sync as the package and the JSON at the stable
    # path: no Ollama server runs here (and, in a container, no systemd user manager), so `verify` exits 1
    # and the snippet reports it loudly; whether the activation fails is failOnVerifyError's call.
    home = tmp_path / "home"
    extra = {**HM_LINUX, "home": {"homeDirectory": str(home)}, "xdg": {"configHome": str(home / ".config")}}
    result = evaluate("home-manager-module.nix", {"enable": True, "port": 11599, "failOnVerifyError": fail},
                      tmp_path, extra, "x86_64-linux")
    config = home / ".config" / "ollama-sync" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(str(result["json"]))
    snippet = section(result, "config", "home", "activation", "ollamaSyncVerify", "data")
    assert isinstance(snippet, str)
    coreutils = tmp_path / "coreutils"
    coreutils.mkdir()
    (coreutils / "id").symlink_to(require_tool("id"))
    script = "set -eu -o pipefail\nrun() { \"$@\"; }\n" + snippet.replace(PACKAGE, str(fake_package(tmp_path)))
    done = subprocess.run(["/bin/bash", "-c", script], capture_output=True, text=True, timeout=60, check=False,
                          env={"PATH": str(coreutils), "HOME": str(home), "PYTHONPATH": str(REPO / "src")})
    assert done.returncode == rc, done.stdout + done.stderr
    assert "not verified: ollama" in done.stdout + done.stderr  # ollama-sync verify's own report
    assert "VERIFICATION FAILED" in done.stderr
