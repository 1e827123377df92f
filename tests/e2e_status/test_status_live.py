"""status and doctor for real: the stand-in server (NOT the real Ollama) under a real supervisord.

Each test declares a supervisord service in the harness's include folder, starts it through supervisord,
and runs the commands in-process. Other engineers' tests may run other stand-ins on this machine at the
same time, so assertions name this test's own pids and ports, never "no other server".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.prepare import prepare
from ollama_sync.cli import run
from tests.processes import stop
from tests.supervisor_harness import Supervisord, fake_ollama, free_port, supervisord  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def declare(sv: Supervisord, tmp_path: Path, ollama: Path, port: int, *, extra: str = "",
            service: str = "") -> Path:
    """Write the config; return its path."""
    config = tmp_path / "config.toml"
    log = tmp_path / "logs/ollama.log"
    config.write_text(sv.config_text(str(ollama), port, extra_ollama=extra,
                                     backend_extra=f'log_path = "{log}"\n{service}'))
    return config


def start(sv: Supervisord, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render the program section into supervisord's include folder and let supervisord start it."""
    for name, value in sv.environ().items():
        monkeypatch.setenv(name, value)
    prepared = prepare(Context(GlobalOptions(config=str(config))))
    target = prepared.rendered.target
    assert prepared.rendered.content is not None and target.log_path is not None
    Path(target.log_path).parent.mkdir(parents=True, exist_ok=True)
    Path(target.path).write_bytes(prepared.rendered.content)
    sv.ctl("update")


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def status_doc(config: Path, capsys: pytest.CaptureFixture[str], command: str = "status") -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = run(["--config", str(config), "--json", command])
    return rc, json.loads(capsys.readouterr().out)


def test_in_sync_and_healthy(supervisord: Supervisord, fake_ollama: Path, tmp_path: Path,  # noqa: F811
                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    config = declare(supervisord, tmp_path, fake_ollama, port, extra='num_parallel = 2\nkeep_alive = "30m"\n')
    start(supervisord, config, monkeypatch)
    wait_for(lambda: answers(port) and (supervisord.info("ollama") or {}).get("statename") == "RUNNING")
    rc, doc = status_doc(config, capsys)
    assert rc == 0, json.dumps(doc, indent=1)
    assert doc["ok"] and doc["in_sync"] and doc["healthy"]
    svc = doc["service"]
    assert svc["manager"] == "supervisord" and svc["state"] == "running"
    assert svc["pid"] == supervisord.pid("ollama") and svc["uptime_seconds"] is not None
    rows = {r["variable"]: r for r in doc["settings"]}
    assert rows["OLLAMA_KEEP_ALIVE"]["server"] == {"value": "30m0s", "mark": "in-sync"}
    assert rows["OLLAMA_NUM_PARALLEL"]["manager"] == {"value": "2", "mark": "in-sync"}
    server = doc["server"]
    assert server["version"] == "0.32.15" and "127.0.0.1" in server["answered_on"]
    assert doc["installed_models"] == [] and doc["loaded_models"] == []


def test_unread_variable_is_a_warning_in_the_server_column(
        supervisord: Supervisord, fake_ollama: Path, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    config = declare(supervisord, tmp_path, fake_ollama, port, extra='environment = { OLLAMA_NUM_CTX = "8192" }\n')
    start(supervisord, config, monkeypatch)
    wait_for(lambda: answers(port))
    rc, doc = status_doc(config, capsys)
    rows = {r["variable"]: r for r in doc["settings"]}
    assert rc == 0 and doc["healthy"] and doc["in_sync"] and doc["problems"] == []  # a warning, not drift
    assert rows["OLLAMA_NUM_CTX"]["file"]["mark"] == "in-sync"
    assert rows["OLLAMA_NUM_CTX"]["manager"] == {"value": "8192", "mark": "in-sync"}  # supervisord passed it
    assert rows["OLLAMA_NUM_CTX"]["server"] == {"value": None, "mark": "unread"}  # the server does not read it
    assert doc["warnings"] == ["OLLAMA_NUM_CTX is declared but this server does not read it (absent from its "
                               "`server config`): it has no effect"]
    rc, doc = status_doc(config, capsys, "doctor")
    finding = next(f for f in doc["findings"] if f["code"] == "server-ignores-variable")
    assert finding["hint"] == "ollama-sync unset environment.OLLAMA_NUM_CTX; ollama-sync set context_length 8192"


@pytest.fixture
def squatter() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another program listening on a port (what the desktop app or a second server would be)."""
    port = free_port()
    code = ("import socket, sys, time\ns = socket.socket()\ns.bind(('127.0.0.1', int(sys.argv[1])))\n"
            "s.listen()\nprint('ready', flush=True)\ntime.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc, port
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_doctor_names_who_holds_the_port(supervisord: Supervisord, fake_ollama: Path, tmp_path: Path,  # noqa: F811
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         squatter: tuple[subprocess.Popen[str], int]) -> None:
    proc, port = squatter
    config = declare(supervisord, tmp_path, fake_ollama, port)
    start(supervisord, config, monkeypatch)
    log = tmp_path / "logs/ollama.log"
    wait_for(lambda: log.exists() and "address already in use" in log.read_text())
    rc, doc = status_doc(config, capsys, "doctor")
    found = {f["code"]: f for f in doc["findings"]}
    assert rc == 1
    taken = found["port-taken"]
    assert f"pid {proc.pid}" in taken["message"] and "socket" in taken["message"]  # its command line
    assert taken["hint"] == f"kill {proc.pid}, or move the service: ollama-sync set port {port + 1}"
    assert found["log-address-in-use"]["severity"] == "error"
    capsys.readouterr()
    assert run(["--config", str(config), "doctor"]) == 1
    out = capsys.readouterr().out
    assert f"error[port-taken] port {port} is held by pid {proc.pid}" in out


def test_models_folder_the_service_user_cannot_use(supervisord: Supervisord, fake_ollama: Path,  # noqa: F811
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Tests run as root, for whom every folder is open: the check is made for the declared service user.
    models = Path(tempfile.mkdtemp(prefix="models-", dir="/tmp"))
    try:
        models.chmod(0o700)  # root's only
        config = declare(supervisord, tmp_path, fake_ollama, free_port(), extra=f'models_path = "{models}"\n',
                         service='user = "nobody"\n')
        for name, value in supervisord.environ().items():
            monkeypatch.setenv(name, value)
        rc, doc = status_doc(config, capsys, "doctor")
        found = {f["code"]: f for f in doc["findings"]}
        assert rc == 1
        assert "nobody cannot read" in found["models-dir-not-readable"]["message"]
        assert found["models-dir-not-writable"]["hint"] == f"sudo chown -R nobody {models}"
        models.chmod(0o777)
        rc, doc = status_doc(config, capsys, "doctor")
        assert not {"models-dir-not-readable", "models-dir-not-writable"} & {f["code"] for f in doc["findings"]}
    finally:
        shutil.rmtree(models, ignore_errors=True)


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts connections but never answers (a hung server): probes must time out, not stall."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def test_a_hung_address_times_out(silent_listener: int, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  supervisord: Supervisord, fake_ollama: Path,  # noqa: F811
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = declare(supervisord, tmp_path, fake_ollama, silent_listener)
    for name, value in supervisord.environ().items():
        monkeypatch.setenv(name, value)
    rc, doc = status_doc(config, capsys)
    loopback = next(p for p in doc["server"]["addresses"] if p["address"] == "127.0.0.1")
    assert rc == 1 and loopback["answered"] is False and loopback["error"] == "timed out"
    assert doc["service"]["state"] == "not loaded"
    assert os.path.exists(supervisord.conf)


def test_doctor_names_a_second_ollama_server(supervisord: Supervisord, fake_ollama: Path,  # noqa: F811
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    port, other_port = free_port(), free_port()
    config = declare(supervisord, tmp_path, fake_ollama, port)
    start(supervisord, config, monkeypatch)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "OLLAMA_HOST": f"127.0.0.1:{other_port}"}
    second = subprocess.Popen([str(fake_ollama), "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # e.g. `ollama serve` left running in a terminal
    try:
        wait_for(lambda: answers(port) and answers(other_port))
        _, doc = status_doc(config, capsys, "doctor")
        ours = supervisord.pid("ollama")
        others = [f for f in doc["findings"] if f["code"] == "other-ollama-server"]
        assert any(f"pid {second.pid}" in f["message"] for f in others), others
        assert not any(f"pid {ours}:" in f["message"] for f in others)  # our own server is not "another"
        finding = next(f for f in others if f"pid {second.pid}" in f["message"])
        assert finding["hint"] == f"kill {second.pid}" and finding["severity"] == "warning"
    finally:
        stop(second, signal.SIGTERM, timeout=10)
