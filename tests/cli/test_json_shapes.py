"""Every command's real `--json` document against its declared shape (cli/json_shapes.py), key by key."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest

from ollama_sync.cli import json_shapes as shapes
from ollama_sync.cli import run
from tests.cli.test_models import Server, write_config

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "examples" / "reference-setup.toml"
PLIST = REPO / "tests" / "fixtures" / "import" / "com.github.ollama.plist"


def mismatches(value: Any, declared: Any, where: str = "$") -> list[str]:
    """Where value does not have the declared type (TypedDicts: exactly the declared keys)."""
    if declared is Any:
        return []
    if typing.is_typeddict(declared):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not an object"]
        hints = get_type_hints(declared)
        problems = [f"{where}: undeclared key {key!r}" for key in value if key not in hints]
        problems += [f"{where}: missing key {key!r}" for key in declared.__required_keys__ if key not in value]
        for key, hint in hints.items():
            if key in value:
                problems += mismatches(value[key], hint, f"{where}.{key}")
        return problems
    origin = get_origin(declared)
    if origin in (Union, types.UnionType):
        options = [mismatches(value, option, where) for option in get_args(declared)]
        return [] if any(not found for found in options) else min(options, key=len)
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__}, not a list"]
        (item,) = get_args(declared)
        return [p for i, v in enumerate(value) for p in mismatches(v, item, f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not an object"]
        _key, item = get_args(declared)
        return [p for k, v in value.items() for p in mismatches(v, item, f"{where}.{k}")]
    if declared is type(None):
        return [] if value is None else [f"{where}: {value!r}, not null"]
    if declared is float:
        return [] if isinstance(value, int | float) and not isinstance(value, bool) else [f"{where}: not a number"]
    if declared is int and isinstance(value, bool):
        return [f"{where}: a boolean, not an integer"]
    return [] if isinstance(value, declared) else [f"{where}: {value!r} is not {declared.__name__}"]


def document(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    run(["--json", *args])
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def assert_shape(doc: dict[str, Any], command: str, payload: Any) -> None:
    assert (doc["version"], doc["command"]) == (1, command)
    assert list(doc)[:3] == ["version", "command", "ok"]  # the envelope first, then the verdict
    body = {k: v for k, v in doc.items() if k not in ("version", "command")}
    assert mismatches(body, payload) == []


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reference setup under a --root: every machine file in tmp_path, no service manager asked."""
    monkeypatch.setenv("OLLAMA_SYNC_STATE_DIR", str(tmp_path / "state"))
    config = tmp_path / "config.toml"
    config.write_text(REFERENCE.read_text())
    return ["--root", str(tmp_path / "root"), "--config", str(config)]


def test_the_checker_sees_missing_extra_and_mistyped_keys() -> None:
    good: dict[str, Any] = {"ok": True, "generation": 2, "changed": False, "outcome": None, "recovered": None}
    assert mismatches(good, shapes.RollbackDoc) == []
    assert mismatches({**good, "extra": 1}, shapes.RollbackDoc) == ["$: undeclared key 'extra'"]
    assert mismatches({k: v for k, v in good.items() if k != "changed"}, shapes.RollbackDoc) == [
        "$: missing key 'changed'"]
    assert mismatches({**good, "generation": "2"}, shapes.RollbackDoc) == ["$.generation: '2' is not int"]
    assert mismatches({**good, "changed": 1}, shapes.RollbackDoc) == ["$.changed: 1 is not bool"]


@pytest.mark.parametrize(("args", "command", "payload"), [
    (["check"], "check", shapes.CheckDoc),
    (["render"], "render", shapes.RenderDoc),
    (["plan"], "plan", shapes.PlanDoc),
    (["status"], "status", shapes.StatusDoc),
    (["doctor"], "doctor", shapes.DoctorDoc),
    (["memory"], "memory", shapes.MemoryDoc),
    (["set", "num_parallel", "3"], "set", shapes.EditDoc),
    (["unset", "num_parallel"], "unset", shapes.EditDoc),
    (["import", str(PLIST)], "import", shapes.ImportDoc),
    (["watch", "--once"], "watch", shapes.WatchOnceDoc),
], ids=lambda a: a if isinstance(a, str) else None)
def test_read_only_and_editing_commands(sandbox: list[str], capsys: pytest.CaptureFixture[str], args: list[str],
                                        command: str, payload: Any) -> None:
    assert_shape(document(capsys, *sandbox, *args), command, payload)


def test_apply_history_and_rollback(sandbox: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    applied = document(capsys, *sandbox, "apply", "--yes")
    assert applied["changed"] is True and applied["outcome"] is not None
    assert_shape(applied, "apply", shapes.ApplyDoc)
    assert_shape(document(capsys, *sandbox, "apply", "--yes"), "apply", shapes.ApplyDoc)  # the no-op
    run([*sandbox, "set", "num_parallel", "6"])
    assert document(capsys, *sandbox, "apply", "--yes")["changed"] is True
    history = document(capsys, *sandbox, "history")
    assert len(history["generations"]) == 2
    assert_shape(history, "history", shapes.HistoryDoc)
    assert_shape(document(capsys, *sandbox, "rollback", "1"), "rollback", shapes.RollbackDoc)


def test_watch_install_and_uninstall(sandbox: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    installed = document(capsys, *sandbox, "watch", "--install")
    assert installed["runs"][-2:] == ["watch", "--once"]
    assert_shape(installed, "watch", shapes.WatchServiceDoc)
    assert_shape(document(capsys, *sandbox, "watch", "--uninstall"), "watch", shapes.WatchServiceDoc)


@pytest.mark.slow
def test_models_sync(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = Server(tmp_path / "server", models=("old:latest",))
    try:
        config = write_config(tmp_path, server.port, ["llama3.1:8b"])
        doc = document(capsys, "--config", str(config), "models", "sync")
    finally:
        server.stop()
    assert doc["pulled"] and doc["extra"] == ["old:latest"]
    assert_shape(doc, "models sync", shapes.ModelsSyncDoc)
