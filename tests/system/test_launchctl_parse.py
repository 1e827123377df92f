"""launchctl parsers on the recorded real outputs in ../shared/fixtures/macos (see INDEX.md there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.core.observation import RunState
from ollama_sync.system.launchctl_errors import explain_exit
from ollama_sync.system.launchctl_parse import (
    ListedJob,
    parse_list,
    parse_list_job,
    parse_print,
    parse_print_disabled,
    run_state,
    service_state,
)
from tests.conftest import require_shared


def fixture(name: str) -> str:
    return (require_shared() / "fixtures" / "macos" / name).read_text()


def test_print_running_keepalive_agent() -> None:
    facts = parse_print(fixture("launchctl-print-gui-agent-running-keepalive.txt"))
    assert facts.target == "gui/501/com.mattstack.deck.chat"
    assert facts.state == "running"
    assert facts.pid == 17594  # the top-level pid, not a coalition's ID
    assert facts.last_exit == -15  # `last terminating signal = Terminated: 15`
    assert not facts.never_exited
    assert facts.environment == {
        "OSLogRateLimit": "64",
        "PORT": "11002",
        "PATH": "/Applications/mattstack.app/Contents/Helpers:/Users/tester/.local/bin:/Users/tester/.bun/bin:"
                "/Users/tester/.cargo/bin:/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/usr/bin:/bin:"
                "/usr/sbin:/sbin",
        "MATTSTACK_CANONICAL_HOST": "chat.mattstack",
        "XPC_SERVICE_NAME": "com.mattstack.deck.chat",
    }  # only the block named `environment`: not `inherited environment`, not `default environment`
    assert facts.program == "/Applications/mattstack.app/Contents/Helpers/chat"
    assert facts.arguments == ("/Applications/mattstack.app/Contents/Helpers/chat",)
    assert facts.domain == "gui/501"
    assert facts.path == "/Users/tester/Library/LaunchAgents/com.mattstack.deck.chat.plist"
    assert facts.stderr_path == "/Users/tester/.mattstack/deck/logs/chat.err.log"
    assert facts.properties == ("keepalive", "runatload", "inferred program")
    assert facts.runs == 103
    assert facts.scalars["state"] == "running"  # not the coalitions' `state = active`


def test_print_running_never_exited() -> None:
    facts = parse_print(fixture("launchctl-print-gui-agent-running-never-exited.txt"))
    assert (facts.state, facts.pid, facts.last_exit, facts.never_exited) == ("running", 3246, None, True)
    assert facts.arguments == ("/Users/tester/.bun/bin/bun", "server/index.ts")
    assert facts.environment is not None and facts.environment["SERVE_STATIC"] == "1"
    state = service_state(facts, domain="gui/501", enabled=True)
    assert state.is_running and state.last_exit is None and state.detail == ""
    assert state.environment is not None and ("API_PORT", "11010") in state.environment


def test_print_not_running_exit0() -> None:
    facts = parse_print(fixture("launchctl-print-gui-agent-not-running-exit0.txt"))
    assert (facts.state, facts.pid, facts.last_exit) == ("not running", None, 0)
    assert facts.environment == {"XPC_SERVICE_NAME": "com.motherboard.snapshot.retention"}
    assert facts.scalars["working directory"] == "/Users/marcela-dev/motherboard-backup-system"
    state = service_state(facts, domain="gui/501", enabled=None)
    assert state.state is RunState.STOPPED and state.pid is None


@pytest.mark.parametrize(("name", "header", "pid", "last_exit"), [
    ("launchctl-print-system-daemon-running-mojave-TRUNCATED.txt", "com.wazuh.agent", 1486, 0),
    ("launchctl-print-system-daemon-running-yosemite-TRUNCATED.txt", "dev.mysql", 24784, 1),
])
def test_print_old_system_daemons_indented_with_spaces(name: str, header: str, pid: int, last_exit: int) -> None:
    facts = parse_print(fixture(name))
    assert (facts.target, facts.state, facts.pid, facts.last_exit) == (header, "running", pid, last_exit)
    assert facts.domain == "system"  # `domain = com.apple.xpc.launchd.domain.system`
    assert facts.environment == {"XPC_SERVICE_NAME": header}  # `global environment` is not `environment`


def test_print_environment_line_of_ollama() -> None:
    line = fixture("launchctl-print-ollama-env-grep.txt")  # 16 spaces of indentation in the paste
    text = "gui/501/homebrew.mxcl.ollama = {\n        environment = {\n" + line + "        }\n}\n"
    assert parse_print(text).environment == {"OLLAMA_NUM_PARALLEL": "4"}


def test_print_values_with_odd_text() -> None:
    text = ("gui/501/x = {\n\tstate = not running\n\tlast exit code = 78: EX_CONFIG\n\tenvironment = {\n"
            "\t\tOLLAMA_ORIGINS => a => b\n\t\tEMPTY =>\n\t}\n}\n")
    facts = parse_print(text)
    assert facts.environment == {"OLLAMA_ORIGINS": "a => b", "EMPTY": ""}
    assert facts.last_exit == 78
    state = service_state(facts, domain="gui/501", enabled=True)
    assert state.state is RunState.FAILED
    assert "EX_CONFIG" in state.detail


@pytest.mark.parametrize(("state", "pid", "last_exit", "expected"), [
    ("running", 5, None, RunState.RUNNING),
    ("not running", None, 0, RunState.STOPPED),
    ("not running", None, -15, RunState.STOPPED),
    ("not running", None, 1, RunState.FAILED),
    ("not running", None, -9, RunState.FAILED),
    ("spawn scheduled", None, 1, RunState.STARTING),
    ("SIGTERMed", 5, None, RunState.STOPPED),
    ("languishing", None, None, RunState.UNKNOWN),
])
def test_run_state(state: str, pid: int | None, last_exit: int | None, expected: RunState) -> None:
    assert run_state(state, pid, last_exit) is expected


@pytest.mark.parametrize(("state", "pid", "exit_line", "loop"), [
    ("spawn scheduled", None, "last exit code = 1", True),
    ("spawn scheduled", None, "last exit code = 0", False),  # a polite exit respawned: not a crash
    ("spawn scheduled", None, "last exit code = (never exited)", False),
    ("running", "pid = 42", "last exit code = 1", False),  # up again after an earlier failure
])
def test_crash_loop_from_print(state: str, pid: str | None, exit_line: str, loop: bool) -> None:
    text = f"gui/501/x = {{\n\tstate = {state}\n\truns = 7\n\t{pid or 'program = /x'}\n\t{exit_line}\n}}\n"
    facts = service_state(parse_print(text), domain="gui/501", enabled=True)
    assert (facts.crash_loop, facts.runs) == (loop, 7)
    assert ("after 7 runs" in facts.crash_reason) is loop


def test_print_disabled() -> None:
    assert parse_print_disabled(fixture("launchctl-print-disabled-system-partial.txt")) == {
        "org.nixos.darwin-store": True, "org.nixos.nix-daemon": True}
    older = '\tdisabled services = {\n\t\t"com.github.ollama" => false\n\t\t"com.apple.x" => true\n\t}\n'
    assert parse_print_disabled(older) == {"com.github.ollama": False, "com.apple.x": True}


def test_list_table() -> None:
    entries = parse_list(fixture("launchctl-list-table-elcapitan-head.txt"))
    assert len(entries) == 34  # 35 lines, the header skipped
    assert entries[0].label == "com.apple.CoreAuthentication.daemon" and entries[0].pid is None
    finder = next(e for e in entries if e.label == "com.apple.Finder")
    assert (finder.pid, finder.status) == (279, 0)


def test_list_grep_outputs() -> None:
    postgres = next(e for e in parse_list(fixture("launchctl-list-grep-homebrew-exit78.txt"))
                    if e.label == "homebrew.mxcl.postgresql")
    assert (postgres.pid, postgres.status) == (None, 78)
    [app] = parse_list(fixture("launchctl-list-grep-ollama-app.txt"))
    assert (app.pid, app.label) == (70718, "application.com.electron.ollama.61282955.61282961")
    [xquartz] = parse_list(fixture("launchctl-list-grep-xquartz.txt"))  # spaces instead of tabs
    assert (xquartz.pid, xquartz.status, xquartz.label) == (3362, 0, "org.nixos.xquartz.startx")


def test_list_label_dictionary() -> None:
    job = parse_list_job(fixture("launchctl-list-label-running.txt"))
    assert job.label == "homebrew.mxcl.node_exporter"
    assert (job.pid, job.last_exit_status, job.last_exit) == (40425, 0, 0)
    assert job.program == "/usr/local/opt/node_exporter/bin/node_exporter_brew_services"
    assert job.arguments == ("/usr/local/opt/node_exporter/bin/node_exporter_brew_services",)
    assert job.values["OnDemand"] == "true"


def test_list_label_ollama_indented_with_spaces() -> None:
    text = fixture("launchctl-list-label-running-ollama.txt")
    job = parse_list_job(text)
    assert (job.label, job.pid) == ("homebrew.mxcl.ollama", 24901)
    assert job.arguments == ("/opt/homebrew/opt/ollama/bin/ollama", "serve")
    assert job.values["StandardErrorPath"] == "/opt/homebrew/var/log/ollama.log"
    [entry] = parse_list(text)
    assert (entry.label, entry.pid, entry.status) == ("homebrew.mxcl.ollama", 24901, 0)


def test_list_label_skips_nested_dictionaries() -> None:
    text = '{\n\t"Label" = "x";\n\t"MachServices" = {\n\t\t"a" = mach-port-object;\n\t};\n\t"PID" = 7;\n};\n'
    job = parse_list_job(text)
    assert (job.label, job.pid) == ("x", 7)
    assert "a" not in job.values


@pytest.mark.parametrize(("raw", "decoded"), [(0, 0), (256, 1), (78 << 8, 78), (15, -15), (9, -9)])
def test_last_exit_status_is_a_wait_status(raw: int, decoded: int) -> None:
    job = ListedJob(label="x", pid=None, last_exit_status=raw, program=None, arguments=(), values={})
    assert job.last_exit == decoded


@pytest.mark.parametrize(("code", "words"), [
    (None, "never exited"),
    (0, "exited normally"),
    (78, "EX_CONFIG"),
    (1, "general error"),
    (-15, "SIGTERM"),
    (-9, "SIGKILL"),
    (-10, "SIGBUS"),  # macOS numbering, not Linux's 7
    (42, "own exit status"),
    (-99, "signal 99"),
])
def test_explain_exit(code: int | None, words: str) -> None:
    assert words in explain_exit(code)


def test_every_print_fixture_parses() -> None:
    folder = require_shared() / "fixtures" / "macos"
    for path in sorted(Path(folder).glob("launchctl-print-*.txt")):
        facts = parse_print(path.read_text())
        if "disabled" not in path.name and "grep" not in path.name:
            assert facts.state == ("not running" if "not-running" in path.name else "running"), path.name
