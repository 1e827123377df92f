"""SystemdManager through a scripted runner: exact argv, answered with the recorded systemctl outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.core.observation import RunState
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target
from ollama_sync.errors import CommandError
from ollama_sync.system.files import Files
from ollama_sync.system.runner import Completed
from ollama_sync.system.service import manager_for
from ollama_sync.system.systemctl import SystemdManager
from ollama_sync.system.systemctl_parse import SHOW_PROPERTIES
from tests.conftest import FIXTURES
from tests.fakes import FakeRunner, completed

SYSTEMD = FIXTURES / "systemd"
USER_UNIT = "/home/alice/.config/systemd/user/ollama.service"
DROPIN = "/etc/systemd/system/ollama.service.d/ollama-sync.conf"
PROPS = ",".join(SHOW_PROPERTIES)
OK = Completed((), 0, "", "")


def recorded(name: str, rc: int) -> Completed:
    stdout, stderr = SYSTEMD / f"{name}.stdout", SYSTEMD / f"{name}.stderr"
    return Completed((), rc, stdout.read_text() if stdout.exists() else "",
                     stderr.read_text() if stderr.exists() else "")


@pytest.fixture
def linux() -> Machine:
    return Machine(system="Linux", home="/home/alice", uid=1000, user="alice", state_dir="/tmp/state")


@pytest.fixture
def user_unit() -> Target:
    return Target(Backend.SYSTEMD, USER_UNIT, "ollama", "/usr/local/bin/ollama", Scope.USER, None)


@pytest.fixture
def system_dropin() -> Target:
    return Target(Backend.SYSTEMD, DROPIN, "ollama", "/usr/local/bin/ollama", Scope.SYSTEM, None, dropin=True)


@pytest.fixture
def manager(fake_runner: FakeRunner, linux: Machine, tmp_path: Path) -> SystemdManager:
    return SystemdManager(fake_runner, Files(str(tmp_path / "root")), linux)


def test_load_full_user_unit(manager: SystemdManager, fake_runner: FakeRunner, user_unit: Target) -> None:
    fake_runner.add(("systemctl", "--user", "daemon-reload"), recorded("daemon-reload", 0))
    fake_runner.add(("systemctl", "--user", "enable", "ollama.service"), recorded("enable-ollama", 0))
    fake_runner.add(("systemctl", "--user", "restart", "ollama.service"), recorded("restart-ollama", 0))
    manager.load(user_unit)
    assert fake_runner.calls == [("systemctl", "--user", "daemon-reload"),
                                 ("systemctl", "--user", "enable", "ollama.service"),
                                 ("systemctl", "--user", "restart", "ollama.service")]


def test_load_system_dropin_leaves_enablement_to_the_installer(manager: SystemdManager, fake_runner: FakeRunner,
                                                               system_dropin: Target) -> None:
    fake_runner.add(("systemctl", "daemon-reload"), OK)
    fake_runner.add(("systemctl", "restart", "ollama.service"), OK)
    manager.load(system_dropin)
    assert fake_runner.calls == [("systemctl", "daemon-reload"), ("systemctl", "restart", "ollama.service")]


def test_stop_full_unit_disables_it(manager: SystemdManager, fake_runner: FakeRunner, user_unit: Target) -> None:
    fake_runner.add(("systemctl", "--user", "stop", "ollama.service"), recorded("stop-ollama", 0))
    fake_runner.add(("systemctl", "--user", "disable", "ollama.service"), recorded("disable-ollama", 0))
    manager.stop(user_unit)
    assert fake_runner.calls == [("systemctl", "--user", "stop", "ollama.service"),
                                 ("systemctl", "--user", "disable", "ollama.service")]


def test_stop_dropin_only_stops(manager: SystemdManager, fake_runner: FakeRunner, system_dropin: Target) -> None:
    fake_runner.add(("systemctl", "stop", "ollama.service"), OK)
    manager.stop(system_dropin)
    assert fake_runner.calls == [("systemctl", "stop", "ollama.service")]


def test_restart_of_a_missing_unit_is_a_readable_error(manager: SystemdManager, fake_runner: FakeRunner,
                                                       user_unit: Target) -> None:
    fake_runner.add(("systemctl", "--user", "restart", "ollama.service"), recorded("restart-nosuch", 5))
    with pytest.raises(CommandError) as caught:
        manager.restart(user_unit)
    assert caught.value.returncode == 5
    assert "Unit nosuch.service not found." in caught.value.message
    assert caught.value.hint is not None and "daemon-reload" in caught.value.hint


def test_state_reads_show(manager: SystemdManager, fake_runner: FakeRunner, user_unit: Target) -> None:
    argv = ("systemctl", "--user", "show", "ollama.service", "-p", PROPS, "--no-pager")
    fake_runner.add(argv, recorded("show-ollama", 0))
    state = manager.state(user_unit)
    assert fake_runner.calls == [argv]
    assert PROPS == ("ActiveState,SubState,MainPID,ExecMainStatus,ExecMainCode,UnitFileState,Environment,"
                     "LoadState,NRestarts,Result")
    assert state.state is RunState.RUNNING and state.enabled is True and state.domain == "user"
    assert state.environment is not None and ("OLLAMA_MODELS", "/Volumes/My Models/ollama") in state.environment


def test_state_of_a_system_unit_that_failed(manager: SystemdManager, fake_runner: FakeRunner,
                                            system_dropin: Target) -> None:
    fake_runner.add(("systemctl", "show", "ollama.service", "-p", PROPS, "--no-pager"), recorded("show-killed", 0))
    state = manager.state(system_dropin)
    assert (state.state, state.last_exit, state.domain) == (RunState.FAILED, -9, "system")


@pytest.mark.parametrize(("fixture", "scope", "words"), [
    ("show-no-user-manager", Scope.USER, "enable-linger"),
    ("show-no-systemd", Scope.SYSTEM, "supervisord"),
])
def test_state_when_systemd_is_unreachable(manager: SystemdManager, fake_runner: FakeRunner, fixture: str,
                                           scope: Scope, words: str) -> None:
    target = Target(Backend.SYSTEMD, USER_UNIT, "ollama", "/x", scope, None)
    argv = SystemdManager.systemctl_argv(target, "show", "ollama.service", "-p", PROPS, "--no-pager")
    fake_runner.add(argv, recorded(fixture, 1))
    state = manager.state(target)
    assert state.state is RunState.UNKNOWN and state.environment is None
    assert "systemd is not reachable: " in state.detail and words in state.detail


def test_is_active(manager: SystemdManager, fake_runner: FakeRunner, user_unit: Target) -> None:
    argv = ("systemctl", "--user", "is-active", "ollama.service")
    for name, rc, word in (("ollama", 0, "active"), ("crashloop", 3, "activating"), ("exits3", 3, "failed"),
                           ("nosuch", 3, "inactive")):
        fake_runner.script[argv] = [recorded(f"is-active-{name}", rc)]
        assert manager.is_active(user_unit) == word


def test_journal_lines(manager: SystemdManager, fake_runner: FakeRunner, user_unit: Target,
                       system_dropin: Target) -> None:
    fake_runner.add(("journalctl", "--user", "-u", "ollama.service", "-n", "50", "--no-pager", "-o", "cat"),
                    recorded("journalctl-user", 0))
    assert manager.log_tail(user_unit, 50) == []
    fake_runner.add(("journalctl", "-u", "ollama.service", "-n", "200", "--no-pager", "-o", "cat"),
                    completed((), 0, 'time=x level=INFO msg="server config" env="map[]"\n-- No entries --\n'))
    assert manager.log_tail(system_dropin) == ['time=x level=INFO msg="server config" env="map[]"']


def test_log_file_wins_over_the_journal(manager: SystemdManager, fake_runner: FakeRunner, tmp_path: Path) -> None:
    target = Target(Backend.SYSTEMD, USER_UNIT, "ollama", "/x", Scope.USER, "/var/log/ollama.log")
    log = tmp_path / "root/var/log/ollama.log"
    log.parent.mkdir(parents=True)
    log.write_text("one\r\ntwo\nthree")
    assert manager.log_tail(target, 2) == ["two", "three"]
    assert fake_runner.calls == []


def test_live_environment_from_proc(manager: SystemdManager, tmp_path: Path) -> None:
    environ = tmp_path / "root/proc/4242/environ"
    environ.parent.mkdir(parents=True)
    environ.write_bytes(b"OLLAMA_HOST=0.0.0.0:11434\0HOME=/home/alice\0")
    assert manager.live_environment(4242) == {"OLLAMA_HOST": "0.0.0.0:11434", "HOME": "/home/alice"}
    assert manager.live_environment(4243) is None
    unreadable = tmp_path / "root/proc/4244/environ"
    unreadable.mkdir(parents=True)  # reading fails with an OSError other than "not found"
    assert manager.live_environment(4244) is None


def test_manager_for_builds_the_systemd_manager(make_context, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(tmp_path / "config.toml")
    assert isinstance(manager_for(ctx, Backend.SYSTEMD), SystemdManager)
