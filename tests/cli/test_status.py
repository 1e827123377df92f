"""status and doctor in-process: under --root (files only), and live against launchd's recorded output."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ollama_sync.app import observe as observe_module
from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.doctor import doctor
from ollama_sync.app.prepare import prepare
from ollama_sync.app.status import status
from ollama_sync.app.watch import run_once
from ollama_sync.cli import run
from ollama_sync.cli.status_view import blocks, print_plain, print_rich, status_json, verdict
from ollama_sync.core.drift import Mark
from ollama_sync.core.target import Machine
from tests.conftest import require_shared
from tests.fakes import FakeRunner, completed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, port: int, backend: str = "launchd") -> Path:
    path = folder / "config.toml"
    path.write_text(f'[service]\nbackend = "{backend}"\nbinary = "/opt/homebrew/bin/ollama"\n\n'
                    f'[ollama]\nhost = "127.0.0.1"\nport = {port}\nnum_parallel = 4\n'
                    'environment = { OLLAMA_NUM_CTX = "8192" }\n')
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path, str]:
    """A config, a root, and the rendered plist written under the root (as apply would have)."""
    config = write_config(tmp_path, 11434)
    root = tmp_path / "root"
    prepared = prepare(Context(GlobalOptions(config=str(config), root=str(root))))
    target = prepared.rendered.target
    assert prepared.rendered.content is not None
    real = root / target.path.lstrip("/")
    real.parent.mkdir(parents=True)
    real.write_bytes(prepared.rendered.content)
    return config, root, target.path


def test_sandboxed_status_reads_files_only(sandbox: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    config, root, path = sandbox
    rc = run(["--config", str(config), "--root", str(root), "--json", "status"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["command"] == "status" and doc["version"] == 1
    assert set(doc) >= {"ok", "in_sync", "healthy", "service", "settings", "server", "loaded_models",
                        "installed_models", "problems", "source", "recovered"}
    assert doc["healthy"] is None and doc["server"]["checked"] is False and doc["service"]["checked"] is False
    assert doc["service"]["file"] == path
    rows = {r["variable"]: r for r in doc["settings"]}
    assert rows["OLLAMA_NUM_PARALLEL"]["file"] == {"value": "4", "mark": "in-sync"}
    assert rows["OLLAMA_NUM_PARALLEL"]["manager"]["mark"] == "unknown"


def test_sandboxed_drift_in_the_file_is_exit_1(sandbox: tuple[Path, Path, str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config, root, path = sandbox
    plist = root / path.lstrip("/")
    plist.write_bytes(plist.read_bytes().replace(b"<string>4</string>", b"<string>2</string>"))
    rc = run(["--config", str(config), "--root", str(root), "status"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "OLLAMA_NUM_PARALLEL  4" in out and "✗ 2" in out
    assert "not in sync: OLLAMA_NUM_PARALLEL" in out


def test_sandboxed_doctor(sandbox: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    config, root, _ = sandbox
    rc = run(["--config", str(config), "--root", str(root), "--json", "doctor"])
    doc = json.loads(capsys.readouterr().out)
    found = {f["code"] for f in doc["findings"]}
    assert {"service-not-checked", "unknown-variable", "models-dir-missing"} <= found
    assert rc == 0  # warnings and info only
    assert doc["status"]["in_sync"] is True


def test_missing_file_under_root_is_not_in_sync(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, 11434)
    assert run(["--config", str(config), "--root", str(tmp_path / "root"), "status"]) == 1
    assert run(["--config", str(config), "--root", str(tmp_path / "root"), "doctor"]) == 1
    assert "error[service-file-missing]" in capsys.readouterr().out


# -- live, with launchd's recorded `print` output -------------------------------------------------------


def launchd_print(env_line: str) -> str:
    """A VERBATIM `launchctl print` of a running agent, with the VERBATIM Ollama environment line added.

    Both pieces are real recordings (fixtures/macos INDEX.md): the environment block of the first gets the
    `OLLAMA_NUM_PARALLEL => 4` line from `launchctl print … | grep` of a real Ollama agent.
    """
    shared = require_shared() / "fixtures/macos"
    text = (shared / "launchctl-print-gui-agent-running-keepalive.txt").read_text()
    line = (shared / "launchctl-print-ollama-env-grep.txt").read_text().strip()
    assert line == "OLLAMA_NUM_PARALLEL => 4"
    return text.replace("\tenvironment = {\n", "\tenvironment = {\n\t\t" + env_line + "\n\t\t" + line + "\n")


@pytest.fixture
def live(tmp_path: Path) -> tuple[Context, FakeRunner, int]:
    port = free_port()
    config = write_config(tmp_path, port)
    home = tmp_path / "Users/alice"
    machine = Machine("Darwin", str(home), 501, "alice", str(tmp_path / "state"))
    runner = FakeRunner()
    runner.add(["/opt/homebrew/bin/ollama", "--version"], completed([], 0, "ollama version is 0.12.3\n"))
    ctx = Context(GlobalOptions(config=str(config)), environ={"PATH": "/nowhere"}, runner=runner,
                  machine_override=machine)
    prepared = prepare(ctx)
    target = prepared.rendered.target
    assert prepared.rendered.content is not None and target.log_path is not None
    ctx.files.write_atomic(target.path, prepared.rendered.content)
    shared = require_shared()
    server_lines = (shared / "fixtures/ollama/server-config-lines.md").read_text().split("```")[1::2][0]
    log = server_lines.replace("OLLAMA_NUM_PARALLEL:1", "OLLAMA_NUM_PARALLEL:4").replace(
        "OLLAMA_HOST:http://127.0.0.1:11434", f"OLLAMA_HOST:http://127.0.0.1:{port}")
    ctx.files.write_atomic(target.log_path, log.encode())
    runner.add(["launchctl", "print", "gui/501/com.github.ollama"],
               completed([], 0, launchd_print(f"OLLAMA_HOST => 127.0.0.1:{port}")))
    runner.add(["launchctl", "print-disabled", "gui/501"],
               completed([], 0, 'disabled services = {\n\t"com.github.ollama" => enabled\n}\n'))
    recorded = Path(__file__).resolve().parent.parent / "fixtures" / "launchctl"  # INDEX.md there
    runner.add(["launchctl", "print", "gui/501"],
               completed([], 0, (recorded / "print-gui-domain-ollama-jobs-RECONSTRUCTED.txt").read_text()))
    runner.add(["launchctl", "print", "user/501"],
               completed([], 0, (recorded / "print-user-domain-ollama-job-RECONSTRUCTED.txt").read_text()))
    return ctx, runner, port


def test_live_status_uses_launchd_print(live: tuple[Context, FakeRunner, int],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    ctx, runner, _ = live
    result = status(ctx)
    doc = status_json(result)
    svc = doc["service"]
    assert (svc["state"], svc["pid"], svc["domain"], svc["enabled"]) == ("running", 17594, "gui/501", True)
    assert svc["last_exit"] == -15 and "SIGTERM" in svc["last_exit_meaning"] and not svc["last_exit_failed"]
    rows = {row.variable: row for row in result.rows}
    assert rows["OLLAMA_NUM_PARALLEL"].manager.mark is Mark.IN_SYNC  # from launchd's environment block
    assert rows["OLLAMA_NUM_PARALLEL"].server.mark is Mark.IN_SYNC  # from the server's log
    assert rows["OLLAMA_NUM_CTX"].manager.mark is Mark.MISSING  # launchd does not pass it (the file does)
    assert rows["OLLAMA_NUM_CTX"].server.mark is Mark.UNREAD  # and the server does not read it: a warning
    assert any(w.startswith("OLLAMA_NUM_CTX is declared but this server does not read it") for w in doc["warnings"])
    assert doc["healthy"] is False  # nothing answers on the declared port here
    assert any("OLLAMA_NUM_CTX: declared '8192', the manager lacks it" in p for p in doc["problems"])
    assert any("does not answer on the declared address" in p for p in doc["problems"])
    assert not doc["server"]["declared_address_answered"]
    assert ("launchctl", "print", "gui/501/com.github.ollama") in runner.calls
    print_plain(blocks(doc, result), verdict(doc))
    out = capsys.readouterr().out
    assert "running · pid 17594" in out and "✗ missing" in out and "not healthy" in out


def test_live_doctor_names_launchd_jobs(live: tuple[Context, FakeRunner, int]) -> None:
    ctx, _, _ = live
    result = doctor(ctx)
    found = {f.code: f for f in result.findings}
    jobs = {f.message.split()[3]: f for f in result.findings if f.code == "other-launchd-job"}
    app = jobs["application.com.electron.ollama.61282955.61282961"]
    assert "in gui/501 (running, pid 70718)" in app.message and app.hint.startswith("osascript")
    assert jobs["homebrew.mxcl.ollama"].hint == "brew services stop ollama"
    assert jobs["com.github.ollama.old"].hint == "launchctl bootout gui/501/com.github.ollama.old"
    ssh = jobs["com.example.ollama-ssh"]  # found in the background domain, which `launchctl list` over a GUI misses
    assert "in user/501 (loaded, not running, last exit 78" in ssh.message
    assert ssh.hint == "launchctl bootout user/501/com.example.ollama-ssh"
    assert "com.github.ollama" not in jobs and "net.jwpconsulting.postgresql" not in jobs  # ours; not Ollama
    assert "server-not-answering" in found and not result.ok
    assert found["server-ignores-variable"].variable == "OLLAMA_NUM_CTX"
    assert result.judged_against == "Ollama 0.12.3"


def test_rich_view_shows_the_same_tables(live: tuple[Context, FakeRunner, int],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    ctx, _, _ = live
    result = status(ctx)
    doc = status_json(result)
    print_rich(blocks(doc, result), verdict(doc))
    out = capsys.readouterr().out
    for text in ("settings", "OLLAMA_NUM_PARALLEL", "manager", "server", "running · pid 17594", "not healthy"):
        assert text in out


def test_tailscale_name_and_addresses_in_status(live: tuple[Context, FakeRunner, int], tmp_path: Path) -> None:
    ctx, runner, _ = live
    folder = tmp_path / "tsbin"
    folder.mkdir()
    (folder / "tailscale").write_text("")  # found on PATH; the runner answers for it
    ctx.environ = {"PATH": str(folder)}
    fixture = require_shared() / "fixtures/macos/tailscale-status-json-running-RECONSTRUCTED.json"
    runner.add([str(folder / "tailscale"), "status", "--json"], completed([], 0, fixture.read_text()))
    doc = status_json(status(ctx))
    assert doc["server"]["tailscale"] == {"installed": True, "running": True, "backend_state": "Running",
                                          "ips": ["100.101.102.103", "fd7a:115c:a1e0::1234:5678"],
                                          "dns_name": "studio.tail1234.ts.net"}


def test_status_shows_the_watchers_newest_run(sandbox: tuple[Path, Path, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config, root, _ = sandbox
    ctx = Context(GlobalOptions(config=str(config), root=str(root)))
    run_once(ctx, trigger="launchd", apply_once=lambda _: (True, True, "applied: generation 3"))
    run_once(ctx, trigger="launchd", apply_once=lambda _: (False, False, "blocked: port 0 is not a TCP port"))

    assert run(["--config", str(config), "--root", str(root), "--json", "status"]) == 0
    watch = json.loads(capsys.readouterr().out)["watch"]
    assert (watch["ok"], watch["exit_code"], watch["trigger"]) == (False, 1, "launchd")
    assert watch["message"] == "blocked: port 0 is not a TCP port"

    run(["--config", str(config), "--root", str(root), "status"])
    assert "FAILED (exit 1) — blocked: port 0 is not a TCP port" in capsys.readouterr().out


def test_status_without_a_watcher_has_no_watch_run(sandbox: tuple[Path, Path, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config, root, _ = sandbox
    run(["--config", str(config), "--root", str(root), "--json", "status"])
    assert json.loads(capsys.readouterr().out)["watch"] is None


class _SlowModels(BaseHTTPRequestHandler):
    """Answers /api/version at once and the model lists only after a long pause."""

    def do_GET(self) -> None:  # http.server's method name
        if self.path != "/api/version":
            time.sleep(2.0)
        body = json.dumps({"version": "0.32.15"} if self.path == "/api/version" else {"models": []}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # status stopped waiting for the slow answer and closed the connection
            return

    def log_message(self, format: str, *args: object) -> None:  # BaseHTTPRequestHandler's name
        pass


def test_a_probe_that_answered_is_kept_when_its_model_reads_run_out_of_time(
        live: tuple[Context, FakeRunner, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #10 item 5: the probe results were copied before the probe threads had written them."""
    ctx, _, port = live
    server = ThreadingHTTPServer(("127.0.0.1", port), _SlowModels)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real = observe_module.parallel
    monkeypatch.setattr(observe_module, "parallel", lambda tasks, budget: real(tasks, 0.4))  # shorter than the reads
    try:
        doc = status_json(status(ctx))
    finally:
        server.shutdown()
        server.server_close()
    assert "127.0.0.1" in doc["server"]["answered_on"]  # before the fix: "timed out"
    assert doc["server"]["version"] == "0.32.15"


def test_status_over_ssh_warns_that_the_agent_will_not_be_back_after_a_reboot(
        live: tuple[Context, FakeRunner, int], capsys: pytest.CaptureFixture[str]) -> None:
    ctx, runner, port = live
    no_gui = (require_shared() / "fixtures/macos/launchctl-print-no-gui-domain-112-RECONSTRUCTED.stderr").read_text()
    runner.script[("launchctl", "print", "gui/501/com.github.ollama")] = [completed([], 112, "", no_gui)]
    runner.add(["launchctl", "print", "user/501/com.github.ollama"],
               completed([], 0, launchd_print(f"OLLAMA_HOST => 127.0.0.1:{port}")))
    runner.add(["launchctl", "print-disabled", "user/501"], completed([], 0, "disabled services = {\n}\n"))
    result = status(ctx)
    doc = status_json(result)
    assert doc["service"]["domain"] == "user/501"
    (warning,) = doc["service"]["warnings"]
    assert "after a reboot launchd does not load it again until alice logs in" in warning
    print_plain(blocks(doc, result), verdict(doc))
    assert "warning: loaded in user/501, not gui/501" in capsys.readouterr().out
