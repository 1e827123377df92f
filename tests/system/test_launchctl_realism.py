"""launchd's quirks (issue #10 item 4), each replayed from recorded launchctl answers with their exit codes.

Recordings: ../shared/fixtures/macos/ (INDEX.md there) and tests/fixtures/launchctl/ (INDEX.md here: found in
public issues, each with its source). The scripted runner answers exactly the argv it was given and fails the
test on any other call, so "no second copy was bootstrapped" is checked by the absence of that call.
"""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from ollama_sync.core.observation import RunState, restarted_since
from ollama_sync.core.render.launchd import SESSION_TYPES, render_plist
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target
from ollama_sync.errors import CommandError, OllamaSyncError
from ollama_sync.system.files import Files
from ollama_sync.system.launchctl import LaunchdManager
from ollama_sync.system.launchctl_errors import Outcome, classify, failure
from ollama_sync.system.launchctl_parse import ListEntry, parse_domain_services, parse_print, service_state
from ollama_sync.system.runner import Completed
from tests.conftest import require_shared
from tests.fakes import FakeRunner

LABEL = "com.github.ollama"
PLIST = "/Users/alice/Library/LaunchAgents/com.github.ollama.plist"
GUI, USER = f"gui/501/{LABEL}", f"user/501/{LABEL}"
HERE = Path(__file__).resolve().parent.parent / "fixtures" / "launchctl"
OK = Completed((), 0, "", "")


def shared(name: str, rc: int, *, stream: str = "stderr") -> Completed:
    """A recording from ../shared/fixtures/macos/."""
    return _answer((require_shared() / "fixtures" / "macos" / name).read_text(), rc, stream)


def local(name: str, rc: int, *, stream: str = "stderr") -> Completed:
    """A recording from tests/fixtures/launchctl/."""
    return _answer((HERE / name).read_text(), rc, stream)


def _answer(text: str, rc: int, stream: str) -> Completed:
    return Completed((), rc, text if stream == "stdout" else "", text if stream == "stderr" else "")


BOOTOUT_125 = "bootout-gui-domain-unsupported-125.stderr"  # VERBATIM, home-manager#9628
RUNNING = "launchctl-print-gui-agent-running-keepalive.txt"  # VERBATIM-EXCERPT, pid 17594
ESRCH = "launchctl-bootout-not-loaded-esrch-3.stderr"  # VERBATIM
NO_GUI_DOMAIN = "launchctl-could-not-find-domain-gui.stderr"  # VERBATIM, exit 112
EMPTY_DISABLED = Completed((), 0, "\tdisabled services = {\n\t}\n", "")


@pytest.fixture
def target() -> Target:
    return Target(Backend.LAUNCHD, PLIST, LABEL, "/opt/homebrew/bin/ollama", Scope.USER,
                  "/Users/alice/Library/Logs/ollama-sync/com.github.ollama.log")


@pytest.fixture
def manager(fake_runner: FakeRunner, tmp_path: Path, machine: Machine) -> LaunchdManager:
    def refuse_to_sleep(seconds: float) -> None:
        raise AssertionError(f"no retry expected, slept {seconds}")

    return LaunchdManager(fake_runner, Files(str(tmp_path / "root")), machine, sleep=refuse_to_sleep,
                          clock=lambda: 0.0)


def script(runner: FakeRunner, *steps: tuple[tuple[str, ...], Completed]) -> list[tuple[str, ...]]:
    for argv, answer in steps:
        runner.add(("launchctl", *argv), answer)
    return [("launchctl", *argv) for argv, _ in steps]


def plist_arg(tmp_path: Path) -> str:
    return str(tmp_path / "root" / PLIST.lstrip("/"))


# -- 125 from `bootout gui/<uid>/<label>` does not prove the job is gone ---------------------------------------


def test_load_stops_when_bootout_says_125_but_print_still_lists_the_job(
        manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    expected = script(fake_runner, (("bootout", GUI), local(BOOTOUT_125, 125)),
                      (("print", GUI), shared(RUNNING, 0, stream="stdout")))
    with pytest.raises(OllamaSyncError) as caught:
        manager.load(target)
    assert fake_runner.calls == expected  # no bootout/enable/bootstrap in user/501: no second copy
    message = caught.value.message
    assert "refused to boot com.github.ollama out of gui/501" in message
    assert "Boot-out failed: 125: Domain does not support specified action" in message
    assert "shows it loaded, pid 17594" in message and "second copy in user/501" in message
    assert caught.value.hint is not None and "desktop session" in caught.value.hint
    assert "launchctl bootout gui/501/com.github.ollama" in caught.value.hint


def test_stop_stops_the_same_way(manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    expected = script(fake_runner, (("bootout", GUI), local(BOOTOUT_125, 125)),
                      (("print", GUI), local("print-gui-running-excerpt.txt", 0, stream="stdout")))
    with pytest.raises(OllamaSyncError, match=r"yet `launchctl print gui/501/com\.github\.ollama` shows it loaded"):
        manager.stop(target)
    assert fake_runner.calls == expected  # neither disabled nor booted out anywhere else


@pytest.mark.parametrize(("fixture", "rc"), [
    (NO_GUI_DOMAIN, 112),  # VERBATIM: the domain does not exist (SSH, headless)
    ("launchctl-print-not-found.stderr", 113),  # VERBATIM: the domain exists, the job is not in it
])
def test_bootout_125_then_print_without_the_job_goes_on_in_user_domain(
        manager: LaunchdManager, fake_runner: FakeRunner, target: Target, tmp_path: Path, fixture: str,
        rc: int) -> None:
    expected = script(fake_runner, (("bootout", GUI), local(BOOTOUT_125, 125)), (("print", GUI), shared(fixture, rc)),
                      (("bootout", USER), shared(ESRCH, 3)), (("enable", USER), OK),
                      (("bootstrap", "user/501", plist_arg(tmp_path)), OK))
    manager.load(target)
    assert fake_runner.calls == expected


# -- user/<uid>: the session key, and the warning -----------------------------------------------------------


def test_state_in_user_domain_warns_that_it_is_not_back_after_a_reboot(
        manager: LaunchdManager, fake_runner: FakeRunner, target: Target) -> None:
    script(fake_runner, (("print", GUI), shared("launchctl-print-no-gui-domain-112-RECONSTRUCTED.stderr", 112)),
           (("print", USER), shared(RUNNING, 0, stream="stdout")), (("print-disabled", "user/501"), EMPTY_DISABLED))
    state = manager.state(target)
    assert (state.state, state.domain) == (RunState.RUNNING, "user/501")
    (warning,) = state.warnings
    assert "after a reboot launchd does not load it again" in warning and 'scope = "system"' in warning


def test_state_in_gui_domain_has_no_warning(manager: LaunchdManager, fake_runner: FakeRunner,
                                            target: Target) -> None:
    script(fake_runner, (("print", GUI), shared(RUNNING, 0, stream="stdout")),
           (("print-disabled", "gui/501"), EMPTY_DISABLED))
    assert manager.state(target).warnings == ()


def test_print_in_user_domain_of_a_job_running_in_gui_is_not_found() -> None:
    done = local("print-user-not-found-113.stderr", 113)  # VERBATIM, hermes-agent#40831 (macOS 26.5.1)
    assert classify(done.returncode, done.output) is Outcome.NOT_LOADED


@pytest.mark.parametrize(("fixture", "rc"), [
    ("load-session-mismatch-134.stderr", 134),  # VERBATIM text (outset#108, from `load`); judged by its `failed: 134:`
    ("bootstrap-user-session-mismatch-134-RECONSTRUCTED.stderr", 134),
])
def test_session_mismatch_is_named_with_its_cause_and_fix(fixture: str, rc: int) -> None:
    done = local(fixture, rc)
    outcome = classify(done.returncode, done.output)
    assert outcome is Outcome.SESSION_MISMATCH
    error = failure(Completed(("launchctl", "bootstrap", "user/501", PLIST), rc, "", done.stderr), outcome)
    assert isinstance(error, CommandError)
    assert error.hint is not None and "Background" in error.hint and "ollama-sync apply" in error.hint


def test_bootstrap_session_mismatch_reaches_the_caller_with_the_hint(
        manager: LaunchdManager, fake_runner: FakeRunner, target: Target, tmp_path: Path) -> None:
    script(fake_runner, (("bootout", GUI), shared(NO_GUI_DOMAIN, 112)), (("bootout", USER), shared(ESRCH, 3)),
           (("enable", USER), OK),
           (("bootstrap", "user/501", plist_arg(tmp_path)),
            local("bootstrap-user-session-mismatch-134-RECONSTRUCTED.stderr", 134)))
    fake_runner.add(("launchctl", "print", GUI), shared(NO_GUI_DOMAIN, 112))
    with pytest.raises(CommandError) as caught:
        manager.load(target)
    assert caught.value.returncode == 134
    assert caught.value.hint is not None and "LimitLoadToSessionType" in caught.value.hint


def test_rendered_agent_allows_the_background_session(target: Target) -> None:
    plist = plistlib.loads(render_plist({"OLLAMA_HOST": "127.0.0.1:11434"}, target, "/x/config.toml"))
    assert plist["LimitLoadToSessionType"] == list(SESSION_TYPES)
    assert {"Aqua", "Background"} <= set(SESSION_TYPES)  # GUI login, and user/<uid> over SSH
    daemon = Target(Backend.LAUNCHD, f"/Library/LaunchDaemons/{LABEL}.plist", LABEL, "/opt/homebrew/bin/ollama",
                    Scope.SYSTEM, None)
    assert "LimitLoadToSessionType" not in plistlib.loads(render_plist({}, daemon, "/x/config.toml"))


# -- a crash loop under KeepAlive: `spawn scheduled`, growing `runs` ---------------------------------------------


def test_spawn_scheduled_after_a_failing_exit_is_a_crash_loop_with_launchd_reason() -> None:
    facts = parse_print(local("print-spawn-scheduled-exit-1-RECONSTRUCTED.txt", 0, stream="stdout").stdout)
    state = service_state(facts, domain="gui/501", enabled=True)
    assert (state.state, state.pid, state.runs, state.crash_loop) == (RunState.STARTING, None, 5, True)
    assert state.crash_reason == ("launchd: spawn scheduled after 5 runs (KeepAlive starts it again at most every "
                                  "10 s), last exit: 1 (a general error; the server prints the reason to its log)")


def test_a_verbatim_respawning_job_is_read_and_its_growing_run_count_is_a_restart() -> None:
    text = local("print-spawn-scheduled-keepalive.txt", 0, stream="stdout").stdout  # VERBATIM-EXCERPT, agenix#308
    facts = parse_print(text)
    assert (facts.state, facts.runs, facts.last_exit, facts.pid) == ("spawn scheduled", 640, 0, None)
    before = service_state(facts, domain="gui/501", enabled=True)
    assert not before.crash_loop  # exit 0: what `ollama serve` returns after SIGTERM, not a crash by itself
    after = service_state(parse_print(text.replace("runs = 640", "runs = 641")), domain="gui/501", enabled=True)
    assert restarted_since(before, after) == "the service manager started the server again (640 → 641 runs)"


def test_a_loop_caught_while_running_shows_as_a_restart_between_two_looks() -> None:
    text = local("print-crash-loop-running-RECONSTRUCTED.txt", 0, stream="stdout").stdout
    first = service_state(parse_print(text), domain="gui/501", enabled=True)
    assert (first.state, first.pid, first.runs, first.last_exit) == (RunState.RUNNING, 60560, 38771, 1)
    assert "last exit: 1" in first.detail
    later = text.replace("runs = 38771", "runs = 38772").replace("pid = 60560", "pid = 60571")
    second = service_state(parse_print(later), domain="gui/501", enabled=True)
    assert restarted_since(first, second) == "the server restarted (pid 60560 → pid 60571)"


# -- doctor: other Ollama jobs, per domain ---------------------------------------------------------------------


def test_domain_print_lists_its_services() -> None:
    text = local("print-gui-domain-excerpt.txt", 0, stream="stdout").stdout  # VERBATIM-EXCERPT
    assert parse_domain_services(text) == [ListEntry("net.jwpconsulting.postgresql", 887, None),
                                           ListEntry("com.apple.syncdefaultsd", 866, None)]
    jobs = parse_domain_services(local("print-gui-domain-ollama-jobs-RECONSTRUCTED.txt", 0, stream="stdout").stdout)
    assert ListEntry("com.github.ollama", None, -15) in jobs  # pid 0: not running; -15: stopped by SIGTERM
    assert ListEntry("homebrew.mxcl.ollama", 24901, None) in jobs
    assert parse_domain_services(shared(RUNNING, 0, stream="stdout").stdout) == []  # a service print has none
