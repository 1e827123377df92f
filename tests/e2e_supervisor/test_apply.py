"""`ollama-sync apply` end to end: a real supervisord supervising the stand-in server (tests/standin)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

from tests.e2e_supervisor.conftest import Setup
from tests.processes import stop
from tests.supervisor_harness import free_port

pytestmark = pytest.mark.slow


def test_first_apply_then_noop_keeps_the_pid(setup: Setup) -> None:
    first = setup.apply()
    assert first.returncode == 0, first.stderr
    assert "applied: generation 1" in first.stdout
    pid = setup.pid()
    assert pid is not None and setup.answers()
    assert setup.manager_env()["OLLAMA_HOST"] == f"127.0.0.1:{setup.port}"
    assert (setup.sv.include_dir / "ollama.conf").stat().st_mode & 0o777 == 0o644

    again = setup.apply()
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert setup.pid() == pid  # no restart
    assert [g["result"] for g in setup.history()] == ["ok"]


def test_one_variable_change_shows_in_all_three_views(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    before = setup.pid()
    setup.declare(extra='keep_alive = "10m"\nnum_parallel = 3\n')
    rc, doc = setup.apply_json()
    assert rc == 0, doc
    views = {v["view"]: v for v in doc["outcome"]["attempt"]["verification"]["views"]}
    assert all(v["checked"] and v["ok"] for v in views.values()), views
    after = setup.pid()
    assert after not in (None, before)
    assert setup.manager_env()["OLLAMA_KEEP_ALIVE"] == "10m"  # (a) what supervisord passes
    resolved = setup.server_config()  # (b) what the server resolved, as it prints it
    assert resolved["OLLAMA_KEEP_ALIVE"] == "10m0s" and resolved["OLLAMA_NUM_PARALLEL"] == "3"
    assert resolved["OLLAMA_HOST"] == f"http://127.0.0.1:{setup.port}"
    assert setup.answers()  # (c) the API on the declared address
    assert [g["result"] for g in setup.history()] == ["ok", "ok"]


def test_unknown_variable_is_reported(setup: Setup) -> None:
    setup.declare(extra='environment = { OLLAMA_NOT_A_SETTING = "1" }\n')
    rc, doc = setup.apply_json()
    assert rc == 0, doc
    assert doc["outcome"]["attempt"]["verification"]["unknown_to_server"] == ["OLLAMA_NOT_A_SETTING"]


def test_taken_port_stops_apply_before_anything_changes(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    pid, conf = setup.pid(), (setup.sv.include_dir / "ollama.conf").read_text()
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        setup.declare(port=taken, extra='keep_alive = "1m"\n')
        done = setup.apply()
    assert done.returncode == 1
    assert f"127.0.0.1:{taken} is already taken by pid {os.getpid()}" in done.stderr
    assert "a program that is not an Ollama server" in done.stderr
    assert f"fix: kill {os.getpid()}, or move the service: ollama-sync set port {taken + 1}" in done.stderr
    assert setup.pid() == pid and setup.answers(setup.port)  # the old server was not touched
    assert (setup.sv.include_dir / "ollama.conf").read_text() == conf
    assert [g["result"] for g in setup.history()] == ["ok"]  # nothing recorded, nothing written


def test_port_taken_between_the_check_and_the_start_is_a_bind_failure_and_rolls_back(setup: Setup) -> None:
    """The stand-in fails its bind as the real server does when another server wins the race for the port."""
    assert setup.apply().returncode == 0
    setup.declare(extra='keep_alive = "1m"\nenvironment = { STANDIN_FAIL = "port-taken" }\n')
    rc, doc = setup.apply_json()
    assert rc == 1
    attempt = doc["outcome"]["attempt"]
    assert attempt["failed_step"] == "health"
    assert f"the server cannot listen: Error: listen tcp 127.0.0.1:{setup.port}: bind: address already in use" \
        in attempt["reason"]
    print(f"\nreload → bind failure detected: {attempt['elapsed']:.2f} s")
    assert attempt["elapsed"] < 3
    assert doc["outcome"]["rolled_back_to"] == 1 and doc["outcome"]["restore"]["ok"]
    assert setup.answers() and "OLLAMA_KEEP_ALIVE" not in setup.manager_env()


def test_server_resolving_other_settings_fails_verification_and_rolls_back(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra='keep_alive = "10m"\nenvironment = { STANDIN_FAIL = "misreport:OLLAMA_KEEP_ALIVE" }\n')
    rc, doc = setup.apply_json()
    assert rc == 1
    attempt = doc["outcome"]["attempt"]
    assert attempt["failed_step"] == "verify"
    assert "server: OLLAMA_KEEP_ALIVE: declared '10m', 'misreported'" in attempt["reason"]
    views = {v["view"]: v for v in attempt["verification"]["views"]}
    assert views["manager"]["ok"] and views["api"]["ok"] and not views["server"]["ok"]
    assert doc["outcome"]["rolled_back_to"] == 1 and doc["outcome"]["restore"]["ok"]
    assert "OLLAMA_KEEP_ALIVE" not in setup.manager_env() and setup.answers()


def test_failed_first_apply_stops_the_service_and_removes_the_file(setup: Setup) -> None:
    setup.declare(extra='environment = { STANDIN_FAIL = "exit-at-start" }\n')
    done = setup.apply()
    assert done.returncode == 1
    assert "no previous version" in done.stderr and "stand-in told to exit at start" in done.stderr
    assert setup.sv.info("ollama") is None
    assert not (setup.sv.include_dir / "ollama.conf").exists()
    assert setup.history()[0]["result"].startswith("failed: health failed")


def test_never_healthy_times_out_and_rolls_back(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra='environment = { STANDIN_FAIL = "never-healthy" }\n')
    started = time.monotonic()
    done = setup.apply("--timeout", "1.5")
    assert done.returncode == 1
    assert "not healthy within 1.5 s" in done.stderr
    assert time.monotonic() - started < 15
    assert setup.answers()


def test_foreign_file_is_kept_before_it_is_replaced(setup: Setup) -> None:
    foreign = "[program:ollama]\ncommand=/bin/sleep 1000\n"
    (setup.sv.include_dir / "ollama.conf").write_text(foreign)
    done = setup.apply()
    assert done.returncode == 0, done.stderr
    assert "not written by ollama-sync" in done.stdout
    kept = list((setup.state / "foreign").iterdir())
    assert [p.read_text() for p in kept] == [foreign]
    assert [g["result"] for g in setup.history()] == ["backup", "ok"]


def test_rollback_command_restores_a_generation(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra='keep_alive = "10m"\n')
    assert setup.apply().returncode == 0
    done = setup.run("rollback", "--timeout", "15")
    assert done.returncode == 0, done.stderr
    assert "rolling back to generation 1" in done.stdout
    assert "OLLAMA_KEEP_ALIVE" not in setup.manager_env()
    history = setup.history()
    assert history[-1]["source"] == "rollback to generation 1" and history[-1]["current"]


CRASH_STEPS = ["locked", "begun", "written", "reloaded", "healthy", "verified", "recorded"]


@pytest.mark.parametrize("step", CRASH_STEPS)
def test_kill_9_at_each_step_is_recovered_by_the_next_apply(setup: Setup, step: str) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra='keep_alive = "10m"\n')
    killed = setup.apply(crash_at=step)
    assert killed.returncode == -signal.SIGKILL
    conf = (setup.sv.include_dir / "ollama.conf").read_text()
    assert conf.endswith("\n") and conf.count("[program:ollama]") == 1  # a complete old or new file

    done = setup.apply()
    assert done.returncode == 0, done.stderr
    if step in ("begun", "written", "reloaded", "healthy", "verified"):
        assert "recovered an interrupted apply" in done.stderr
    assert setup.manager_env()["OLLAMA_KEEP_ALIVE"] == "10m" and setup.answers()
    assert not (setup.state / "journal.json").exists()
    assert all(g["result"] != "in progress" for g in setup.history())


def test_kill_9_during_rollback_is_recovered(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra='environment = { STANDIN_FAIL = "exit-at-start" }\n')
    killed = setup.apply(crash_at="rolling-back")
    assert killed.returncode == -signal.SIGKILL
    setup.declare()  # back to the working declaration
    done = setup.apply()
    assert done.returncode == 0, done.stderr
    assert "restored the version before it" in done.stderr
    assert setup.answers() and not (setup.state / "journal.json").exists()


def test_two_concurrent_applies(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra='environment = { STANDIN_FAIL = "slow-start:1.5" }\n')
    first = subprocess.Popen(setup.argv("apply", "--yes", "--timeout", "15"), env=setup.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        setup.wait_for(setup.state / "journal.json")  # the first holds the lock and is mid-transaction
        impatient = setup.apply("--lock-timeout", "0.2")
        assert impatient.returncode == 1
        assert "holds the lock" in impatient.stderr and f"pid {first.pid}" in impatient.stderr
        patient = setup.apply("--lock-timeout", "30")  # waits for the first, then finds nothing to do
    finally:
        try:
            _, err = first.communicate(timeout=60)
        finally:
            stop(first, signal.SIGKILL, timeout=10)  # only if it is still running after the wait
    assert first.returncode == 0, err
    assert patient.returncode == 0 and "up to date" in patient.stdout, patient.stderr
    assert [g["result"] for g in setup.history()] == ["ok", "ok"]


def test_port_is_free_again_after_the_test(setup: Setup) -> None:
    """The harness stops supervisord and its programs: a port used by a test is free afterwards."""
    port = free_port()
    setup.declare(port=port)
    assert setup.apply().returncode == 0 and setup.answers(port)
