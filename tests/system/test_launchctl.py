"""LaunchdManager through a scripted runner: exact argv of every call, answered with recorded real outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ollama_sync.core.observation import RunState
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target
from ollama_sync.errors import CommandError, OllamaSyncError
from ollama_sync.system.files import Files
from ollama_sync.system.launchctl import LaunchdManager
from ollama_sync.system.runner import Completed
from ollama_sync.system.service import manager_for
from tests.conftest import require_shared
from tests.fakes import FakeRunner, completed

LABEL = "com.github.ollama"
PLIST = "/Users/alice/Library/LaunchAgents/com.github.ollama.plist"
LOG = "/Users/alice/Library/Logs/ollama-sync/com.github.ollama.log"
GUI, USER = f"gui/501/{LABEL}", f"user/501/{LABEL}"
UNKNOWN_VERB = 'launchctl: unknown subcommand "{}"\n'  # launchd 842 launchctl.c (FROMSOURCE)


@dataclass
class Clock:
    """A clock that only moves when slept on."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


def out(name: str, rc: int, *, stream: str = "stderr") -> Completed:
    text = (require_shared() / "fixtures" / "macos" / name).read_text()
    return Completed((), rc, text if stream == "stdout" else "", text if stream == "stderr" else "")


OK = Completed((), 0, "", "")
NOT_FOUND = "launchctl-print-not-found.stderr"
ESRCH = "launchctl-bootout-not-loaded-esrch-3.stderr"
RUNNING = "launchctl-print-gui-agent-running-keepalive.txt"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def target() -> Target:
    return Target(Backend.LAUNCHD, PLIST, LABEL, "/opt/homebrew/bin/ollama", Scope.USER, LOG)


def make(runner: FakeRunner, clock: Clock, tmp_path: Path, machine: Machine) -> LaunchdManager:
    return LaunchdManager(runner, Files(str(tmp_path / "root")), machine, sleep=clock.sleep, clock=clock.time)


@pytest.fixture
def manager(fake_runner: FakeRunner, clock: Clock, tmp_path: Path, machine: Machine) -> LaunchdManager:
    return make(fake_runner, clock, tmp_path, machine)


def plist_arg(tmp_path: Path) -> str:
    return str(tmp_path / "root" / PLIST.lstrip("/"))


def script(runner: FakeRunner, *steps: tuple[tuple[str, ...], Completed]) -> list[tuple[str, ...]]:
    """Queue answers per argv; return the argv in the order they are expected to run."""
    for argv, answer in steps:
        runner.add(("launchctl", *argv), answer)
    return [("launchctl", *argv) for argv, _ in steps]


def test_load_boots_out_everywhere_then_enables_and_bootstraps(manager: LaunchdManager, fake_runner: FakeRunner,
                                                               clock: Clock, tmp_path: Path) -> None:
    expected = script(fake_runner,
                      (("bootout", GUI), OK),
                      (("print", GUI), out(NOT_FOUND, 113)),
                      (("bootout", USER), out(ESRCH, 3)),
                      (("enable", GUI), out("launchctl-enable-success-RECONSTRUCTED.stdout", 0, stream="stdout")),
                      (("bootstrap", "gui/501", plist_arg(tmp_path)),
                       out("launchctl-bootstrap-success-RECONSTRUCTED.stdout", 0, stream="stdout")))
    manager.load(manager_target := Target(Backend.LAUNCHD, PLIST, LABEL, "/x/ollama", Scope.USER, LOG))
    assert fake_runner.calls == expected
    assert clock.sleeps == []
    assert manager.domains(manager_target) == ["gui/501", "user/501"]


def test_load_when_nothing_was_loaded(manager: LaunchdManager, fake_runner: FakeRunner, target: Target,
                                      tmp_path: Path) -> None:
    expected = script(fake_runner,
                      (("bootout", GUI), out(ESRCH, 3)),
                      (("bootout", USER), out("launchctl-print-user-domain-not-found-113-RECONSTRUCTED.stderr", 113)),
                      (("enable", GUI), OK),
                      (("bootstrap", "gui/501", plist_arg(tmp_path)), OK))
    manager.load(target)
    assert fake_runner.calls == expected


def test_bootout_still_draining_is_retried_with_backoff(manager: LaunchdManager, fake_runner: FakeRunner,
                                                        clock: Clock, target: Target, tmp_path: Path) -> None:
    fake_runner.add(("launchctl", "bootout", GUI), out("launchctl-bootout-einprogress-36.stderr", 36),
                    out("launchctl-bootout-einprogress-36.stderr", 36), OK, out(ESRCH, 3))
    fake_runner.add(("launchctl", "print", GUI), out(RUNNING, 0, stream="stdout"))  # still listed after the 0
    script(fake_runner, (("bootout", USER), out(ESRCH, 3)), (("enable", GUI), OK),
           (("bootstrap", "gui/501", plist_arg(tmp_path)), OK))
    manager.load(target)
    assert fake_runner.calls == [
        ("launchctl", "bootout", GUI), ("launchctl", "bootout", GUI), ("launchctl", "bootout", GUI),
        ("launchctl", "print", GUI), ("launchctl", "bootout", GUI),
        ("launchctl", "bootout", USER), ("launchctl", "enable", GUI),
        ("launchctl", "bootstrap", "gui/501", plist_arg(tmp_path))]
    assert clock.sleeps == [0.1, 0.2, 0.4]


def test_bootout_that_never_finishes_gives_up_within_the_bound(manager: LaunchdManager, fake_runner: FakeRunner,
                                                               clock: Clock, target: Target) -> None:
    fake_runner.add(("launchctl", "bootout", GUI), out("launchctl-bootout-einprogress-36.stderr", 36))
    with pytest.raises(OllamaSyncError, match=r"still stopping com\.github\.ollama in gui/501 after 10 s"):
        manager.load(target)
    assert sum(clock.sleeps) == pytest.approx(10.0)
    assert max(clock.sleeps) == 1.0
    assert set(fake_runner.calls) == {("launchctl", "bootout", GUI)}


def test_bootstrap_eio_right_after_bootout_is_retried(manager: LaunchdManager, fake_runner: FakeRunner,
                                                      clock: Clock, target: Target, tmp_path: Path) -> None:
    bootstrap = ("bootstrap", "gui/501", plist_arg(tmp_path))
    script(fake_runner, (("bootout", GUI), out(ESRCH, 3)), (("bootout", USER), out(ESRCH, 3)),
           (("enable", GUI), OK))
    fake_runner.add(("launchctl", *bootstrap), out("launchctl-bootstrap-eio-already-loaded.stderr", 5),
                    out("launchctl-bootstrap-eio-bigsur-no-hint.stderr", 5), OK)
    manager.load(target)
    assert fake_runner.calls[-3:] == [("launchctl", *bootstrap)] * 3
    assert clock.sleeps == [0.1, 0.2]


def test_bootstrap_eio_that_persists_fails_with_the_likely_causes(manager: LaunchdManager, fake_runner: FakeRunner,
                                                                  clock: Clock, target: Target,
                                                                  tmp_path: Path) -> None:
    plist = tmp_path / "root" / PLIST.lstrip("/")
    plist.parent.mkdir(parents=True)
    plist.write_text("<plist/>")
    plist.chmod(0o666)
    script(fake_runner, (("bootout", GUI), out(ESRCH, 3)), (("bootout", USER), out(ESRCH, 3)),
           (("enable", GUI), OK),
           (("bootstrap", "gui/501", str(plist)), out("launchctl-bootstrap-eio-already-loaded.stderr", 5)))
    with pytest.raises(CommandError) as caught:
        manager.load(target)
    assert caught.value.returncode == 5
    assert "Bootstrap failed: 5: Input/output error" in caught.value.message
    assert caught.value.hint is not None and "catch-all" in caught.value.hint
    assert "mode 666 is group/world-writable" in caught.value.hint
    assert sum(clock.sleeps) <= 10.0


def test_bootstrap_disabled_enables_and_retries_once(manager: LaunchdManager, fake_runner: FakeRunner,
                                                     target: Target, tmp_path: Path) -> None:
    bootstrap = ("launchctl", "bootstrap", "gui/501", plist_arg(tmp_path))
    script(fake_runner, (("bootout", GUI), out(ESRCH, 3)), (("bootout", USER), out(ESRCH, 3)),
           (("enable", GUI), OK))
    fake_runner.add(bootstrap, out("launchctl-bootstrap-disabled-119.stderr", 119), OK)
    manager.load(target)
    assert fake_runner.calls[2:] == [("launchctl", "enable", GUI), bootstrap, ("launchctl", "enable", GUI),
                                     bootstrap]


def test_bootstrap_disabled_twice_is_an_error(manager: LaunchdManager, fake_runner: FakeRunner, clock: Clock,
                                              target: Target, tmp_path: Path) -> None:
    script(fake_runner, (("bootout", GUI), out(ESRCH, 3)), (("bootout", USER), out(ESRCH, 3)),
           (("enable", GUI), OK),
           (("bootstrap", "gui/501", plist_arg(tmp_path)), out("launchctl-bootstrap-disabled-119.stderr", 119)))
    with pytest.raises(CommandError, match="Service is disabled") as caught:
        manager.load(target)
    assert caught.value.hint is not None and "enable" in caught.value.hint
    assert fake_runner.calls.count(("launchctl", "bootstrap", "gui/501", plist_arg(tmp_path))) == 2
    assert clock.sleeps == []


def test_invalid_plist_fails_at_once(manager: LaunchdManager, fake_runner: FakeRunner, clock: Clock,
                                     target: Target, tmp_path: Path) -> None:
    script(fake_runner, (("bootout", GUI), out(ESRCH, 3)), (("bootout", USER), out(ESRCH, 3)),
           (("enable", GUI), OK),
           (("bootstrap", "gui/501", plist_arg(tmp_path)), out("launchctl-bootstrap-invalid-plist-2017.stderr", 133)))
    with pytest.raises(CommandError, match="Invalid property list") as caught:
        manager.load(target)
    assert caught.value.hint is not None and "plutil -lint" in caught.value.hint
    assert clock.sleeps == []


@pytest.mark.parametrize(("step", "fixture", "rc"), [
    ("bootout", "launchctl-could-not-find-domain-gui.stderr", 112),
    ("enable", "launchctl-enable-domain-unsupported-125.stderr", 125),
    ("bootstrap", "launchctl-bootstrap-domain-unsupported-125.stderr", 125),
])
def test_gui_domain_missing_falls_back_to_user_domain(manager: LaunchdManager, fake_runner: FakeRunner,
                                                      target: Target, tmp_path: Path, step: str, fixture: str,
                                                      rc: int) -> None:
    plist = plist_arg(tmp_path)
    answers = {"bootout": out(ESRCH, 3), "enable": OK, "bootstrap": OK}
    answers[step] = out(fixture, rc)
    gui = {"bootout": ("bootout", GUI), "enable": ("enable", GUI), "bootstrap": ("bootstrap", "gui/501", plist)}
    for name, argv in gui.items():
        fake_runner.add(("launchctl", *argv), answers[name])
    if step == "bootout":  # 112 from bootout proves nothing by itself: print is asked, and says the same
        fake_runner.add(("launchctl", "print", GUI), out(fixture, rc))
    script(fake_runner, (("bootout", USER), out(ESRCH, 3)), (("enable", USER), OK),
           (("bootstrap", "user/501", plist), out("launchctl-bootstrap-success-RECONSTRUCTED.stdout", 0)))
    manager.load(target)
    tail = [("launchctl", "enable", USER), ("launchctl", "bootstrap", "user/501", plist)]
    assert fake_runner.calls[-2:] == tail
    assert ("launchctl", "bootout", USER) in fake_runner.calls
    assert manager.domains(target) == ["user/501"]
    fake_runner.add(("launchctl", "print", USER), out(RUNNING, 0, stream="stdout"))
    fake_runner.add(("launchctl", "print-disabled", "user/501"), completed((), 0, "\tdisabled services = {\n\t}\n"))
    state = manager.state(target)
    assert state.domain == "user/501"
    assert "gui/501 is unavailable" in state.detail and "used user/501" in state.detail


def test_restart_is_kickstart_k(manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    expected = script(fake_runner, (("kickstart", "-k", GUI), out("launchctl-kickstart-success-RECONSTRUCTED.stdout",
                                                                  0, stream="stdout")))
    manager.restart(target)
    assert fake_runner.calls == expected


def test_restart_in_user_domain_when_gui_is_unsupported(manager: LaunchdManager, fake_runner: FakeRunner,
                                                        target: Target) -> None:
    expected = script(fake_runner,
                      (("kickstart", "-k", GUI), out("launchctl-kickstart-domain-unsupported-125.stderr", 125)),
                      (("kickstart", "-k", USER), OK))
    manager.restart(target)
    assert fake_runner.calls == expected


def test_restart_of_a_job_that_is_not_loaded(manager: LaunchdManager, fake_runner: FakeRunner,
                                             target: Target) -> None:
    script(fake_runner, (("kickstart", "-k", GUI), out("launchctl-kickstart-not-found-gui-113.stderr", 113)),
           (("kickstart", "-k", USER), out("launchctl-print-user-domain-not-found-113-RECONSTRUCTED.stderr", 113)))
    with pytest.raises(OllamaSyncError, match="not loaded in launchd \\(gui/501 or user/501\\)"):
        manager.restart(target)


def test_stop_boots_out_and_disables(manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    expected = script(fake_runner, (("bootout", GUI), OK), (("print", GUI), out(NOT_FOUND, 113)),
                      (("bootout", USER), out(ESRCH, 3)), (("disable", GUI), OK))
    manager.stop(target)
    assert fake_runner.calls == expected


def test_state_of_a_running_agent(manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    disabled = '\tdisabled services = {\n\t\t"com.github.ollama" => enabled\n\t}\n'
    expected = script(fake_runner, (("print", GUI), out(RUNNING, 0, stream="stdout")),
                      (("print-disabled", "gui/501"), completed((), 0, disabled)))
    state = manager.state(target)
    assert fake_runner.calls == expected
    assert (state.state, state.pid, state.enabled, state.domain) == (RunState.RUNNING, 17594, True, "gui/501")
    assert state.environment is not None and ("PORT", "11002") in state.environment
    assert "SIGTERM" in state.detail  # the last terminating signal, explained


def test_state_when_not_loaded_anywhere(manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    script(fake_runner, (("print", GUI), out(NOT_FOUND, 113)),
           (("print", USER), out("launchctl-print-user-domain-not-found-113-RECONSTRUCTED.stderr", 113)),
           (("print-disabled", "gui/501"), out("launchctl-print-disabled-system-partial.txt", 0, stream="stdout")))
    state = manager.state(target)
    assert (state.state, state.pid, state.environment, state.enabled) == (RunState.NOT_LOADED, None, None, True)


def test_state_when_the_gui_domain_is_missing(manager: LaunchdManager, fake_runner: FakeRunner,
                                              target: Target) -> None:
    disabled = f'\tdisabled services = {{\n\t\t"{LABEL}" => disabled\n\t}}\n'
    script(fake_runner, (("print", GUI), out("launchctl-print-no-gui-domain-112-RECONSTRUCTED.stderr", 112)),
           (("print", USER), out("launchctl-print-user-domain-not-found-113-RECONSTRUCTED.stderr", 113)),
           (("print-disabled", "user/501"), completed((), 0, disabled)))
    state = manager.state(target)
    assert (state.state, state.domain, state.enabled) == (RunState.NOT_LOADED, "user/501", False)
    assert "gui/501 is unavailable" in state.detail


def test_system_scope_uses_the_system_domain(fake_runner: FakeRunner, clock: Clock, tmp_path: Path,
                                             machine: Machine) -> None:
    daemon = Target(Backend.LAUNCHD, f"/Library/LaunchDaemons/{LABEL}.plist", LABEL, "/usr/local/bin/ollama",
                    Scope.SYSTEM, "/Library/Logs/ollama-sync/x.log", user="ollama")
    manager = make(fake_runner, clock, tmp_path, machine)
    plist = str(tmp_path / "root" / "Library/LaunchDaemons" / f"{LABEL}.plist")
    expected = script(fake_runner, (("bootout", f"system/{LABEL}"), out(ESRCH, 3)),
                      (("enable", f"system/{LABEL}"), OK), (("bootstrap", "system", plist), OK))
    manager.load(daemon)
    assert fake_runner.calls == expected
    fake_runner.add(("launchctl", "kickstart", "-k", f"system/{LABEL}"),
                    out("launchctl-kickstart-not-found-system-113.stderr", 113))
    with pytest.raises(OllamaSyncError, match=r"not loaded in launchd \(system\)"):
        manager.restart(daemon)


def test_a_launchctl_without_the_modern_verbs_is_an_error_not_a_fallback(
        manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    fake_runner.add(("launchctl", "bootout", GUI), completed((), 1, "", UNKNOWN_VERB.format("bootout")))
    with pytest.raises(CommandError, match='unknown subcommand "bootout"') as caught:
        manager.load(target)
    assert caught.value.hint == "this launchctl predates bootstrap/bootout (macOS 10.10)"
    assert fake_runner.calls == [("launchctl", "bootout", GUI)]  # no legacy load/unload is tried
    fake_runner.add(("launchctl", "print", GUI), completed((), 1, "", UNKNOWN_VERB.format("print")))
    with pytest.raises(CommandError, match='unknown subcommand "print"') as caught:
        manager.state(target)
    assert caught.value.hint == "this launchctl predates bootstrap/bootout (macOS 10.10)"


def test_log_tail_reads_the_newest_lines_through_files(manager: LaunchdManager, target: Target,
                                                       tmp_path: Path) -> None:
    log = tmp_path / "root" / LOG.lstrip("/")
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(5000)))
    lines = manager.log_tail(target, 3)
    assert lines == ["line 4997", "line 4998", "line 4999"]
    assert len(manager.log_tail(target)) == 200
    assert manager.log_tail(Target(Backend.LAUNCHD, PLIST, LABEL, "x", Scope.USER, None)) == []
    log.unlink()
    assert manager.log_tail(target) == []


def test_manager_for_builds_the_launchd_manager(make_context, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(tmp_path / "config.toml")
    assert isinstance(manager_for(ctx, Backend.LAUNCHD), LaunchdManager)
