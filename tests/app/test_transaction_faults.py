"""Any failure after the service file was written puts the previous file back first (#11, item 4).

The state store is replaced by one that fails at a chosen moment (a seam: the real store on a full or
read-only file system is exercised in tests/e2e_supervisor/test_state_faults.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.transaction import Transaction
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target, target_to_json
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.state import StateStore
from ollama_sync.system.state_records import Generation, Journal
from tests.fakes import FakeRunner

PATH = "/etc/supervisor.d/ollama.conf"
TARGET = Target(Backend.SUPERVISORD, PATH, "ollama", "/usr/bin/ollama", Scope.USER, None)


class FailingStore(StateStore):
    """A store whose journal write at `phase` (or whose set_result) raises `error`."""

    def __init__(self, ctx: Context, *, phase: str | None = None, on_result: bool = False,
                 error: Exception) -> None:
        super().__init__(ctx.files, ctx.machine.state_dir)
        self.phase, self.on_result, self.error, self.armed = phase, on_result, error, True

    def write_journal(self, journal: Journal) -> Journal:
        if self.armed and journal.phase == self.phase:
            self.armed = False
            raise self.error
        return super().write_journal(journal)

    def set_result(self, number: int, result: str) -> Generation:
        if self.armed and self.on_result and result == "ok":
            self.armed = False
            raise self.error
        return super().set_result(number, result)


def switch(ctx: Context, store: StateStore) -> tuple[Transaction, Generation]:
    """A transaction under --root from b"old" to b"new"; returns it and the old generation."""
    ctx.files.write_atomic(PATH, b"old")
    tx = Transaction(ctx, store, TARGET, None, timeout=1)
    old = tx.backup(b"old", None, False)
    assert old is not None
    return tx, old


@pytest.fixture
def ctx(machine: Machine, tmp_path: Path) -> Context:
    return Context(GlobalOptions(root=str(tmp_path / "root")), environ={}, runner=FakeRunner(),
                   machine_override=machine)


def test_a_state_error_after_the_write_rolls_back_and_clears_the_journal(ctx: Context) -> None:
    store = FailingStore(ctx, phase="written", error=OllamaSyncError("cannot write journal.json: disk full"))
    tx, old = switch(ctx, store)
    outcome = tx.switch(b"new", {}, "decl", old=old, old_pid=None)
    assert not outcome.ok and outcome.restored == old
    assert outcome.attempt is not None and "disk full" in outcome.attempt.reason
    assert ctx.files.read_bytes(PATH) == b"old"
    assert store.journal() is None
    assert store.generation(outcome.generation.number).result == "rolled back: cannot write journal.json: disk full"


def test_a_bug_after_the_write_rolls_back_then_is_raised(ctx: Context) -> None:
    store = FailingStore(ctx, on_result=True, error=KeyError("bug"))
    tx, old = switch(ctx, store)
    with pytest.raises(KeyError):
        tx.switch(b"new", {}, "decl", old=old, old_pid=None)
    assert ctx.files.read_bytes(PATH) == b"old"
    assert store.journal() is None


def test_without_an_old_file_the_new_one_is_removed(ctx: Context) -> None:
    store = FailingStore(ctx, phase="written", error=OSError(28, "No space left on device"))
    tx = Transaction(ctx, store, TARGET, None, timeout=1)
    with pytest.raises(OSError):
        tx.switch(b"new", {}, "decl", old=None, old_pid=None)
    assert ctx.files.read_bytes(PATH) is None
    assert store.journal() is None


def test_a_failed_write_leaves_no_journal(ctx: Context) -> None:
    store = StateStore(ctx.files, ctx.machine.state_dir)
    ctx.files.write_atomic("/etc/supervisor.d", b"a file where the folder should be")
    tx = Transaction(ctx, store, TARGET, None, timeout=1)
    with pytest.raises(OllamaSyncError, match=r"cannot write .*/etc/supervisor\.d/ollama\.conf") as caught:
        tx.switch(b"new", {}, "decl", old=None, old_pid=None)
    assert caught.value.hint == "a part of the path is a file, not a folder"
    assert store.journal() is None
    assert store.generations()[-1].result.startswith("failed: the service file could not be written")


def test_target_json_round_trip() -> None:
    assert target_to_json(TARGET)["path"] == PATH
