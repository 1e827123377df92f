"""The state directory is ollama-sync's own (0700, the user's), and recovery acts only on journals it can trust (#11).

A planted journal used to make recovery write chosen bytes to a chosen path, delete a chosen path, or
load a chosen service; these tests plant such journals and check that nothing is written, deleted or loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ollama_sync.app.apply import recover
from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.core.machine_facts import PathStat
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target, target_to_json
from ollama_sync.core.trust import state_dir_problem
from ollama_sync.errors import StateError
from ollama_sync.system.files import Files
from ollama_sync.system.state import StateStore, ensure_state_dir
from ollama_sync.system.state_records import Journal
from tests.fakes import FakeRunner

PLIST = "/Users/alice/Library/LaunchAgents/com.github.ollama.plist"
DECLARED = Target(Backend.LAUNCHD, PLIST, "com.github.ollama", "/opt/homebrew/bin/ollama", Scope.USER, None)


def sandbox(machine: Machine, root: Path) -> Context:
    return Context(GlobalOptions(root=str(root)), environ={}, runner=FakeRunner(), machine_override=machine)


def test_the_state_directory_is_created_0700(tmp_path: Path) -> None:
    old = os.umask(0o002)  # a permissive umask must not widen it
    try:
        store = StateStore(Files(), str(tmp_path / "a" / "state"))
        with store.lock(1):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "state").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "a" / "state" / "lock").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("mode,who", [(0o775, "its group"), (0o757, "every user"), (0o1777, "every user")])
def test_a_state_directory_others_can_write_is_refused(tmp_path: Path, mode: int, who: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(mode)
    with pytest.raises(StateError, match=f"{state} is writable by {who}") as caught:
        StateStore(Files(), str(state)).journal()
    assert caught.value.hint == f"chmod 700 {state}"


def test_a_state_directory_owned_by_someone_else_is_refused() -> None:
    item = PathStat("/s", uid=1001, gid=1001, mode=0o700, is_dir=True)
    assert state_dir_problem(item, 501) == ("the state directory /s is owned by uid 1001, not by the user running "
                                            "ollama-sync (uid 501)")
    assert state_dir_problem(PathStat("/s", 501, 20, 0o755, True), 501) is None


@pytest.mark.skipif(os.getuid() != 0, reason="chown to another user needs root")
def test_a_real_state_directory_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, 65534, 65534)
    with pytest.raises(StateError, match="owned by uid 65534"):
        StateStore(Files(), str(state)).journal()


def test_a_state_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("x")
    with pytest.raises(StateError, match=f"{tmp_path / 'state'} is not a directory"):
        ensure_state_dir(Files(), str(tmp_path / "state"))


def test_a_relative_state_directory_is_named_as_such() -> None:
    with pytest.raises(StateError, match=r"the state directory state/here \(OLLAMA_SYNC_STATE_DIR\) is a relative"):
        ensure_state_dir(Files(), "state/here")


def test_a_lock_that_is_a_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (state / "lock").symlink_to(victim)
    with pytest.raises(StateError, match=f"the lock file {state / 'lock'} is a symbolic link"), \
            StateStore(Files(), str(state)).lock(1):
        pass
    assert victim.read_text() == "precious"


def test_a_lock_that_cannot_be_created_is_not_blamed_on_another_transaction(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "lock").mkdir(parents=True)
    state.chmod(0o700)
    with pytest.raises(StateError, match=f"cannot create the lock file {state / 'lock'}: Is a directory") as caught, \
            StateStore(Files(), str(state)).lock(1):
        pass
    assert "another" not in caught.value.render()


def plant(ctx: Context, target: Target, *, old: bytes | None, phase: str = "written") -> StateStore:
    """A journal (and the generations it names) for target, as someone other than ollama-sync might write them."""
    store = StateStore(ctx.files, ctx.machine.state_dir)
    old_gen = None
    if old is not None:
        old_gen = store.add(old, source="planted", result="in progress", target=target_to_json(target),
                            environment={}).number
    new = store.add(b"new", source="planted", result="in progress", target=target_to_json(target), environment={})
    store.write_journal(Journal(phase, target_to_json(target), old_gen, new.number))
    return store


def test_a_planted_journal_cannot_delete_a_path(machine: Machine, tmp_path: Path) -> None:
    ctx = sandbox(machine, tmp_path / "root")
    victim = tmp_path / "root" / "etc" / "important"
    victim.parent.mkdir(parents=True)
    victim.write_bytes(b"new")  # the journal's "new" bytes, so recovery would undo by deleting it
    store = plant(ctx, Target(Backend.LAUNCHD, "/etc/important", "x", "/bin/sh", Scope.USER, None), old=None)
    with pytest.raises(StateError, match=r"the journal .*journal.json names launchd file /etc/important, which is "
                                         r"neither the declared service file nor one an earlier generation"):
        recover(ctx, declared=DECLARED)
    assert victim.read_bytes() == b"new"
    assert store.journal() is not None  # left for the user to inspect


def test_a_planted_journal_cannot_write_chosen_bytes(machine: Machine, tmp_path: Path) -> None:
    ctx = sandbox(machine, tmp_path / "root")
    store = plant(ctx, Target(Backend.LAUNCHD, "/etc/sudoers.d/x", "x", "/bin/sh", Scope.USER, None),
                  old=b"alice ALL=(ALL) NOPASSWD: ALL\n")
    with pytest.raises(StateError, match="did not act on it"):
        recover(ctx, declared=DECLARED)
    assert not (tmp_path / "root" / "etc").exists()
    assert store.journal() is not None


def test_a_journal_naming_no_valid_target_is_refused(machine: Machine, tmp_path: Path) -> None:
    ctx = sandbox(machine, tmp_path / "root")
    store = StateStore(ctx.files, ctx.machine.state_dir)
    store.write_journal(Journal("written", {"path": "/x", "backend": "nope"}, None, 1))
    with pytest.raises(StateError, match="names no valid target"):
        recover(ctx, declared=DECLARED)


def test_a_journal_that_is_a_symlink_is_not_read(machine: Machine, tmp_path: Path) -> None:
    ctx = sandbox(machine, tmp_path / "root")
    store = StateStore(ctx.files, ctx.machine.state_dir)
    ensure_state_dir(ctx.files, ctx.machine.state_dir)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    os.symlink(elsewhere, store.journal_location)
    with pytest.raises(StateError, match="is a symbolic link"):
        store.journal()


def test_the_declared_target_is_recovered(machine: Machine, tmp_path: Path) -> None:
    ctx = sandbox(machine, tmp_path / "root")
    store = plant(ctx, DECLARED, old=None)
    ctx.files.write_atomic(PLIST, b"new")
    recovery = recover(ctx, declared=DECLARED)
    assert recovery is not None and recovery.action == "undone"
    assert ctx.files.read_bytes(PLIST) is None and store.journal() is None
