"""Hostile declarations and configs through the CLI: a clear error and exit 2, never a crash or a hang,
and `set` edits that land where the user's file is, one at a time (issue #11)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ollama_sync.cli import run

SERVICE = '[service]\nbackend = "supervisord"\nlabel = "ollama"\nbinary = "/usr/bin/ollama"\n'


def _cli(tmp_path: Path, config: Path, *args: str) -> int:
    return run(["--root", str(tmp_path / "root"), "--config", str(config), *args])


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom", "/dev/zero.nix"])
def test_a_device_source_is_refused_before_reading(tmp_path: Path, source: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, f'source = "{source}"\n' + SERVICE)
    assert _cli(tmp_path, config, "check") == 2
    err = capsys.readouterr().err
    assert f"{config}:1:" in err and ("expected a .toml, .json or .nix file" in err or "not found" in err)


@pytest.mark.parametrize("name", ["decl.nix", "decl.toml", "decl.json"])
def test_a_fifo_or_device_with_a_good_extension_is_refused(tmp_path: Path, name: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    zero = tmp_path / f"zero-{name}"
    zero.symlink_to("/dev/zero")
    for source in (fifo, zero):
        config = _config(tmp_path, f'source = "{source}"\n' + SERVICE)
        assert _cli(tmp_path, config, "check") == 2
        assert "not a regular file" in capsys.readouterr().err


def test_a_folder_as_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(tmp_path, tmp_path, "check") == 2
    assert f"error: {tmp_path}: cannot read it: it is a folder, not a file" in capsys.readouterr().err


def test_invalid_utf8_in_a_declaration_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(SERVICE.encode() + b'[ollama]\nhost = "\xff"\n')
    assert _cli(tmp_path, config, "check") == 2
    assert f"{config}:6:9: not valid UTF-8 (byte 0xff)" in capsys.readouterr().err


@pytest.mark.parametrize("field", ["label", "source", "include_dir", "binary"])
def test_nul_in_a_config_string_is_refused_at_its_line(tmp_path: Path, field: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    if field == "source":
        text = 'source = "a\\u0000.toml"\n' + SERVICE
    else:
        kept = "".join(line for line in SERVICE.splitlines(keepends=True) if not line.startswith(f"{field} ="))
        text = kept + f'{field} = "x\\u0000y"\n[ollama]\nport = 11434\n'
    config = _config(tmp_path, text)
    for command in ("check", "plan"):
        assert _cli(tmp_path, config, command) == 2
        assert f"'{field}' contains a NUL character" in capsys.readouterr().err


@pytest.mark.parametrize(("backend", "limit"), [("launchd", 243), ("systemd", 236), ("supervisord", 250)])
def test_a_label_too_long_for_the_backend_fails_check_and_apply_touches_nothing(
        tmp_path: Path, backend: str, limit: int, capsys: pytest.CaptureFixture[str]) -> None:
    def config(length: int) -> Path:
        return _config(tmp_path, f'[service]\nbackend = "{backend}"\nlabel = "{"a" * length}"\n'
                                 'binary = "/usr/bin/ollama"\n[ollama]\nport = 11434\n')

    assert _cli(tmp_path, config(limit), "check") == 0
    assert _cli(tmp_path, config(300), "check") == 1
    assert f"label: is 300 characters long; {backend} allows at most {limit}" in capsys.readouterr().out
    assert _cli(tmp_path, config(300), "apply", "--yes") == 1
    assert not (tmp_path / "root").exists()  # no service file, no state, no journal
    assert _cli(tmp_path, config(limit), "check") == 0  # and the next command works


def test_set_through_a_symlink_edits_the_target(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "config.toml"
    real.write_text(SERVICE + "[ollama]\nport = 11434\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    # without --root: under --root, set edits a copy inside the root (tests/cli/test_messages.py)
    assert run(["--config", str(link), "set", "port", "11435"]) == 0
    assert link.is_symlink() and tomllib.loads(real.read_text())["ollama"]["port"] == 11435
    assert run(["--config", str(link), "unset", "port"]) == 0
    assert link.is_symlink() and "port" not in tomllib.loads(real.read_text())["ollama"]


def test_set_refuses_a_link_into_the_nix_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "decl.toml"
    link.symlink_to("/nix/store/00000000000000000000000000000000-hm-files/decl.toml")
    config = _config(tmp_path, f'source = "{link}"\n' + SERVICE)
    # the store path does not exist here: reading fails first, with the link's own name
    assert _cli(tmp_path, config, "set", "port", "1") == 2
    assert "declaration not found" in capsys.readouterr().err


def test_concurrent_set_processes_lose_no_edit(tmp_path: Path) -> None:
    config = _config(tmp_path, SERVICE + "[ollama]\nport = 11434\n")
    writers = 8
    procs = [subprocess.Popen([sys.executable, "-m", "ollama_sync", "--root", str(tmp_path / "root"),
                               "--config", str(config), "set", f"environment.OLLAMA_TEST_{i}", str(i)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for i in range(writers)]
    try:
        errors = [p.communicate(timeout=120)[1] for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert [p.returncode for p in procs] == [0] * writers, errors
    edited = tmp_path / "root" / str(config).lstrip("/")  # under --root, set edits a copy inside the root
    env = tomllib.loads(edited.read_text())["ollama"]["environment"]
    assert env == {f"OLLAMA_TEST_{i}": str(i) for i in range(writers)}
