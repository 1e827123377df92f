"""The CLI in-process: exit codes, error messages and the --json envelope for check/render/plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ollama_sync.cli import run
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "reference-setup.toml"


def test_plan_on_the_reference_setup_shows_num_ctx_and_the_diff(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["--root", str(tmp_path), "--config", str(EXAMPLE), "plan"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "warning[unknown-variable] OLLAMA_NUM_CTX is not read by `ollama serve`" in out
    assert "did you mean OLLAMA_CONTEXT_LENGTH?" in out
    assert "+\t\t<key>OLLAMA_KV_CACHE_TYPE</key>" in out


def test_plan_detailed_exitcode_is_2_when_changes_are_pending(tmp_path: Path) -> None:
    assert run(["--root", str(tmp_path), "--config", str(EXAMPLE), "plan", "--detailed-exitcode"]) == 2


def test_missing_config_is_exit_2_with_one_line_naming_the_file(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["--config", str(tmp_path / "nope.toml"), "check"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(f"error: {tmp_path / 'nope.toml'}: config file not found")
    assert "Traceback" not in err


def test_check_json_envelope(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["--root", str(tmp_path), "--config", str(EXAMPLE), "--json", "check"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["version"] == 1 and doc["command"] == "check" and doc["ok"] is True
    codes = {f["code"] for f in doc["findings"]}
    assert codes == {"unknown-variable", "exposed-all-interfaces"}
    num_ctx = next(f for f in doc["findings"] if f["variable"] == "OLLAMA_NUM_CTX")
    assert num_ctx["location"] == {"file": str(EXAMPLE), "line": 20, "col": None}
