"""SupervisorManager against a REAL supervisord supervising the stand-in server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ollama_sync.core.observation import RunState
from ollama_sync.core.render.supervisord import render_program
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target
from ollama_sync.errors import OllamaSyncError, Unsupported
from ollama_sync.system.files import Files
from ollama_sync.system.ollama_api import OllamaApi
from ollama_sync.system.runner import SubprocessRunner
from ollama_sync.system.server_log import parse_server_config
from ollama_sync.system.supervisor_conf import CONF_ENV, STANDARD_CONFS, find_conf, parse_conf
from ollama_sync.system.supervisord import SupervisorManager, program_env_keys, read_tail
from tests.supervisor_harness import Supervisord, fake_ollama, free_port, supervisord

__all__ = ["fake_ollama", "supervisord"]  # fixtures used below


def target_in(sv: Supervisord, binary: Path, tmp_path: Path) -> Target:
    return Target(Backend.SUPERVISORD, str(sv.include_dir / "ollama.conf"), "ollama", str(binary), Scope.USER,
                  str(tmp_path / "logs" / "ollama.log"))


def manager(sv: Supervisord, tmp_path: Path) -> SupervisorManager:
    machine = Machine("Linux", str(tmp_path), 1000, "u", str(tmp_path / "state"))
    return SupervisorManager(SubprocessRunner(), Files(), machine, sv.environ())


def wait_healthy(url: str, timeout: float = 10) -> None:
    api = OllamaApi(url, timeout=0.5)
    deadline = time.monotonic() + timeout
    while not api.ping():
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.05)


def write(target: Target, env: dict[str, str]) -> None:
    Path(target.path).write_bytes(render_program(env, target, "test.toml"))


@pytest.mark.slow
def test_load_state_restart_stop(supervisord: Supervisord, fake_ollama: Path, tmp_path: Path) -> None:
    target = target_in(supervisord, fake_ollama, tmp_path)
    mgr = manager(supervisord, tmp_path)
    assert mgr.state(target).state is RunState.NOT_LOADED

    port = free_port()
    write(target, {"OLLAMA_HOST": f"127.0.0.1:{port}", "OLLAMA_KEEP_ALIVE": "10m"})
    mgr.load(target)  # first load: the group is added
    wait_healthy(f"http://127.0.0.1:{port}")
    first = mgr.state(target)
    assert first.state in (RunState.STARTING, RunState.RUNNING) and first.pid == supervisord.pid("ollama")
    assert first.environment is not None
    env = dict(first.environment)
    assert env["OLLAMA_HOST"] == f"127.0.0.1:{port}" and env["OLLAMA_KEEP_ALIVE"] == "10m"
    assert "PATH" not in env and "SUPERVISOR_ENABLED" not in env  # inherited from supervisord, not passed
    config = parse_server_config(mgr.log_tail(target))
    assert config is not None and config.get("OLLAMA_KEEP_ALIVE") == "10m0s"

    write(target, {"OLLAMA_HOST": f"127.0.0.1:{port}", "OLLAMA_KEEP_ALIVE": "20m"})
    mgr.load(target)  # changed section: the group is replaced
    wait_healthy(f"http://127.0.0.1:{port}")
    second = mgr.state(target)
    assert second.pid != first.pid and dict(second.environment or ())["OLLAMA_KEEP_ALIVE"] == "20m"

    mgr.load(target)  # unchanged section: a plain restart
    wait_healthy(f"http://127.0.0.1:{port}")
    third = mgr.state(target)
    assert third.pid not in (None, second.pid)

    mgr.restart(target)
    wait_healthy(f"http://127.0.0.1:{port}")
    assert mgr.state(target).pid not in (None, third.pid)

    mgr.stop(target)
    assert mgr.state(target).state is RunState.NOT_LOADED
    assert not OllamaApi(f"http://127.0.0.1:{port}", timeout=0.5).ping()


@pytest.mark.slow
def test_failing_server_is_reported_failed(supervisord: Supervisord, fake_ollama: Path, tmp_path: Path) -> None:
    target = target_in(supervisord, fake_ollama, tmp_path)
    mgr = manager(supervisord, tmp_path)
    write(target, {"OLLAMA_HOST": f"127.0.0.1:{free_port()}", "STANDIN_FAIL": "exit-at-start"})
    mgr.load(target)
    deadline = time.monotonic() + 10
    while mgr.state(target).state is not RunState.FAILED:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    failed = mgr.state(target)
    assert failed.crash_loop and failed.runs is None
    assert failed.crash_reason.startswith("supervisord: ") and "Exited too quickly" in failed.crash_reason
    assert failed.last_exit is None  # supervisord does not keep the status of a too-quick exit
    assert any("stand-in told to exit at start" in line for line in mgr.log_tail(target))


@pytest.mark.slow
def test_section_outside_the_include_dir_is_refused(supervisord: Supervisord, fake_ollama: Path,
                                                    tmp_path: Path) -> None:
    target = Target(Backend.SUPERVISORD, str(tmp_path / "elsewhere" / "ollama.conf"), "ollama", str(fake_ollama),
                    Scope.USER, None)
    with pytest.raises(OllamaSyncError, match=r"supervisord does not read .*elsewhere/ollama.conf"):
        manager(supervisord, tmp_path).load(target)


def test_find_conf_prefers_the_environment(tmp_path: Path) -> None:
    conf = tmp_path / "s.conf"
    conf.write_text("[supervisord]\n")
    assert find_conf(Files(), {CONF_ENV: str(conf)}) == str(conf)
    with pytest.raises(Unsupported, match="no such file"):
        find_conf(Files(), {CONF_ENV: str(tmp_path / "missing.conf")})


def test_find_conf_standard_places_under_a_root(tmp_path: Path) -> None:
    with pytest.raises(Unsupported, match="no supervisord config found"):
        find_conf(Files(str(tmp_path)), {})
    real = tmp_path / STANDARD_CONFS[1].lstrip("/")
    real.parent.mkdir(parents=True)
    real.write_text("[supervisord]\n")
    assert find_conf(Files(str(tmp_path)), {}) == STANDARD_CONFS[1]


@pytest.mark.parametrize("text,url", [
    ("[unix_http_server]\nfile=%(here)s/s.sock\n", "unix:///etc/sv/s.sock"),
    ("[inet_http_server]\nport=127.0.0.1:9002\n", "http://127.0.0.1:9002"),
    ("[inet_http_server]\nport=:9003\n", "http://127.0.0.1:9003"),
    ("[supervisorctl]\nserverurl=unix://%(ENV_RUN)s/x.sock ; comment\n", "unix:///run/x.sock"),
    ("[supervisord]\n", "http://localhost:9001"),
])
def test_parse_conf_server_url(text: str, url: str) -> None:
    assert parse_conf(text, "/etc/sv/supervisord.conf", {"RUN": "/run"}).serverurl == url


def test_parse_conf_includes_and_credentials() -> None:
    conf = parse_conf("[include]\nfiles = conf.d/*.conf /opt/x/*.ini\n[supervisorctl]\nusername=a\npassword=b\n",
                      "/etc/sv/supervisord.conf", {})
    assert conf.includes == ("/etc/sv/conf.d/*.conf", "/opt/x/*.ini")
    assert conf.includes_path("/etc/sv/conf.d/ollama.conf") and not conf.includes_path("/etc/ollama.conf")
    assert (conf.username, conf.password) == ("a", "b")


def test_program_env_keys() -> None:
    section = """[program:o]\nenvironment=A="1,2",B='x=y',C=3\ncommand=x\n"""
    assert program_env_keys(section) == ["A", "B", "C"]


def test_read_tail(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    assert read_tail(str(log), 3) == ["line 997", "line 998", "line 999"]
    assert read_tail(str(tmp_path / "none"), 3) == []
