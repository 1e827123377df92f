"""SystemdManager against a real systemd user manager supervising the stand-in server (not real Ollama)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_sync.core.observation import RunState
from ollama_sync.core.render.systemd import render_unit
from ollama_sync.core.settings import Backend, ServiceOptions
from ollama_sync.core.target import Machine, resolve_target
from ollama_sync.system.files import Files
from ollama_sync.system.runner import SubprocessRunner
from ollama_sync.system.server_log import parse_server_config
from ollama_sync.system.systemctl import SystemdManager
from tests.conftest import IN_CI
from tests.standin import install_fake_ollama
from tests.system import systemd_user


@pytest.fixture
def user_manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A running systemd user manager; yields its HOME (systemctl --user reaches it via XDG_RUNTIME_DIR)."""
    reason = systemd_user.can_start()
    if reason:
        if IN_CI:
            pytest.fail(f"a systemd user manager is required in CI: {reason}")
        pytest.skip(reason)
    manager = systemd_user.start(tmp_path / "systemd")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "systemd" / "run"))
    monkeypatch.setenv("HOME", str(tmp_path / "systemd" / "home"))  # `enable` looks up unit files client-side
    monkeypatch.delenv("XDG_CONFIG_HOME")  # …in $XDG_CONFIG_HOME/systemd/user first
    try:
        yield tmp_path / "systemd" / "home"
    finally:
        systemd_user.stop(manager)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_load_state_restart_stop_with_real_systemd(user_manager: Path, tmp_path: Path) -> None:
    machine = Machine("Linux", str(user_manager), 0, "root", str(tmp_path / "state"))
    binary = install_fake_ollama(tmp_path / "bin")
    log = tmp_path / "logs" / "ollama.log"
    target = resolve_target(ServiceOptions(backend=Backend.SYSTEMD, log_path=str(log)), machine, str(binary))
    env = {"OLLAMA_HOST": f"127.0.0.1:{free_port()}", "OLLAMA_ORIGINS": "app://a b,http://x",
           "OLLAMA_MODELS": str(tmp_path / "my models"), "OLLAMA_KEEP_ALIVE": "10m"}
    files = Files(None)
    log.parent.mkdir()
    files.write_atomic(target.path, render_unit(env, target, "test declaration"))
    manager = SystemdManager(SubprocessRunner(), files, machine)

    manager.load(target)
    first = manager.state(target)
    assert first.is_running and first.enabled is True and first.domain == "user"
    assert dict(first.environment or ()) == env  # the manager's view (a)
    assert first.pid is not None
    assert manager.is_active(target) == "active"
    assert wait_for(lambda: parse_server_config(manager.log_tail(target)) is not None)
    # Only now: systemd reports MainPID as soon as it forks, and until the child execs the server its
    # /proc/<pid>/environ is the manager's own environment, not the unit's.
    live = manager.live_environment(first.pid)
    assert live is not None and {k: live.get(k) for k in env} == env  # the process's own environment
    config = parse_server_config(manager.log_tail(target))
    assert config is not None and config.get("OLLAMA_KEEP_ALIVE") == "10m0s"  # the server's view (b)

    manager.restart(target)
    second = manager.state(target)
    assert second.is_running and second.pid != first.pid

    manager.stop(target)
    stopped = manager.state(target)
    assert (stopped.state, stopped.pid, stopped.enabled) == (RunState.STOPPED, None, False)
