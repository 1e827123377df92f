"""Under --json, errors are a JSON document on stdout with the same exit code (#11, item 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ollama_sync.cli import run

Capsys = pytest.CaptureFixture[str]


def error_doc(capsys: Capsys) -> dict[str, Any]:
    captured = capsys.readouterr()
    doc: dict[str, Any] = json.loads(captured.out)
    assert captured.err.startswith("error: ") or "Error:" in captured.err or "internal error" in captured.err
    return doc


def test_a_config_error_names_file_and_line(tmp_path: Path, capsys: Capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[service]\nbackend = "launchd"\n[ollama]\nport = "eleven"\n')
    assert run(["--json", "--config", str(config), "check"]) == 2
    doc = error_doc(capsys)
    assert doc == {"version": 1, "command": "check", "ok": False,
                   "error": {"message": "'port' must be a whole number, not text (\"eleven\")",
                             "hint": "for example: port = 4", "file": str(config), "line": 4}}


def test_a_usage_error_is_json_with_exit_2(capsys: Capsys) -> None:
    assert run(["--json", "apply", "--lock-timeout", "nan"]) == 2
    doc = error_doc(capsys)
    assert doc["command"] == "apply" and doc["ok"] is False
    assert doc["error"]["message"] == "Invalid value for '--lock-timeout': nan is not a finite number of seconds"


def test_an_operation_error_is_json_with_exit_1(tmp_path: Path, capsys: Capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[service]\nbackend = "launchd"\nbinary = "/opt/homebrew/bin/ollama"\n[ollama]\nport = 1\n')
    assert run(["--json", "--root", str(tmp_path / "root"), "--config", str(config), "rollback"]) == 1
    doc = error_doc(capsys)
    assert doc["command"] == "rollback"
    assert doc["error"] == {"message": "no earlier generation to roll back to", "hint": "see `ollama-sync history`",
                            "file": None, "line": None}


def test_an_internal_error_is_json_with_exit_3(tmp_path: Path, capsys: Capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[ollama]\nport = 1\n')
    with mock.patch("ollama_sync.cli.check.check", side_effect=RuntimeError("boom")):
        assert run(["--json", "--config", str(config), "check"]) == 3
    doc = error_doc(capsys)
    assert doc["command"] == "check"
    assert doc["error"]["message"].startswith("internal error: RuntimeError: boom")


def test_a_missing_config_names_its_file_in_the_json_error(tmp_path: Path, capsys: Capsys) -> None:
    missing = tmp_path / "missing.toml"
    assert run(["--json", "--config", str(missing), "plan"]) == 2
    doc = error_doc(capsys)
    assert doc["error"]["file"] == str(missing) and doc["error"]["line"] is None
    assert doc["error"]["message"] == "config file not found" and "--config FILE" in doc["error"]["hint"]


def test_without_json_stdout_stays_empty(tmp_path: Path, capsys: Capsys) -> None:
    assert run(["--config", str(tmp_path / "missing.toml"), "check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "config file not found" in captured.err


@pytest.mark.parametrize(("text", "message"), [
    ("[ollama]\nport = { a = 1 }\n", "'port' must be a whole number, not a table ({ a = 1 })"),
    ("[ollama]\nport = 1979-05-27T07:32:00Z\n", "'port' must be a whole number, not a date or time "
                                                 "(1979-05-27T07:32:00+00:00)"),
    ("[ollama.environment]\nX = { a = [1, true] }\n", "environment variable X must be a string, not a table "
                                                     "({ a = [1, true] })"),
])
def test_no_python_repr_in_messages(tmp_path: Path, capsys: Capsys, text: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    assert run(["--json", "--config", str(config), "check"]) == 2
    got = error_doc(capsys)["error"]["message"]
    assert got == message
    assert "{'" not in got and "datetime" not in got
