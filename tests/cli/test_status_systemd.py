"""status and doctor on Linux: systemd's recorded `show` output and the server's lines in its journal."""

from __future__ import annotations

import socket
from pathlib import Path

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.doctor import doctor
from ollama_sync.app.prepare import prepare
from ollama_sync.app.status import status
from ollama_sync.cli.status_view import status_json
from ollama_sync.core.target import Machine
from ollama_sync.system.systemctl_parse import SHOW_PROPERTIES
from tests.conftest import REPO
from tests.fakes import FakeRunner, completed

RECORDED = REPO / "tests/fixtures/systemd"
# Lines a real server wrote when its port was taken (ollama-server-facts.md §6, issues #707/#10311/#7214),
# after the real `server config` line of issue #9221 (shared/fixtures/ollama/server-config-lines.md).
JOURNAL = (
    '2025/02/20 16:32:58 routes.go:1187: INFO server config env="map[OLLAMA_DEBUG:false OLLAMA_HOST:'
    'http://127.0.0.1:PORT OLLAMA_KEEP_ALIVE:5m0s OLLAMA_NUM_PARALLEL:0]"\n'
    "Error: listen tcp 127.0.0.1:PORT: bind: address already in use\n"
)


def test_killed_unit_and_its_journal(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\nbackend = "systemd"\nbinary = "/usr/local/bin/ollama"\n\n'
                      f'[ollama]\nhost = "127.0.0.1"\nport = {port}\n')
    machine = Machine("Linux", str(tmp_path / "home"), 1000, "alice", str(tmp_path / "state"))
    runner = FakeRunner()
    runner.add(["/usr/local/bin/ollama", "--version"], completed([], 0, "ollama version is 0.5.7\n"))
    show = ["systemctl", "--user", "show", "ollama.service", "-p", ",".join(SHOW_PROPERTIES), "--no-pager"]
    runner.add(show, completed(show, 0, (RECORDED / "show-killed.stdout").read_text()))
    journal = ["journalctl", "--user", "-u", "ollama.service", "-n", "400", "--no-pager", "-o", "cat"]
    runner.add(journal, completed(journal, 0, JOURNAL.replace("PORT", str(port))))
    ctx = Context(GlobalOptions(config=str(config)), environ={"PATH": "/nowhere"}, runner=runner,
                  machine_override=machine)
    prepared = prepare(ctx)
    assert prepared.rendered.content is not None
    ctx.files.write_atomic(prepared.rendered.target.path, prepared.rendered.content)

    doc = status_json(status(ctx))
    svc = doc["service"]
    assert (svc["manager"], svc["state"], svc["pid"], svc["enabled"]) == ("systemd", "failed", None, False)
    assert svc["last_exit"] == -9 and "SIGKILL" in svc["last_exit_meaning"]
    host = next(r for r in doc["settings"] if r["variable"] == "OLLAMA_HOST")
    assert host["server"]["mark"] == "in-sync"  # read from the journal's `server config` line
    assert doc["ok"] is False and doc["healthy"] is False

    result = doctor(ctx)
    found = {f.code: f for f in result.findings}
    assert found["service-not-running"].hint == "systemctl --user restart ollama"
    assert found["service-disabled"].hint == "systemctl --user enable --now ollama"
    assert found["last-exit"].hint.startswith("ollama-sync memory")
    assert found["log-address-in-use"].hint == f"stop whatever holds port {port} (see port-taken), or move: " \
                                               f"ollama-sync set port {port + 1}"
    assert result.judged_against == "Ollama 0.5.7"
    assert tuple(journal) in runner.calls
