"""`check` and `plan` in-process: output, --json shape and every exit status."""

from __future__ import annotations

import json
import plistlib
from collections.abc import Callable
from pathlib import Path

import pytest

from ollama_sync.cli import run

Capsys = pytest.CaptureFixture[str]
Write = Callable[[str], list[str]]

SERVICE = '[service]\nbackend = "launchd"\nbinary = "/opt/homebrew/bin/ollama"\n'
CLEAN = SERVICE + '[ollama]\nhost = "127.0.0.1"\nport = 11434\nflash_attention = true\nkv_cache_type = "q8_0"\n'
WARNING = SERVICE + '[ollama]\nhost = "0.0.0.0"\n'
ERROR = SERVICE + '[ollama]\n[ollama.environment]\nOLLAMA_FLASH_ATTENTION = "off"\n'
INFO_ONLY = SERVICE + '[ollama]\n[ollama.environment]\nHTTPS_PROXY = "http://proxy:3128"\n'


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a config file and return the global arguments that use it under a sandbox root."""

    def make(text: str) -> list[str]:
        config = tmp_path / "config.toml"
        config.write_text(text)
        return ["--root", str(tmp_path / "root"), "--config", str(config)]

    return make


# check -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "strict", "rc"), [
    (CLEAN, False, 0), (CLEAN, True, 0),
    (WARNING, False, 0), (WARNING, True, 1),
    (INFO_ONLY, False, 0), (INFO_ONLY, True, 0),
    (ERROR, False, 1), (ERROR, True, 1),
])
def test_check_exit_status(write: Write, text: str, strict: bool, rc: int, capsys: Capsys) -> None:
    assert run([*write(text), "check", *(["--strict"] if strict else [])]) == rc
    out = capsys.readouterr().out
    assert "(judged against Ollama 0.32.15 (newest known; installed version unknown))" in out


def test_check_text_output_names_file_line_code_and_fix(write: Write, tmp_path: Path, capsys: Capsys) -> None:
    assert run([*write(ERROR), "check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    config = tmp_path / "config.toml"
    assert lines[0] == (f"{config}:6: error[invalid-bool] OLLAMA_FLASH_ATTENTION='off' is read as TRUE: the server "
                        "turns it on for any value but 0/f/F/false/FALSE/False")
    assert lines[1] == '    fix: write "1" to turn it on or "0" to turn it off'
    assert lines[-1] == f"{config}: 1 error (judged against Ollama 0.32.15 (newest known; installed version unknown))"


def test_check_judges_against_the_given_release(write: Write, capsys: Capsys) -> None:
    args = write(SERVICE + "[ollama]\ncontext_length = 8192\n")
    assert run([*args, "check", "--ollama-version", "0.5.7"]) == 0
    out = capsys.readouterr().out
    assert "warning[not-yet-available] OLLAMA_CONTEXT_LENGTH arrived in Ollama 0.5.13; 0.5.7 ignores it" in out
    assert out.rstrip().endswith("(judged against Ollama 0.5.7)")
    assert run([*args, "check", "--ollama-version", "0.5.7", "--strict"]) == 1
    assert run([*args, "check", "--ollama-version", "0.12.3", "--strict"]) == 0


def test_check_rejects_a_bad_release_number(write: Write, capsys: Capsys) -> None:
    assert run([*write(CLEAN), "check", "--ollama-version", "latest"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: --ollama-version 'latest' is not a release number\n"
                   "  hint: for example --ollama-version 0.12.3\n")


def test_check_json_shape(write: Write, tmp_path: Path, capsys: Capsys) -> None:
    args = write(ERROR)
    assert run([args[0], args[1], args[2], args[3], "--json", "check", "--ollama-version", "0.24.0"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"version", "command", "ok", "source", "judged_against", "findings"}
    assert (doc["version"], doc["command"], doc["ok"]) == (1, "check", False)
    assert doc["source"] == str(tmp_path / "config.toml")
    assert doc["judged_against"] == "Ollama 0.24.0"
    assert doc["findings"] == [{
        "code": "invalid-bool", "severity": "error",
        "message": "OLLAMA_FLASH_ATTENTION='off' is read as TRUE: the server turns it on for any value but "
                   "0/f/F/false/FALSE/False",
        "hint": 'write "1" to turn it on or "0" to turn it off', "variable": "OLLAMA_FLASH_ATTENTION",
        "location": {"file": str(tmp_path / "config.toml"), "line": 6, "col": None}}]


def test_check_json_ok_reflects_strict(write: Write, capsys: Capsys) -> None:
    assert run([*write(WARNING), "--json", "check", "--strict"]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False


# plan --------------------------------------------------------------------------------------------------

def _render(args: list[str], capsys: Capsys) -> tuple[str, str]:
    assert run([*args, "--json", "render"]) == 0
    doc = json.loads(capsys.readouterr().out)
    return doc["path"], doc["content"]


def _on_disk(tmp_path: Path, path: str) -> Path:
    return tmp_path / "root" / path.lstrip("/")


def test_plan_shows_the_diff_for_a_new_file(write: Write, capsys: Capsys) -> None:
    args = write(CLEAN)
    assert run([*args, "plan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("launchd service 'com.github.ollama' → ")
    assert "--- /dev/null\n+++ " in out
    assert "+\t\t<key>OLLAMA_KV_CACHE_TYPE</key>" in out
    assert "apply would:\n  - write: the file does not exist\n  - reload: " in out


def test_plan_detailed_exitcode(write: Write, tmp_path: Path, capsys: Capsys) -> None:
    args = write(CLEAN)
    assert run([*args, "plan", "--detailed-exitcode"]) == 2  # changes pending
    capsys.readouterr()
    path, content = _render(args, capsys)
    target = _on_disk(tmp_path, path)
    target.parent.mkdir(parents=True)
    target.write_text(content)
    assert run([*args, "plan", "--detailed-exitcode"]) == 0  # nothing to do
    assert run([*args, "plan"]) == 0
    out = capsys.readouterr().out
    assert "up to date: the file matches the declaration" in out
    assert "apply would" not in out and "+++" not in out


def test_plan_diffs_against_the_file_on_disk(write: Write, tmp_path: Path, capsys: Capsys) -> None:
    args = write(CLEAN)
    path, content = _render(args, capsys)
    target = _on_disk(tmp_path, path)
    target.parent.mkdir(parents=True)
    target.write_text(content.replace("<string>q8_0</string>", "<string>q4_0</string>"))
    assert run([*args, "plan", "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert f"--- {path}\n+++ {path}\n" in out
    assert "-\t\t<string>q4_0</string>\n+\t\t<string>q8_0</string>\n" in out
    assert "write: the file differs from the declaration" in out


@pytest.mark.parametrize("detailed", [False, True])
def test_plan_blocked_by_an_error_finding_exits_1(write: Write, detailed: bool, capsys: Capsys) -> None:
    assert run([*write(ERROR), "plan", *(["--detailed-exitcode"] if detailed else [])]) == 1
    out = capsys.readouterr().out
    assert "error[invalid-bool]" in out
    assert "blocked: 1 error; apply will not run until they are fixed" in out
    assert "+++" not in out


@pytest.mark.parametrize(("detailed", "rc"), [(False, 2), (True, 1)])
def test_plan_invalid_configuration(write: Write, detailed: bool, rc: int, tmp_path: Path, capsys: Capsys) -> None:
    args = write(SERVICE + "[ollama]\nport = \"eleven\"\n")
    assert run([*args, "plan", *(["--detailed-exitcode"] if detailed else [])]) == rc
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {tmp_path / 'config.toml'}:5: 'port' must be a whole number")


@pytest.mark.parametrize(("detailed", "rc"), [(False, 2), (True, 1)])
def test_plan_usage_errors(write: Write, detailed: bool, rc: int, capsys: Capsys) -> None:
    flag = ["--detailed-exitcode"] if detailed else []
    assert run([*write(CLEAN), "plan", *flag, "--backend", "runit"]) == rc
    assert "Invalid value for '--backend'" in capsys.readouterr().err
    assert run([*write(CLEAN), "plan", *flag, "--ollama-version", "x"]) == rc
    assert "--ollama-version 'x' is not a release number" in capsys.readouterr().err


def test_plan_json_shape(write: Write, tmp_path: Path, capsys: Capsys) -> None:
    args = write(WARNING)
    assert run([*args, "--json", "plan", "--detailed-exitcode"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"version", "command", "ok", "changes", "backend", "path", "source", "steps",
                        "noop_reason", "foreign_file", "diff", "findings", "live_checked", "live_note"}
    assert (doc["version"], doc["command"], doc["ok"], doc["changes"], doc["backend"]) == (
        1, "plan", True, True, "launchd")
    assert doc["path"].endswith("/Library/LaunchAgents/com.github.ollama.plist")
    assert [s["kind"] for s in doc["steps"]] == ["write", "reload"]
    assert doc["noop_reason"] is None and doc["foreign_file"] is False
    assert doc["diff"].startswith("--- /dev/null\n")
    assert [f["code"] for f in doc["findings"]] == ["exposed-all-interfaces"]
    assert doc["findings"][0]["location"] == {"file": str(tmp_path / "config.toml"), "line": 5, "col": None}


def test_plan_json_up_to_date(write: Write, tmp_path: Path, capsys: Capsys) -> None:
    args = write(CLEAN)
    path, content = _render(args, capsys)
    target = _on_disk(tmp_path, path)
    target.parent.mkdir(parents=True)
    target.write_text(content)
    assert run([*args, "--json", "plan"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["changes"], doc["steps"], doc["diff"]) == (False, [], "")
    assert doc["noop_reason"] == "up to date: the file matches the declaration"


# examples ----------------------------------------------------------------------------------------------

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))


@pytest.mark.parametrize("example", [p for p in EXAMPLES if "source = " not in p.read_text()],
                         ids=lambda p: p.name)
def test_every_inline_example_checks_without_errors(example: Path, tmp_path: Path, capsys: Capsys) -> None:
    assert run(["--root", str(tmp_path), "--config", str(example), "--json", "check"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    assert all(f["severity"] != "error" for f in doc["findings"])


def test_services_ollama_example_renders_the_reference_plist_with_the_real_context_variable(
        tmp_path: Path, capsys: Capsys) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    plists = {}
    for name in ("reference-setup.toml", "services-ollama.toml"):
        assert run(["--root", str(tmp_path), "--config", str(examples / name), "--json", "render"]) == 0
        plists[name] = plistlib.loads(json.loads(capsys.readouterr().out)["content"].encode())
    reference, services = plists["reference-setup.toml"], plists["services-ollama.toml"]
    env = reference["EnvironmentVariables"]
    env["OLLAMA_CONTEXT_LENGTH"] = env.pop("OLLAMA_NUM_CTX")
    assert services == reference
