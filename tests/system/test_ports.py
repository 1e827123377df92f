"""Who holds a port: psutil's socket table on Linux (real listeners), lsof on macOS when psutil is refused."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import psutil
import pytest

from ollama_sync.core.network import Listener
from ollama_sync.system import ports
from tests.conftest import require_shared
from tests.fakes import FakeRunner, recorded


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_names_the_real_listener(listening: int) -> None:
    found = ports.listeners_on(listening, FakeRunner())  # psutil: no command is run
    mine = [item for item in found if item.pid == os.getpid()]
    assert mine and mine[0].address == f"127.0.0.1:{listening}"
    assert "python" in mine[0].command or "pytest" in mine[0].command


def test_nobody_listening(listening: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])
    assert ports.listeners_on(free, FakeRunner()) == []


def test_port_answers(listening: int) -> None:
    assert ports.port_answers("127.0.0.1", listening)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])
    assert not ports.port_answers("127.0.0.1", free, timeout=0.2)


def test_macos_falls_back_to_lsof(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(kind: str = "inet") -> list[object]:
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "net_connections", refused)
    fixture = require_shared() / "fixtures/macos/lsof-nP-iTCP-11434-sTCP-LISTEN-Fpcn-RECONSTRUCTED.txt"
    argv = ["lsof", "-nP", "-iTCP:11434", "-sTCP:LISTEN", "-Fpcn"]
    runner = FakeRunner()
    runner.add(argv, recorded(argv, 0, fixture, stream="stdout"))
    found = ports.listeners_on(11434, runner, platform="darwin")
    assert [(f.pid, f.address) for f in found] == [(921, "127.0.0.1:11434")]
    assert found[0].command  # psutil's command line for pid 921 if it exists here, else lsof's "ollama"
    assert runner.calls == [tuple(argv)]
    assert ports.listeners_on(11434, FakeRunner(), platform="linux") == []  # no lsof off macOS


def test_wildcard_address_is_shown_as_star() -> None:
    assert ports._address("0.0.0.0", 11434) == "*:11434"
    assert ports._address("::1", 11434) == "[::1]:11434"
    assert Listener(1, "x", "*:1").address == "*:1"
