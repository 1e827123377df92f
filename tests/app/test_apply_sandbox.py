"""apply, rollback and history under --root (no service manager asked), refusal without a terminal, recovery."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ollama_sync.app.apply import recover
from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.cli import run
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target, target_to_json
from ollama_sync.errors import LockTimeout
from ollama_sync.system.files import Files
from ollama_sync.system.state import KEEP, StateStore
from ollama_sync.system.state_records import Journal
from tests.fakes import FakeRunner

PLIST = "/Users/alice/Library/LaunchAgents/com.github.ollama.plist"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[service]\nbackend = "launchd"\nbinary = "/opt/homebrew/bin/ollama"\n\n'
                    "[ollama]\nport = 11500\n")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


def cli(machine: Machine, *args: str) -> int:
    """Run the CLI in-process on the fake machine (FakeRunner: any subprocess fails the test)."""
    from unittest import mock  # noqa: PLC0415

    with mock.patch("ollama_sync.app.context.Context.machine", machine), \
            mock.patch("ollama_sync.app.context.SubprocessRunner", FakeRunner):
        return run(list(args))


def test_apply_under_root_writes_file_and_generation_but_asks_no_manager(
        config: Path, root: Path, machine: Machine, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(machine, "--root", str(root), "--config", str(config), "apply", "--yes") == 0
    out = capsys.readouterr().out
    assert "not reloaded: under --root" in out and "applied: generation 1" in out
    written = root / PLIST.lstrip("/")
    assert b"OLLAMA_HOST" in written.read_bytes() and written.stat().st_mode & 0o777 == 0o644
    assert cli(machine, "--root", str(root), "--config", str(config), "apply", "--yes") == 0
    assert "up to date" in capsys.readouterr().out

    config.write_text(config.read_text().replace("11500", "11600"))
    assert cli(machine, "--root", str(root), "--config", str(config), "--json", "apply", "--yes") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"]["generation"]["number"] == 2 and "11600" in doc["diff"]

    assert cli(machine, "--root", str(root), "--config", str(config), "--json", "history") == 0
    history = json.loads(capsys.readouterr().out)
    assert [(g["number"], g["result"], g["current"]) for g in history["generations"]] == [
        (1, "ok", False), (2, "ok", True)]

    assert cli(machine, "--root", str(root), "--config", str(config), "rollback") == 0
    assert "rolling back to generation 1" in capsys.readouterr().out
    assert b"11500" in written.read_bytes()


def test_apply_without_terminal_or_yes_refuses_at_once(config: Path, root: Path, machine: Machine,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(machine, "--root", str(root), "--config", str(config), "apply") == 2
    err = capsys.readouterr().err
    assert "no terminal to ask on" in err and "--yes" in err
    assert not (root / PLIST.lstrip("/")).exists()


def test_apply_blocked_by_errors_touches_nothing(config: Path, root: Path, machine: Machine,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(config.read_text().replace("11500", "99999"))
    assert cli(machine, "--root", str(root), "--config", str(config), "apply", "--yes") == 1
    assert "nothing was touched" in capsys.readouterr().err
    assert not root.exists() or not any(root.rglob("*.plist"))


def test_history_when_empty(config: Path, root: Path, machine: Machine, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(machine, "--root", str(root), "--config", str(config), "history") == 0
    assert "no generations recorded yet" in capsys.readouterr().out


def sandbox(machine: Machine, root: Path) -> Context:
    return Context(GlobalOptions(root=str(root)), environ={}, runner=FakeRunner(), machine_override=machine)


def interrupted(ctx: Context, phase: str, *, on_disk: bytes | None) -> tuple[StateStore, Target]:
    """A state directory as a killed apply leaves it: old and new generations, the journal at phase."""
    target = Target(Backend.LAUNCHD, PLIST, "com.github.ollama", "/opt/homebrew/bin/ollama", Scope.USER, None)
    store = StateStore(ctx.files, ctx.machine.state_dir)
    old = store.add(b"old", source="s", result="ok", target=target_to_json(target), environment={})
    new = store.add(b"new", source="s", result="in progress", target=target_to_json(target), environment={})
    store.write_journal(Journal(phase, target_to_json(target), old.number, new.number))
    if on_disk is not None:
        ctx.files.write_atomic(PLIST, on_disk)
    return store, target


@pytest.mark.parametrize("phase,on_disk,action,final,result", [
    ("begun", b"old", "discarded", b"old", "interrupted before the file was written"),
    ("begun", b"new", "undone", b"old", "interrupted after 'begun'; undone"),
    ("written", b"new", "undone", b"old", "interrupted after 'written'; undone"),
    ("reloaded", b"new", "undone", b"old", "interrupted after 'reloaded'; undone"),
    ("rolling-back", b"old", "undone", b"old", "interrupted after 'rolling-back'; undone"),
    ("verified", b"new", "finished", b"new", "ok"),
])
def test_recover_finishes_or_undoes(machine: Machine, root: Path, phase: str, on_disk: bytes, action: str,
                                    final: bytes, result: str) -> None:
    ctx = sandbox(machine, root)
    store, _ = interrupted(ctx, phase, on_disk=on_disk)
    recovery = recover(ctx)
    assert recovery is not None and recovery.action == action
    assert ctx.files.read_bytes(PLIST) == final
    assert store.generation(2).result == result
    assert store.journal() is None
    assert recover(ctx) is None  # nothing left to do


def test_recover_leaves_a_running_transaction_alone(machine: Machine, root: Path, tmp_path: Path) -> None:
    ctx = sandbox(machine, root)
    store, _ = interrupted(ctx, "written", on_disk=b"new")
    lock_path = ctx.files.real(f"{ctx.machine.state_dir}/lock")
    holder = hold_lock(lock_path, tmp_path)
    try:
        assert recover(ctx) is None
        assert store.journal() is not None
        with pytest.raises(LockTimeout, match=f"pid {holder.pid}"), store.lock(0.1):
            pass
    finally:
        holder.kill()
        holder.wait()


def hold_lock(lock_path: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """Another process holding the state lock (and naming itself in lock.owner, as apply does)."""
    ready = tmp_path / "ready"
    code = textwrap.dedent(f"""
        import fcntl, os, time, pathlib
        fd = os.open({str(lock_path)!r}, os.O_RDONLY | os.O_CREAT, 0o600); fcntl.flock(fd, fcntl.LOCK_EX)
        pathlib.Path({str(lock_path)!r} + ".owner").write_text(f"pid {{os.getpid()}} since now")
        pathlib.Path({str(ready)!r}).write_text("1"); time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", code])
    while not ready.exists():
        assert process.poll() is None
    return process


def test_generations_keep_the_last_twenty(tmp_path: Path) -> None:
    store = StateStore(Files(), str(tmp_path / "state"))
    target = {"path": "/x", "backend": "supervisord"}
    for i in range(KEEP + 5):
        store.add(f"v{i}".encode(), source="s", result="ok", target=target, environment=None)
    numbers = [g.number for g in store.generations()]
    assert numbers == list(range(6, KEEP + 6))
    assert store.content(KEEP + 5) == f"v{KEEP + 4}".encode()
    assert len(list((tmp_path / "state" / "generations").iterdir())) == 2 * KEEP


def test_a_generation_recorded_without_a_journal_is_marked_interrupted(machine: Machine, root: Path) -> None:
    from ollama_sync.app.apply import recover_locked  # noqa: PLC0415

    ctx = sandbox(machine, root)
    store = StateStore(ctx.files, ctx.machine.state_dir)
    store.add(b"new", source="s", result="in progress", target={"path": PLIST, "backend": "launchd"},
              environment={})
    with store.lock(1):
        assert recover_locked(ctx, store, timeout=1) is None
    assert store.generation(1).result == "interrupted before the file was written"
