"""The environment a service file on disk passes, read as its manager reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
from supervisor.datatypes import dict_of_key_value_pairs

from ollama_sync.core.file_env import parse_env_file, program_env, read_file_env
from ollama_sync.core.render.launchd import render_plist
from ollama_sync.core.render.supervisord import render_program
from ollama_sync.core.render.systemd import render_unit
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Target

ENV = {"OLLAMA_HOST": "0.0.0.0:11434", "OLLAMA_ORIGINS": "https://a.example,https://b.example",
       "OLLAMA_MODELS": "/Volumes/My Disk/models", "WEIRD": "50% off, \"quoted\""}


def target(backend: Backend) -> Target:
    return Target(backend, "/x/ollama", "ollama", "/opt/homebrew/bin/ollama", Scope.USER, "/tmp/ollama.log")


@pytest.mark.parametrize("backend", list(Backend))
def test_rendered_files_read_back(backend: Backend) -> None:
    env = dict(ENV)
    if backend is Backend.SUPERVISORD:
        env["WEIRD"] = "50% off, plain"  # supervisord cannot carry both quote kinds (the renderer rejects them)
    render = {Backend.LAUNCHD: render_plist, Backend.SYSTEMD: render_unit, Backend.SUPERVISORD: render_program}
    content = render[backend](env, target(backend), "/decl.toml")
    assert read_file_env(backend, content, "/x/ollama").env == env


def test_supervisord_reader_agrees_with_supervisor_itself() -> None:
    line = 'OLLAMA_HOST="127.0.0.1:11434",OLLAMA_ORIGINS="a,b",X=\'y z\',EMPTY=""'
    ours = program_env(f"[program:ollama]\nenvironment={line}\n", "ollama").env
    assert ours == dict_of_key_value_pairs(line)


def test_invalid_files() -> None:
    broken = read_file_env(Backend.LAUNCHD, b"<plist><dict><key>x</dict>", "/p.plist")
    assert broken.env is None and broken.error
    assert program_env("[program:other]\ncommand=x\n", "ollama").error == "no [program:ollama] section"
    assert program_env("[program:ollama]\ncommand=x\n", "ollama").env == {}
    assert program_env("[program:ollama]\nenvironment=A=\n", "ollama").env is None


def test_hand_written_unit_with_reset(tmp_path: Path) -> None:
    unit = '[Service]\nEnvironment="A=1"\nEnvironment=\nEnvironment="B=2" C=3\n'
    assert read_file_env(Backend.SYSTEMD, unit.encode(), str(tmp_path / "u.service")).env == {"B": "2", "C": "3"}


def test_parse_env_file() -> None:
    text = "# comment\n\nexport A=1\nB = 'two words'\nC=\"q\"\nD=x=y\nbad line\n9X=1\n"
    env, bad = parse_env_file(text)
    assert env == {"A": "1", "B": "two words", "C": "q", "D": "x=y"}
    assert bad == (7, 8)
