"""lsof -Fpcn: the parser on recorded output, the exact argv, and real lsof on this machine."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from ollama_sync.core.network import Listener
from ollama_sync.system import lsof
from ollama_sync.system.runner import SubprocessRunner
from tests.conftest import require_shared, require_tool
from tests.fakes import FakeRunner, completed, recorded

ARGV = ["lsof", "-nP", "-iTCP:11434", "-sTCP:LISTEN", "-Fpcn"]


def test_argv_is_exact() -> None:
    assert lsof.lsof_argv(11434) == ARGV


def test_recorded_field_output() -> None:
    fixture = require_shared() / "fixtures/macos/lsof-nP-iTCP-11434-sTCP-LISTEN-Fpcn-RECONSTRUCTED.txt"
    assert lsof.parse_fields(fixture.read_text()) == [Listener(921, "ollama", "127.0.0.1:11434")]


def test_no_listener_is_exit_1_with_no_output() -> None:
    fixture = require_shared() / "fixtures/macos/lsof-no-match-RECONSTRUCTED.stdout"
    runner = FakeRunner()
    runner.add(ARGV, recorded(ARGV, 1, fixture, stream="stdout"))
    assert lsof.listeners_on(runner, 11434) == []
    assert runner.calls == [tuple(ARGV)]


def test_several_processes_and_sockets() -> None:
    # Two processes; the first listens on IPv4 and IPv6 (two file sets); lsof escapes spaces as \x20
    # (the VERBATIM table output shows `Code\x20H`).
    text = "p621\ncrapportd\nf10\nn*:11434\nf11\nn[::1]:11434\np18884\ncCode\\x20H\nf61\nn127.0.0.1:11434\n"
    assert lsof.parse_fields(text) == [
        Listener(621, "rapportd", "*:11434"), Listener(621, "rapportd", "[::1]:11434"),
        Listener(18884, "Code H", "127.0.0.1:11434")]


def test_other_failures_raise() -> None:
    runner = FakeRunner()
    runner.add(ARGV, completed(ARGV, 2, stderr="lsof: unacceptable port specification"))
    with pytest.raises(Exception, match="lsof"):
        lsof.listeners_on(runner, 11434)


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_real_lsof_names_this_process(listening: int) -> None:
    require_tool("lsof")
    found = lsof.listeners_on(SubprocessRunner(), listening)
    assert Listener(os.getpid(), found[0].command, f"127.0.0.1:{listening}") in found
    assert found[0].command  # lsof's short command name (python…)
