"""Shared fixtures: every test runs with a temporary HOME and no ollama-sync environment of the user's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.core.target import Machine
from tests.fakes import FakeRunner

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
MACOS_FIXTURES = SHARED / "fixtures" / "macos"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IN_CI = os.environ.get("CI") == "true"


def require_tool(name: str) -> str:
    """The path of an outside tool; skip with a reason when absent, but fail in CI (it must be installed)."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI; .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path


def require_shared() -> Path:
    """The shared fixtures folder; skipped outside the workplace, failed in CI."""
    if not MACOS_FIXTURES.is_dir():
        if IN_CI:
            pytest.fail(f"{MACOS_FIXTURES} is missing")
        pytest.skip("shared fixtures are not present")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads or writes the real HOME or the user's ollama-sync config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    monkeypatch.delenv("OLLAMA_SYNC_CONFIG", raising=False)
    monkeypatch.delenv("OLLAMA_SYNC_STATE_DIR", raising=False)
    yield home


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    """A macOS-like machine whose home is a temporary folder."""
    return Machine(system="Darwin", home="/Users/alice", uid=501, user="alice", state_dir=str(tmp_path / "state"))


@pytest.fixture
def fake_runner() -> FakeRunner:
    """A scripted runner."""
    return FakeRunner()


@pytest.fixture
def make_context(tmp_path: Path, machine: Machine, fake_runner: FakeRunner):  # type: ignore[no-untyped-def]
    """A factory for a Context on the fake machine, sandboxed under tmp_path/root."""

    def make(config: Path | str, *, root: Path | None = None, json: bool = False) -> Context:
        return Context(GlobalOptions(config=str(config), root=str(root or tmp_path / "root"), json=json),
                       environ={"PATH": "/usr/bin"}, runner=fake_runner, machine_override=machine)

    return make
