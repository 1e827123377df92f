"""The answering server must be ours: another Ollama on the port, crash loops, retired labels, verify, status.

A real supervisord supervises the stand-in (tests/standin: it binds before it logs, as `ollama serve`
v0.32.15 does); "another Ollama" is the stand-in's app mode, which runs like Ollama.app.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from ollama_sync.system.ollama_api import OllamaApi
from tests.e2e_supervisor.conftest import Setup
from tests.standin import install_fake_app
from tests.supervisor_harness import free_port

pytestmark = pytest.mark.slow
QUIT_APP = "osascript -e 'tell app \"Ollama\" to quit'"


@dataclass
class App:
    """A running stand-in Ollama.app: the app process and the server it started."""

    process: subprocess.Popen[bytes]
    port: int

    def server_pid(self) -> int:
        """The pid of the app's `ollama serve` (its only child)."""
        children = psutil.Process(self.process.pid).children()
        assert len(children) == 1, children
        return children[0].pid

    def answers(self) -> bool:
        return OllamaApi(f"http://127.0.0.1:{self.port}", timeout=1).ping()


@contextmanager
def desktop_app(setup: Setup, folder: Path, port: int, *, wait: bool = True) -> Iterator[App]:
    """Start the stand-in Ollama.app serving on 127.0.0.1:port; stopped (by pid) afterwards."""
    executable = install_fake_app(folder)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(setup.home), "OLLAMA_HOST": f"127.0.0.1:{port}",
           "STANDIN_REAP_ROOT": str(setup.home)}  # it may kill the servers of this test's supervisord only
    process = subprocess.Popen([str(executable)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = App(process, port)
    try:
        deadline = time.monotonic() + 20
        while wait and not app.answers():
            assert process.poll() is None and time.monotonic() < deadline, "the stand-in app did not come up"
            time.sleep(0.05)
        yield app
    finally:
        children = [c.pid for c in psutil.Process(process.pid).children(recursive=True)] \
            if process.poll() is None else []
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        for pid in children:
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGKILL)


def conf(setup: Setup, name: str = "ollama") -> Path:
    return setup.sv.include_dir / f"{name}.conf"


def test_desktop_app_on_the_declared_port_stops_the_first_apply(setup: Setup, tmp_path: Path) -> None:
    with desktop_app(setup, tmp_path / "apps", setup.port) as app:
        server = app.server_pid()
        rc, doc = setup.apply_json()
        assert rc == 1
        holder = doc["conflict"]["holders"][0]
        assert holder["pid"] == server
        assert holder["what"] == "the Ollama desktop app's server (Ollama.app)"
        assert holder["fix"].startswith(QUIT_APP)
        assert "Ollama.app/Contents/Resources/ollama serve" in holder["command"]
        done = setup.apply()
        print(f"\napply with Ollama.app on the port: exit {done.returncode}\n{done.stderr}")
        assert done.returncode == 1
        assert f"127.0.0.1:{setup.port} is already taken by pid {server}" in done.stderr
        assert f"fix: {QUIT_APP}" in done.stderr
        assert not conf(setup).exists() and setup.sv.info("ollama") is None  # nothing changed
        assert setup.history() == []
        assert app.answers() and app.server_pid() == server  # the app's server was left alone


def test_desktop_app_on_the_new_port_keeps_the_old_server(setup: Setup, tmp_path: Path) -> None:
    assert setup.apply().returncode == 0
    pid, before = setup.pid(), conf(setup).read_text()
    other = free_port()
    with desktop_app(setup, tmp_path / "apps", other) as app:
        setup.declare(port=other)
        done = setup.apply()
        assert done.returncode == 1
        assert f"127.0.0.1:{other} is already taken by pid {app.server_pid()}" in done.stderr
        assert "the Ollama desktop app's server (Ollama.app)" in done.stderr
        assert conf(setup).read_text() == before and setup.pid() == pid and setup.answers()
        assert [g["result"] for g in setup.history()] == ["ok"]
        verify = setup.run("verify")  # the declaration now names the app's port: not ours
        assert verify.returncode == 1
        assert f"127.0.0.1:{other} is answered by another process, not by the server the manager runs" \
            in verify.stderr
        assert f"fix: pid {app.server_pid()}" in verify.stderr and QUIT_APP in verify.stderr


def test_crash_loop_fails_within_seconds_with_the_reason(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra='keep_alive = "3m"\nenvironment = { STANDIN_FAIL = "exit-at-start" }\n')
    started = time.monotonic()
    rc, doc = setup.apply_json()
    total = time.monotonic() - started
    assert rc == 1
    attempt = doc["outcome"]["attempt"]
    assert attempt["failed_step"] == "health"
    assert "crash loop (supervisord: BACKOFF Exited too quickly" in attempt["reason"]
    assert any("stand-in told to exit at start" in line for line in attempt["log"])
    print(f"\nreload → crash loop detected: {attempt['elapsed']:.2f} s (whole apply with rollback {total:.2f} s)")
    assert attempt["elapsed"] < 3
    assert doc["outcome"]["restore"]["ok"] and setup.answers()


def test_declared_sched_spread_verifies_in_sync(setup: Setup) -> None:
    """The lower-case proxy keys after OLLAMA_SCHED_SPREAD in the real layout must not glue onto it."""
    setup.declare(extra='environment = { OLLAMA_SCHED_SPREAD = "1", ROCR_VISIBLE_DEVICES = "0" }\n')
    rc, doc = setup.apply_json()
    assert rc == 0, doc
    views = {v["view"]: v for v in doc["outcome"]["attempt"]["verification"]["views"]}
    assert all(v["checked"] and v["ok"] for v in views.values()), views
    resolved = setup.server_config()
    assert resolved["OLLAMA_SCHED_SPREAD"] == "true" and resolved["ROCR_VISIBLE_DEVICES"] == "0"
    assert resolved["http_proxy"] == "" and resolved["no_proxy"] == ""
    status = setup.run("--json", "status")
    assert status.returncode == 0, status.stdout
    assert setup.run("verify").returncode == 0


def test_label_change_retires_the_old_program(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    old_pid = setup.pid()
    setup.declare(service='label = "ollama-next"\n')
    plan = setup.run("--json", "plan")
    steps = [s["kind"] for s in json.loads(plan.stdout)["steps"]]
    assert steps[0] == "retire" and "reload" in steps
    rc, doc = setup.apply_json()
    assert rc == 0, doc
    assert "retired the previous service (supervisord service ollama" in doc["retired"]
    assert setup.sv.info("ollama") is None and not conf(setup).exists()  # stopped and removed
    assert old_pid is not None and not psutil.pid_exists(old_pid)
    assert setup.sv.pid("ollama-next") is not None and setup.answers()  # the same port, freed for the new one
    results = [g["result"] for g in setup.history()]
    assert results[0] == "ok" and results[1].startswith("retired") and results[2] == "ok"
    again = setup.apply()
    assert again.returncode == 0 and "up to date" in again.stdout  # retired once, not again


def test_unread_variable_is_a_warning_in_status_and_apply_agrees(setup: Setup) -> None:
    setup.declare(extra='environment = { OLLAMA_NUM_CTX = "8192" }\n')
    rc, doc = setup.apply_json()
    assert rc == 0, doc
    assert doc["outcome"]["attempt"]["verification"]["unknown_to_server"] == ["OLLAMA_NUM_CTX"]
    status = setup.run("--json", "status")
    report = json.loads(status.stdout)
    assert status.returncode == 0, report["problems"]
    assert report["problems"] == [] and report["in_sync"] and report["healthy"]
    assert report["warnings"][0].startswith("OLLAMA_NUM_CTX is declared but this server does not read it")
    plan = setup.run("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout  # apply would do nothing either
    text = setup.run("status")
    assert text.returncode == 0 and "not read by this server" in text.stdout


def test_enable_false_is_disabled_as_declared(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.declare(extra="enable = false\n")
    plan = setup.run("plan", "--detailed-exitcode")
    assert plan.returncode == 2  # apply would stop the server
    assert setup.apply().returncode == 0
    status = setup.run("--json", "status")
    report = json.loads(status.stdout)
    assert status.returncode == 0, report["problems"]
    assert report["disabled"] and report["problems"] == []
    assert "disabled, as declared" in setup.run("status").stdout
    assert setup.run("plan", "--detailed-exitcode").returncode == 0
    assert setup.run("verify").returncode == 0


def test_plan_asks_the_live_service_like_apply(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    setup.sv.ctl("stop", "ollama")
    plan = setup.run("--json", "plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout  # the file is current, but apply would start the server
    assert [s["kind"] for s in json.loads(plan.stdout)["steps"]] == ["start"]
    assert json.loads(plan.stdout)["live_checked"]


def test_verify_in_sync_drift_and_writes_nothing(setup: Setup) -> None:
    assert setup.apply().returncode == 0
    state_before = sorted(p.relative_to(setup.state) for p in setup.state.rglob("*"))
    done = setup.run("--json", "verify")
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    assert report["ok"] and report["pid"] == setup.pid() and report["answered_by"] == f"pid {setup.pid()} (ours)"
    setup.declare(extra='keep_alive = "10m"\n')  # declared, not applied: the running server drifts
    drift = setup.run("--json", "verify")
    assert drift.returncode == 1
    assert any("OLLAMA_KEEP_ALIVE" in p for p in json.loads(drift.stdout)["problems"])
    assert sorted(p.relative_to(setup.state) for p in setup.state.rglob("*")) == state_before  # no writes
    setup.sv.ctl("stop", "ollama")
    stopped = setup.run("verify")
    assert stopped.returncode == 1 and "runs no server" in stopped.stderr


def test_desktop_app_started_later_fights_and_verify_and_status_say_so(setup: Setup, tmp_path: Path) -> None:
    """Ollama.app kills other `ollama serve` when its own cannot bind (app/server/server.go Run → reapServers)."""
    assert setup.apply().returncode == 0
    ours = setup.pid()
    with desktop_app(setup, tmp_path / "apps", setup.port, wait=False) as app:
        deadline = time.monotonic() + 20
        while not (app.answers() and _server_listens(app) and setup.pid() != ours):  # it killed ours, took the port
            assert time.monotonic() < deadline, "the stand-in app never took the port"
            time.sleep(0.05)
        verify = setup.run("verify")
        print(f"\nverify after Ollama.app took the port: exit {verify.returncode}\n{verify.stderr}")
        assert verify.returncode == 1
        assert QUIT_APP in verify.stderr and f"pid {app.server_pid()}" in verify.stderr
        status = setup.run("--json", "status")
        assert status.returncode == 1 and json.loads(status.stdout)["problems"]


def _server_listens(app: App) -> bool:
    try:
        server = app.server_pid()
    except (AssertionError, psutil.Error):
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == app.port
               for c in psutil.net_connections(kind="tcp") if c.pid == server)
