"""Fault injection (#11): the state directory fills up or turns read-only in the middle of an apply.

The state directory is a real, small tmpfs; the fault is real too (the tmpfs is filled to ENOSPC, or
remounted read-only). The apply is paused (tests/e2e_supervisor/pause_at.py) right after the journal
says "begun", so the service file is written and then the state store fails: apply must put the old file
and the old server back, clear the journal where the file system lets it, exit 1 with a message, and the
next commands must work.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.e2e_supervisor.conftest import Setup

pytestmark = pytest.mark.slow
PAUSE_AT = Path(__file__).with_name("pause_at.py")


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "512k") -> Iterator[Path]:
    """A tmpfs of `size` at where, owned by us and 0700 (unmounted afterwards); needs root."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0700,uid={os.getuid()},gid={os.getgid()}"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        message = f"cannot mount a tmpfs (root is needed): {done.stderr.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the file system is full; return it."""
    filler = folder / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def remount(folder: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True)


def paused_apply(setup: Setup, control: Path) -> subprocess.Popen[str]:
    """`apply --yes` that stops right after the journal says "begun", until control/resume exists."""
    control.mkdir()
    argv = [sys.executable, str(PAUSE_AT), "begun", str(control), "--config", str(setup.config),
            "apply", "--yes", "--timeout", "15"]
    process = subprocess.Popen(argv, env=setup.env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (control / "paused").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "apply never reached the pause"
        time.sleep(0.02)
    return process


def finish(process: subprocess.Popen[str], control: Path) -> tuple[int, str, str]:
    (control / "resume").touch()
    try:
        out, err = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, out, err


@pytest.fixture
def on_tmpfs(setup: Setup, tmp_path: Path) -> Iterator[Setup]:
    """The setup with its state directory on a small tmpfs and the server log outside it, applied once."""
    with small_tmpfs(setup.state):
        setup.config.write_text(setup.sv.config_text(str(setup.ollama), setup.port,
                                                     backend_extra=f'log_path = "{tmp_path}/logs/ollama.log"\n'))
        first = setup.apply()
        assert first.returncode == 0, first.stderr
        assert setup.state.stat().st_mode & 0o777 == 0o700
        yield setup


def declare_change(setup: Setup, tmp_path: Path) -> str:
    old = (setup.sv.include_dir / "ollama.conf").read_text()
    setup.config.write_text(setup.sv.config_text(str(setup.ollama), setup.port, extra_ollama='keep_alive = "10m"\n',
                                                 backend_extra=f'log_path = "{tmp_path}/logs/ollama.log"\n'))
    return old


def assert_old_server_runs(setup: Setup, old_conf: str) -> None:
    assert (setup.sv.include_dir / "ollama.conf").read_text() == old_conf  # the previous file is back
    assert setup.answers() and setup.pid() is not None
    env = setup.manager_env()
    assert env["OLLAMA_HOST"] == f"127.0.0.1:{setup.port}" and "OLLAMA_KEEP_ALIVE" not in env  # the old config


def test_a_full_state_directory_after_the_write_rolls_back(on_tmpfs: Setup, tmp_path: Path) -> None:
    setup = on_tmpfs
    old_conf = declare_change(setup, tmp_path)
    control = tmp_path / "control"
    process = paused_apply(setup, control)
    filler = fill(setup.state)
    rc, _, err = finish(process, control)

    assert rc == 1, err
    assert "No space left on device" in err and "the disk is full" in err
    assert "rolled back to generation 1" in err and "previous server: healthy" in err
    assert "Traceback" not in err
    assert_old_server_runs(setup, old_conf)
    assert not (setup.state / "journal.json").exists()  # unlink works on a full file system

    status = setup.run("--json", "status")  # the next command works while the disk is still full
    doc = json.loads(status.stdout)
    assert doc["recovery_error"] is None and doc["service"]["pid"] == setup.pid(), status.stderr
    filler.unlink()
    again = setup.apply()
    assert again.returncode == 0, again.stderr
    assert setup.manager_env()["OLLAMA_KEEP_ALIVE"] == "10m"


def test_a_read_only_state_directory_after_the_write_rolls_back(on_tmpfs: Setup, tmp_path: Path) -> None:
    setup = on_tmpfs
    old_conf = declare_change(setup, tmp_path)
    control = tmp_path / "control"
    process = paused_apply(setup, control)
    remount(setup.state, "ro")
    try:
        rc, _, err = finish(process, control)
        assert rc == 1, err
        assert "Read-only file system" in err and "rolled back to generation 1" in err
        assert "Traceback" not in err
        assert_old_server_runs(setup, old_conf)
        assert (setup.state / "journal.json").exists()  # a read-only file system keeps it

        status = setup.run("--json", "status")  # the next command works, and says what it could not do
        doc = json.loads(status.stdout)
        assert status.returncode == 1
        assert "Read-only file system" in doc["recovery_error"] and doc["service"]["pid"] == setup.pid()
        refused = setup.apply()
        assert refused.returncode == 1 and "Read-only file system" in refused.stderr
        assert "another ollama-sync transaction" not in refused.stderr
    finally:
        remount(setup.state, "rw")
    again = setup.apply()
    assert again.returncode == 0, again.stderr
    assert "recovered an interrupted apply" in again.stderr
    assert setup.manager_env()["OLLAMA_KEEP_ALIVE"] == "10m"
    assert not (setup.state / "journal.json").exists()


def test_the_state_directory_full_before_anything_is_written(on_tmpfs: Setup, tmp_path: Path) -> None:
    setup = on_tmpfs
    old_conf = declare_change(setup, tmp_path)
    filler = fill(setup.state)
    done = setup.apply()
    assert done.returncode == 1 and "No space left on device" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert_old_server_runs(setup, old_conf)
    filler.unlink()
    assert setup.apply().returncode == 0
