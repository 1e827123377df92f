"""Clear messages (#11, item 7): launchd on Linux, a relative state directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ollama_sync.cli import run

REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "reference-setup.toml"


@pytest.mark.skipif(sys.platform == "darwin", reason="the point is a machine without launchd")
def test_the_quick_start_on_linux_names_launchd_and_the_way_out(tmp_path: Path) -> None:
    """The reference setup targets launchd; on Linux (where launchctl is absent) apply says so, touching nothing."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run([sys.executable, "-m", "ollama_sync", "--config", str(REFERENCE), "apply", "--yes"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: the declaration targets launchd, the macOS service manager, and this "
                                  "machine (Linux) has no launchd\n")
    assert 'backend = "systemd"' in done.stderr and "--backend systemd" in done.stderr
    assert "install launchctl" not in done.stderr
    assert not (tmp_path / "Library").exists()


def test_a_relative_state_directory_is_reported_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[service]\nbackend = "supervisord"\nbinary = "/usr/bin/ollama"\n[ollama]\nport = 11500\n')
    monkeypatch.setenv("OLLAMA_SYNC_STATE_DIR", "rel/state")
    assert run(["--config", str(config), "plan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the state directory rel/state is a relative path (from OLLAMA_SYNC_STATE_DIR)")
    assert "log_path" not in err


def test_set_under_root_edits_a_copy_inside_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`--root` is a sandbox: `set` must not edit the real declaration; later commands read the copy."""
    monkeypatch.setenv("OLLAMA_SYNC_STATE_DIR", str(tmp_path / "state"))
    config = tmp_path / "config.toml"
    original = '[service]\nbackend = "supervisord"\nbinary = "/usr/bin/ollama"\n\n[ollama]\nport = 11500\n'
    config.write_text(original)
    root = tmp_path / "root"
    assert run(["--root", str(root), "--config", str(config), "set", "num_parallel", "3"]) == 0
    out = capsys.readouterr().out
    assert config.read_text() == original  # the real file is untouched
    copy = root / str(config).lstrip("/")
    assert "num_parallel = 3" in copy.read_text()
    assert f"→ {root}/" in out  # the plan shown after the edit names the real path, inside the root
    assert run(["--root", str(root), "--config", str(config), "--json", "plan"]) == 0
    assert 'OLLAMA_NUM_PARALLEL=\\"3\\"' in capsys.readouterr().out  # the copy is what --root reads
    assert run(["--config", str(config), "--json", "render"]) == 0
    assert "OLLAMA_NUM_PARALLEL" not in capsys.readouterr().out  # without --root: the real, unedited file


def test_plan_with_enable_false_lists_the_removal_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OLLAMA_SYNC_STATE_DIR", str(tmp_path / "state"))
    config = tmp_path / "config.toml"
    text = '[service]\nbackend = "supervisord"\nbinary = "/usr/bin/ollama"\n[ollama]\nport = 11500\n'
    config.write_text(text)
    root = tmp_path / "root"
    assert run(["--root", str(root), "--config", str(config), "apply", "--yes"]) == 0
    config.write_text(text + "enable = false\n")
    capsys.readouterr()
    assert run(["--root", str(root), "--config", str(config), "plan"]) == 0
    out = capsys.readouterr().out
    assert out.count("  - remove: enable = false") == 1 and out.count("  - stop: enable = false") == 1
    assert out.count("+++ /dev/null") == 1
    assert f"→ {root}{tmp_path}/state/supervisor.d/ollama.conf" in out  # the real path, inside the root
