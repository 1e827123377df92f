"""Real Nix for tests: nix-instantiate with its state, log and config folders in a temporary directory.

Evaluation uses `--store dummy://` (see system/nix.py), so no store is opened; the variables keep Nix
from touching /nix/var or the user's config. `nix_env` also checks that no test created anything under /nix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool


def _snapshot(root: Path) -> set[str]:
    if not root.exists():
        return set()
    return {str(p) for p in root.rglob("*")} | {str(root)}


@pytest.fixture
def nix_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """nix-instantiate on PATH, isolated from /nix/var and ~/.config/nix; fails if /nix grew."""
    require_tool("nix-instantiate")
    base = tmp_path_factory.mktemp("nix")
    for name in ("NIX_STATE_DIR", "NIX_LOG_DIR", "NIX_CONF_DIR"):
        folder = base / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
    monkeypatch.setenv("NIX_REMOTE", "")
    before = _snapshot(Path("/nix"))
    yield base
    created = _snapshot(Path("/nix")) - before
    assert not created, f"tests created {sorted(created)[:5]} under /nix"
    assert os.environ.get("NIX_STATE_DIR") == str(base / "nix_state_dir")
