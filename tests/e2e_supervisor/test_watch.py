"""`ollama-sync watch` end to end: a real supervisord, the stand-in server, a real foreground watcher process."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e_supervisor.conftest import Setup
from tests.processes import CLI_WITH_CTRL_C, Lines, stop, wait_until

pytestmark = pytest.mark.slow


def records(setup: Setup) -> list[dict[str, object]]:
    log = setup.state / "watch.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def start_watcher(setup: Setup, debounce: int) -> subprocess.Popen[str]:
    """`ollama-sync watch` in the foreground, with a Ctrl-C that works however pytest was started."""
    argv = setup.argv("watch", "--debounce", str(debounce))
    return subprocess.Popen([*CLI_WITH_CTRL_C, *argv[3:]], env=setup.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_burst_of_saves_applies_once_and_the_server_gets_the_new_setting(setup: Setup) -> None:
    first = setup.apply()
    assert first.returncode == 0, first.stderr
    old_pid = setup.pid()
    watcher = start_watcher(setup, 400)
    try:
        assert watcher.stdout is not None and watcher.stderr is not None
        out, err = Lines(watcher.stdout), Lines(watcher.stderr)
        out.wait_for(lambda line: line.startswith("watching "))  # printed once the watch is armed
        for parallel in (2, 3, 4):  # three saves within the debounce window; the last one counts
            setup.declare(extra=f"num_parallel = {parallel}\n")
        out.wait_for(lambda line: line.strip().startswith(("ok:", "FAILED:")), timeout=60)
        done = records(setup)
        assert len(done) == 1, done
        assert done[0]["ok"] is True and done[0]["trigger"] == "foreground", done
        assert str(done[0]["message"]).startswith("applied")
        assert setup.manager_env()["OLLAMA_NUM_PARALLEL"] == "4"  # what supervisord passes
        assert setup.server_config()["OLLAMA_NUM_PARALLEL"] == "4"  # what the server resolved
        assert setup.pid() not in (None, old_pid) and setup.answers()
        # A later, separate save is the second run; had the burst been split, its second run would have
        # been reported first, and this save's would be a third.
        setup.declare(extra="num_parallel = 5\n")
        wait_until(lambda: sum(line.strip().startswith(("ok:", "FAILED:")) for line in out.lines) >= 2,
                   timeout=60, what="the second run")
        later = records(setup)
        assert len(later) == 2 and later[1]["ok"] is True, later
        assert setup.manager_env()["OLLAMA_NUM_PARALLEL"] == "5"
    finally:
        rc = stop(watcher)
    assert rc == 130
    err.wait_for(lambda line: "stopped watching" in line, timeout=5)


def test_a_broken_save_is_recorded_as_a_failure_and_the_server_keeps_running(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    pid = setup.pid()
    watcher = start_watcher(setup, 200)
    try:
        assert watcher.stdout is not None
        out = Lines(watcher.stdout)
        out.wait_for(lambda line: line.startswith("watching "))
        setup.declare(extra="num_paralel = 2\n")  # a typo: unreadable declaration
        out.wait_for(lambda line: line.strip().startswith(("ok:", "FAILED:")), timeout=30)
        (record,) = records(setup)
        assert record["ok"] is False and record["exit_code"] == 2
        assert "num_paralel" in str(record["message"])
        assert setup.pid() == pid and setup.answers()
        again = setup.run("--json", "watch", "--once")  # the installed watcher's run: same failure, exit 2
        assert again.returncode == 2 and json.loads(again.stdout)["record"]["ok"] is False
    finally:
        stop(watcher)
