"""Files: --root placement, atomic writes (mode, no temporary left behind), reads and removal."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.files import Files


def test_root_places_absolute_and_relative_paths_under_it(tmp_path: Path) -> None:
    files = Files(str(tmp_path))
    assert files.location("/etc/x.conf") == str(tmp_path / "etc/x.conf")
    assert files.location("rel/y") == str(tmp_path / "rel/y")
    assert files.real("/etc/x.conf") == tmp_path / "etc/x.conf"
    assert Files(None).location("/etc/x.conf") == "/etc/x.conf"


def test_write_atomic_creates_folders_sets_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    files = Files(str(tmp_path))
    files.write_atomic("/Library/LaunchAgents/a.plist", b"one", mode=0o644)
    files.write_atomic("/Library/LaunchAgents/a.plist", b"two", mode=0o600)
    target = tmp_path / "Library/LaunchAgents/a.plist"
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["a.plist"]
    assert files.read_text("/Library/LaunchAgents/a.plist") == "two"


def test_a_bare_file_name_is_written_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files = Files(None)
    files.write_atomic("config.toml", b"[ollama]\n")
    assert (tmp_path / "config.toml").read_bytes() == b"[ollama]\n"
    assert files.remove("config.toml") is True
    assert files.remove("config.toml") is False


def test_missing_files_read_as_none_and_folders_list_empty(tmp_path: Path) -> None:
    files = Files(str(tmp_path))
    assert files.read_bytes("/nope") is None
    assert not files.exists("/nope")
    assert files.list_names("/nowhere") == []
    files.write_atomic("/d/b", b"")
    files.write_atomic("/d/a", b"")
    assert files.list_names("/d") == ["a", "b"]


def test_an_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OllamaSyncError, match=f"cannot write {tmp_path}/file/x") as caught:  # the real path
        Files(str(tmp_path)).write_atomic("/file/x", b"")
    assert caught.value.hint == "a part of the path is a file, not a folder"
