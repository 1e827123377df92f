"""`ollama-sync watch`: installing the watcher service, the run log, and the debounced foreground loop."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.watch import run_once, watch_foreground, watchfiles_batches
from ollama_sync.app.watch_log import KEEP_RECORDS, last_watch_result, read_records
from ollama_sync.cli import run
from ollama_sync.core.target import Machine
from ollama_sync.errors import ConfigError
from tests.fakes import FakeRunner, completed
from tests.processes import CLI_WITH_CTRL_C, Lines, stop, wait_until

SYSTEMD = '[service]\nbackend = "systemd"\nbinary = "/usr/bin/ollama"\n[ollama]\nport = 11434\n'


def config(tmp_path: Path, text: str = SYSTEMD) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def context(tmp_path: Path, cfg: Path, runner: FakeRunner | None = None, *, root: bool = True) -> Context:
    machine = Machine("Linux", "/home/alice", 1000, "alice", str(tmp_path / "state"))
    return Context(GlobalOptions(config=str(cfg), root=str(tmp_path / "root") if root else None),
                   environ={"PATH": "/usr/bin"}, runner=runner or FakeRunner(), machine_override=machine)


def test_install_and_uninstall_under_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    root = tmp_path / "root"
    args = ["--root", str(root), "--config", str(cfg), "watch"]
    assert run([*args, "--install"]) == 0
    out = capsys.readouterr().out
    assert "installed" in out and f"watches: {cfg}" in out and "not loaded" in out
    units = sorted(p.name for p in root.rglob("ollama-sync-watch.*"))
    assert units == ["ollama-sync-watch.path", "ollama-sync-watch.service"]
    assert run([*args, "--install"]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert run(["--json", *args, "--uninstall"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "removed"
    assert not list(root.rglob("ollama-sync-watch.*"))
    assert run([*args, "--uninstall"]) == 0
    assert "not installed" in capsys.readouterr().out


def test_launchd_watcher_names_the_declaration_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decl = tmp_path / "decl.toml"
    decl.write_text("[ollama]\nport = 1\n")
    cfg = config(tmp_path, 'source = "decl.toml"\n[service]\nbackend = "launchd"\n'
                 'binary = "/opt/homebrew/bin/ollama"\n')
    assert run(["--json", "--root", str(tmp_path / "root"), "--config", str(cfg), "watch", "--install"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["name"] == "com.github.ollama.watch"
    assert doc["watch_paths"] == [str(cfg), str(decl)]
    assert doc["command"] == "watch" and doc["runs"][-4:] == ["--config", str(cfg), "watch", "--once"]


def test_supervisord_is_not_applicable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path, '[service]\nbackend = "supervisord"\n[ollama]\nport = 1\n')
    assert run(["--root", str(tmp_path / "root"), "--config", str(cfg), "watch", "--install"]) == 2
    assert "supervisord has no file-watching mechanism" in capsys.readouterr().err


def test_never_replaces_a_foreign_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    unit = tmp_path / "root/home/alice/.config/systemd/user/ollama-sync-watch.path"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Path]\nPathChanged=/mine\n")
    with pytest.raises(Exception, match="not written by ollama-sync"):
        from ollama_sync.app.watch_service import install_watcher  # noqa: PLC0415

        install_watcher(context(tmp_path, cfg))
    assert unit.read_text() == "[Path]\nPathChanged=/mine\n"


def test_systemd_install_loads_the_path_unit(tmp_path: Path) -> None:
    from ollama_sync.app.watch_service import install_watcher, uninstall_watcher  # noqa: PLC0415

    runner = FakeRunner()
    for argv in (["systemctl", "--user", "daemon-reload"],
                 ["systemctl", "--user", "enable", "--now", "ollama-sync-watch.path"],
                 ["systemctl", "--user", "disable", "--now", "ollama-sync-watch.path"]):
        runner.add(argv, completed(argv))
    cfg = config(tmp_path)
    home = tmp_path / "home"
    ctx = context(tmp_path, cfg, runner, root=False)
    ctx.machine_override = Machine("Linux", str(home), 1000, "alice", str(tmp_path / "state"))
    assert install_watcher(ctx).action == "installed"
    assert runner.calls == [("systemctl", "--user", "daemon-reload"),
                            ("systemctl", "--user", "enable", "--now", "ollama-sync-watch.path")]
    assert (home / ".config/systemd/user/ollama-sync-watch.service").exists()
    runner.calls.clear()
    assert uninstall_watcher(ctx).action == "removed"
    assert runner.calls == [("systemctl", "--user", "disable", "--now", "ollama-sync-watch.path"),
                            ("systemctl", "--user", "daemon-reload")]
    assert not (home / ".config/systemd/user/ollama-sync-watch.path").exists()


def test_runs_are_recorded_and_failures_visible(tmp_path: Path) -> None:
    ctx = context(tmp_path, config(tmp_path))
    assert last_watch_result(ctx) is None
    run_once(ctx, trigger="launchd", apply_once=lambda c: (True, True, "applied: generation 2"))

    def broken(c: Context) -> tuple[bool, bool, str]:
        raise ConfigError("config.toml:3: unknown option 'prot'", hint="did you mean 'port'?")

    record = run_once(ctx, trigger="launchd", apply_once=broken)
    assert (record.ok, record.exit_code) == (False, 2)
    last = last_watch_result(ctx)
    assert last == record and "did you mean 'port'?" in last.message
    assert [r.ok for r in read_records(ctx)] == [True, False]


def numbered_run(i: int, _ctx: Context) -> tuple[bool, bool, str]:
    return True, False, f"run {i}"


def test_log_is_bounded(tmp_path: Path) -> None:
    ctx = context(tmp_path, config(tmp_path))
    for i in range(KEEP_RECORDS + 5):
        run_once(ctx, trigger="once", apply_once=functools.partial(numbered_run, i))
    records = read_records(ctx)
    assert len(records) == KEEP_RECORDS and records[-1].message == f"run {KEEP_RECORDS + 4}"


def test_once_cli_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path, '[service]\nbackend = "supervisord"\nbinary = "/nonexistent/ollama"\n[ollama]\nport = 1\n')
    rc = run(["--root", str(tmp_path / "root"), "--config", str(cfg), "watch", "--once"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.startswith("ok: applied")
    log = next((tmp_path / "root").rglob("watch.log"))
    assert json.loads(log.read_text().splitlines()[-1])["trigger"] == "once"


def test_debounced_changes_trigger_one_apply(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    ctx = context(tmp_path, cfg)
    applied: list[str] = []  # the port each apply saw in the file
    seen: list[set[str]] = []
    armed = threading.Event()

    def fake_apply(c: Context) -> tuple[bool, bool, str]:
        applied.append(cfg.read_text().split("port = ")[1].strip())
        return True, True, "applied"

    worker = threading.Thread(target=watch_foreground, kwargs={
        "ctx": ctx, "batches": watchfiles_batches(300), "apply_once": fake_apply, "max_runs": 2,
        "on_armed": lambda files: armed.set(), "on_run": lambda record, changed: seen.append(changed)},
        daemon=True)
    worker.start()
    assert armed.wait(timeout=10)
    for n in range(3):  # a burst of saves, closer together than the debounce
        cfg.write_text(SYSTEMD.replace("11434", str(11500 + n)))
    (tmp_path / "unrelated.txt").write_text("not watched")
    wait_until(lambda: len(applied) == 1, timeout=10, what="the first apply")
    cfg.write_text(SYSTEMD)  # a later, separate change: the second (and last) apply
    worker.join(timeout=10)
    assert not worker.is_alive()
    # One apply for the whole burst, with its last value; had the burst been split, the second apply
    # would have come from it (max_runs=2) and never seen 11434.
    assert applied == ["11502", "11434"]
    assert seen == [{str(cfg)}, {str(cfg)}]


def test_watching_is_printed_once_a_save_cannot_be_missed(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    root = tmp_path / "root"
    watcher = subprocess.Popen([*CLI_WITH_CTRL_C, "--root", str(root), "--config", str(cfg), "watch",
                                "--debounce", "50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OLLAMA_SYNC_STATE_DIR": str(tmp_path / "state")})
    try:
        assert watcher.stdout is not None and watcher.stderr is not None
        out, err = Lines(watcher.stdout), Lines(watcher.stderr)
        out.wait_for(lambda line: line.startswith(f"watching {cfg}"))
        cfg.write_text(SYSTEMD.replace("11434", "11600"))  # straight after the line: no pause
        out.wait_for(lambda line: "changed: " in line)
        out.wait_for(lambda line: line.strip().startswith("ok: applied"))
    finally:
        rc = stop(watcher)
    assert rc == 130
    err.wait_for(lambda line: "stopped watching" in line, timeout=5)
    assert 'Environment="OLLAMA_HOST=127.0.0.1:11600"' in next(root.rglob("ollama.service")).read_text()
