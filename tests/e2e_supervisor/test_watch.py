"""`ollama-sync watch` end to end: a real supervisord, the stand-in server, a real foreground watcher process."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.e2e_supervisor.conftest import Setup

pytestmark = pytest.mark.slow


def records(setup: Setup) -> list[dict[str, object]]:
    log = setup.state / "watch.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_burst_of_saves_applies_once_and_the_server_gets_the_new_setting(setup: Setup) -> None:
    first = setup.apply()
    assert first.returncode == 0, first.stderr
    old_pid = setup.pid()
    watcher = subprocess.Popen(setup.argv("watch", "--debounce", "400"), env=setup.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().startswith("watching ")
        time.sleep(0.3)  # the watcher is armed after printing
        for parallel in (2, 3, 4):  # three saves within the debounce window; the last one counts
            setup.declare(extra=f"num_parallel = {parallel}\n")
            time.sleep(0.05)
        deadline = time.monotonic() + 60
        while not records(setup) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # well past the debounce: a second apply would be recorded by now
        done = records(setup)
        assert len(done) == 1, done
        assert done[0]["ok"] is True and done[0]["trigger"] == "foreground", done
        assert str(done[0]["message"]).startswith("applied")
        assert setup.manager_env()["OLLAMA_NUM_PARALLEL"] == "4"  # what supervisord passes
        assert setup.server_config()["OLLAMA_NUM_PARALLEL"] == "4"  # what the server resolved
        assert setup.pid() not in (None, old_pid) and setup.answers()
    finally:
        watcher.send_signal(signal.SIGINT)
        rc = watcher.wait(timeout=15)
    assert rc == 130
    assert "stopped watching" in (watcher.stderr.read() if watcher.stderr else "")


def test_a_broken_save_is_recorded_as_a_failure_and_the_server_keeps_running(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    pid = setup.pid()
    watcher = subprocess.Popen(setup.argv("watch", "--debounce", "200"), env=setup.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert watcher.stdout is not None and watcher.stdout.readline().startswith("watching ")
        time.sleep(0.3)
        setup.declare(extra="num_paralel = 2\n")  # a typo: unreadable declaration
        deadline = time.monotonic() + 30
        while not records(setup) and time.monotonic() < deadline:
            time.sleep(0.1)
        (record,) = records(setup)
        assert record["ok"] is False and record["exit_code"] == 2
        assert "num_paralel" in str(record["message"])
        assert setup.pid() == pid and setup.answers()
        again = setup.run("--json", "watch", "--once")  # the installed watcher's run: same failure, exit 2
        assert again.returncode == 2 and json.loads(again.stdout)["record"]["ok"] is False
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=15)
