"""Access for the SERVICE's user from mode bits, checked against the kernel's own answer for that user.

Tests run as root, for whom os.access says yes to everything; so the kernel is asked by a child process
running as `nobody` (setuid needs root: skipped otherwise, failed in CI), and our mode-bit verdict must agree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_sync.core.machine_facts import Access, Account, blocking_ancestor, can_access
from ollama_sync.system import permissions
from ollama_sync.system.files import Files
from tests.conftest import IN_CI


@pytest.fixture
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="perm-", dir="/tmp"))  # /tmp is world-searchable, pytest's tmp is not
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def kernel_says(path: Path, account: Account) -> tuple[bool, bool]:
    """Can a process running as account list the folder, and create a file in it? (Real operations, not access().)"""
    script = 'ls "$1" >/dev/null 2>&1 && echo y || echo n; touch "$1/.probe" 2>/dev/null && echo y || echo n'
    done = subprocess.run(["/bin/sh", "-c", script, "sh", str(path)], user=account.uid, group=account.gids[0],
                          extra_groups=list(account.gids[1:]), capture_output=True, text=True, check=True, timeout=30)
    read, write = done.stdout.split()
    return read == "y", write == "y"


CASES = [  # (parent mode, models mode, given to nobody as: owner / group / not at all)
    (0o755, 0o700, ""), (0o755, 0o755, ""), (0o755, 0o777, ""), (0o755, 0o700, "owner"),
    (0o700, 0o777, ""), (0o711, 0o777, ""), (0o755, 0o570, ""), (0o755, 0o1777, ""),
    (0o755, 0o070, "group"), (0o755, 0o750, "group"), (0o755, 0o507, "owner"),
]


@pytest.mark.parametrize(("parent_mode", "mode", "given"), CASES)
def test_verdict_matches_the_kernel(folder: Path, parent_mode: int, mode: int, given: str) -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("this test needs root to run a child as nobody")
        pytest.skip("needs root to run a child process as nobody")
    account = permissions.account("nobody")
    assert account is not None
    models = folder / "parent" / "models"
    models.mkdir(parents=True)
    models.chmod(mode)
    models.parent.chmod(parent_mode)
    if given == "owner":
        os.chown(models, account.uid, 0)
    elif given == "group":
        os.chown(models, 0, account.gids[0])
    chain = permissions.stat_chain(Files(None), str(models))
    assert chain is not None and chain[-1].path == str(models) and chain[0].path == "/"
    ours = (can_access(chain, account, Access.READ), can_access(chain, account, Access.WRITE))
    assert ours == kernel_says(models, account)
    assert (blocking_ancestor(chain, account) is not None) == (parent_mode == 0o700)


def test_root_may_do_anything(folder: Path) -> None:
    root = permissions.account("0")
    assert root is not None and root.uid == 0
    models = folder / "m"
    models.mkdir(mode=0o000)
    chain = permissions.stat_chain(Files(None), str(models))
    assert chain is not None and can_access(chain, root, Access.WRITE)


def test_missing_path_and_unknown_user(folder: Path) -> None:
    assert permissions.stat_chain(Files(None), str(folder / "absent")) is None
    assert permissions.account("no-such-user-here") is None


def test_stat_under_a_root(folder: Path) -> None:
    (folder / "etc").mkdir()
    (folder / "etc/x").write_text("")
    (folder / "etc/x").chmod(0o640)
    item = permissions.stat_path(Files(str(folder)), "/etc/x")
    assert item is not None and item.mode == 0o640 and not item.is_dir and item.path == "/etc/x"
