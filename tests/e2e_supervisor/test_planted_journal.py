"""The planted-journal attack (#11), on a real supervisord: `status` must not write, delete or load what a
journal it did not write says.

Before the fix, a journal naming another program file made `status` "undo" an apply: it wrote the bytes
of the journal's "old" generation to the journal's path and asked supervisord to load that program
(demonstrated: a program running a command as root).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Target, target_to_json
from ollama_sync.system.files import Files
from ollama_sync.system.state import StateStore
from ollama_sync.system.state_records import Journal
from tests.e2e_supervisor.conftest import Setup

pytestmark = pytest.mark.slow


def plant(setup: Setup, marker: Path) -> Path:
    """A journal saying an apply of program `evil` was killed after `written`, its "old" file running a command."""
    evil_path = setup.sv.include_dir / "evil.conf"
    target = Target(Backend.SUPERVISORD, str(evil_path), "evil", "/bin/sh", Scope.USER, None)
    store = StateStore(Files(), str(setup.state))
    evil = f"[program:evil]\ncommand=/bin/sh -c 'touch {marker}; sleep 60'\nautostart=true\n".encode()
    old = store.add(evil, source="planted", result="ok", target=target_to_json(target), environment={})
    new = store.add(b"x", source="planted", result="in progress", target=target_to_json(target), environment={})
    store.write_journal(Journal("written", target_to_json(target), old.number, new.number))
    return evil_path


def test_status_refuses_a_journal_for_a_file_it_does_not_manage(setup: Setup, tmp_path: Path) -> None:
    assert setup.apply().returncode == 0
    marker = tmp_path / "pwned"
    evil_path = plant(setup, marker)
    # Whoever can write the state directory can also plant an earlier generation that vouches for the
    # journal's file: what stops this is the state directory's mode (a shared OLLAMA_SYNC_STATE_DIR, say).
    os.chmod(setup.state, 0o777)
    done = setup.run("--json", "status")
    doc = json.loads(done.stdout)
    assert done.returncode == 1
    assert "is writable by every user (mode 0777)" in doc["recovery_error"]
    assert not evil_path.exists() and not marker.exists()
    assert setup.sv.info("evil") is None  # nothing was loaded
    assert (setup.state / "journal.json").exists()  # left for the user to inspect
    assert setup.answers()


def test_status_refuses_a_journal_naming_an_undeclared_file(setup: Setup, tmp_path: Path) -> None:
    assert setup.apply().returncode == 0
    marker = tmp_path / "pwned"
    evil_path = setup.sv.include_dir / "evil.conf"
    target = Target(Backend.SUPERVISORD, str(evil_path), "evil", "/bin/sh", Scope.USER, None)
    store = StateStore(Files(), str(setup.state))
    new = store.add(f"[program:evil]\ncommand=/bin/sh -c 'touch {marker}'\n".encode(), source="planted",
                    result="in progress", target=target_to_json(target), environment={})
    evil_path.write_bytes(store.content(new.number))
    # old_generation None: recovery would stop program `evil` and delete the journal's path
    store.write_journal(Journal("reloaded", target_to_json(target), None, new.number))
    pid = setup.pid()

    done = setup.run("--json", "status")
    doc = json.loads(done.stdout)
    assert done.returncode == 1
    assert f"names supervisord file {evil_path}, which is neither the declared service file" in doc["recovery_error"]
    assert "journal.json" in doc["recovery_error"]
    assert evil_path.exists()  # not deleted
    assert setup.sv.info("evil") is None and not marker.exists()  # not loaded
    assert setup.pid() == pid and setup.answers()  # our server untouched
    assert (setup.state / "journal.json").exists()
