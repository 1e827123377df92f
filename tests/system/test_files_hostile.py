"""Files against hostile paths: only bounded regular files are read, links are edited where they point,
and concurrent edits of one file are serialised (issue #11)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ollama_sync.errors import ConfigError, LockTimeout, OllamaSyncError
from ollama_sync.system.files import Files


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "decl.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        Files().read_text(str(fifo))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_even_behind_a_link(tmp_path: Path, device: str) -> None:
    link = tmp_path / "decl.nix"
    link.symlink_to(device)
    with pytest.raises(ConfigError, match="not a regular file"):
        Files().read_bytes(str(link))


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="it is a folder") as err:
        Files().read_text(str(tmp_path))
    assert err.value.location is not None and err.value.location.file == str(tmp_path)


def test_a_file_past_the_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 101)
    with pytest.raises(ConfigError, match="larger than 100 bytes"):
        Files().read_bytes(str(big), limit=100)
    assert Files().read_bytes(str(big), limit=101) == b"#" * 101


def test_invalid_utf8_is_an_error_at_line_and_column(tmp_path: Path) -> None:
    decl = tmp_path / "c.toml"
    decl.write_bytes(b'[ollama]\nhost = "caf\xe9"\n')
    with pytest.raises(ConfigError) as err:
        Files().read_text(str(decl))
    assert err.value.message == f"{decl}:2:12: not valid UTF-8 (byte 0xe9)"
    assert Files().read_text(str(decl), lenient=True) == '[ollama]\nhost = "caf\ufffd"\n'


def test_read_tail_reads_only_the_end_of_a_long_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(100_000)))
    tail = Files().read_tail(str(log), 1000)
    assert tail is not None and tail.endswith("line 99999\n") and len(tail) <= 1000
    assert tail.startswith("line ")  # the partial first line is dropped


def test_a_link_is_written_where_it_points_and_stays_a_link(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "ollama.nix"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "config" / "ollama.nix"
    link.parent.mkdir()
    link.symlink_to(os.path.relpath(real, link.parent))  # GNU stow makes relative links
    Files(follow_symlinks=True).write_atomic(str(link), b"new", mode=0o640)
    assert link.is_symlink() and real.read_text() == "new" and link.read_text() == "new"
    assert sorted(os.listdir(dotfiles)) == ["ollama.nix"]


def test_without_following_a_link_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("old")
    link = tmp_path / "link"
    link.symlink_to(real)
    Files().write_atomic(str(link), b"new")
    assert not link.is_symlink() and real.read_text() == "old"


def test_a_link_into_the_nix_store_is_refused_with_a_message(tmp_path: Path) -> None:
    link = tmp_path / "ollama.nix"
    link.symlink_to("/nix/store/00000000000000000000000000000000-home-manager-files/ollama.nix")
    with pytest.raises(OllamaSyncError, match="read-only") as err:
        Files(follow_symlinks=True).write_atomic(str(link), b"new")
    assert err.value.hint is not None and "home-manager" in err.value.hint
    assert link.is_symlink()


def test_locked_waits_for_the_holder_and_times_out(tmp_path: Path) -> None:
    decl = tmp_path / "c.toml"
    decl.write_text("x")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({str(decl)!r})\n"
        "fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="being edited by another process"), \
                Files().locked(str(decl), timeout=0.3):
            pass
        assert time.monotonic() - started >= 0.3
    finally:
        holder.kill()
        holder.wait()
    with Files().locked(str(decl), timeout=5):  # released when the holder exits
        pass


def test_locked_relocks_a_file_an_atomic_write_replaced(tmp_path: Path) -> None:
    decl = tmp_path / "c.toml"
    decl.write_text("1")
    files = Files()
    with files.locked(str(decl)):
        files.write_atomic(str(decl), b"2")  # the locked inode is gone from the folder
    with files.locked(str(decl), timeout=1):  # the new file is not locked by anyone
        assert decl.read_text() == "2"
