"""A REAL supervisord for tests: started in a temporary folder with a unix socket and an include dir.

Use the `supervisord` fixture (import it into a test module or a conftest), or the `running_supervisord`
context manager. The instance knows the environment ollama-sync needs to find it
(`OLLAMA_SYNC_SUPERVISOR_CONF`), and a config file text pointing `include_dir` at its include folder.

    from tests.supervisor_harness import Supervisord, supervisord  # noqa: F401  (the fixture)

    @pytest.mark.slow
    def test_x(supervisord: Supervisord) -> None:
        supervisord.write_program("demo", "[program:demo]\\ncommand=sleep 100\\n")
        supervisord.ctl("update")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ollama_sync.system.supervisor_conf import CONF_ENV, parse_conf
from ollama_sync.system.supervisor_rpc import SupervisorRpc
from tests.conftest import require_tool
from tests.standin import install_fake_ollama

BIN = Path(sys.executable).parent


def supervisor_tool(name: str) -> str:
    """supervisord / supervisorctl from this virtualenv, else from PATH (skipped, or failed in CI, if absent)."""
    local = BIN / name
    return str(local) if local.exists() else require_tool(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Supervisord:
    """One running supervisord: its folder, config, include folder, socket and process."""

    folder: Path  # short path under /tmp: unix socket paths are limited to ~100 bytes
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # the environment supervisord (and its programs) got

    @property
    def conf(self) -> Path:
        """supervisord.conf."""
        return self.folder / "supervisord.conf"

    @property
    def include_dir(self) -> Path:
        """The folder supervisord includes `*.conf` program sections from."""
        return self.folder / "programs"

    @property
    def socket(self) -> Path:
        """The unix socket of its XML-RPC server."""
        return self.folder / "supervisor.sock"

    @property
    def log(self) -> Path:
        """supervisord's own log."""
        return self.folder / "supervisord.log"

    def environ(self) -> dict[str, str]:
        """Variables that make ollama-sync talk to this supervisord."""
        return {CONF_ENV: str(self.conf)}

    def rpc(self) -> SupervisorRpc:
        """An API client for it."""
        return SupervisorRpc(parse_conf(self.conf.read_text(), str(self.conf), {}), timeout=10)

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `supervisorctl -c <conf> args…`."""
        return subprocess.run([supervisor_tool("supervisorctl"), "-c", str(self.conf), *args],
                              capture_output=True, text=True, check=check, timeout=60)

    def write_program(self, name: str, text: str) -> Path:
        """Write a program section into the include folder (not yet read: call `ctl("update")`)."""
        path = self.include_dir / f"{name}.conf"
        path.write_text(text)
        return path

    def info(self, name: str) -> dict[str, object] | None:
        """getProcessInfo, or None when supervisord has no such program."""
        from ollama_sync.system.supervisor_rpc import BAD_NAME, Fault  # noqa: PLC0415

        try:
            info: dict[str, object] = self.rpc().call("supervisor.getProcessInfo", name)
        except Fault as fault:
            if fault.faultCode == BAD_NAME:
                return None
            raise
        return info

    def pid(self, name: str) -> int | None:
        """The program's pid (None when not running or unknown)."""
        info = self.info(name)
        return int(info["pid"]) or None if info else None  # type: ignore[call-overload]

    def config_text(self, ollama: str, port: int, *, extra_ollama: str = "", backend_extra: str = "") -> str:
        """An ollama-sync config.toml declaring a supervisord service in this include folder."""
        return (
            "[service]\n"
            'backend = "supervisord"\n'
            f'binary = "{ollama}"\n'
            f'include_dir = "{self.include_dir}"\n'
            f"{backend_extra}"
            "\n[ollama]\n"
            f'host = "127.0.0.1"\nport = {port}\n'
            f"{extra_ollama}"
        )


def _conf_text(sv: Supervisord) -> str:
    return (
        "[unix_http_server]\n"
        f"file={sv.socket}\n"
        "chmod=0700\n\n"
        "[supervisord]\n"
        f"logfile={sv.log}\n"
        f"pidfile={sv.folder / 'supervisord.pid'}\n"
        f"childlogdir={sv.folder}\n"
        "nodaemon=true\nloglevel=info\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        "[supervisorctl]\n"
        f"serverurl=unix://{sv.socket}\n\n"
        "[include]\n"
        f"files = {sv.include_dir}/*.conf\n"
    )


@contextmanager
def running_supervisord(home: Path | None = None, *, timeout: float = 15.0,
                        wrapper: tuple[str, ...] = ()) -> Iterator[Supervisord]:
    """Start supervisord in a fresh /tmp folder; stop it (and its programs) and delete the folder afterwards.

    wrapper prefixes its command line, e.g. ("ip", "netns", "exec", NAME) to run it in a network namespace.
    """
    exe = supervisor_tool("supervisord")
    sv = Supervisord(Path(tempfile.mkdtemp(prefix="sv-", dir="/tmp")))
    sv.include_dir.mkdir()
    sv.conf.write_text(_conf_text(sv))
    sv.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home or sv.folder),
              "LANG": "C.UTF-8"}
    sv.process = subprocess.Popen([*wrapper, exe, "-c", str(sv.conf)], env=sv.env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_ready(sv, timeout)
        yield sv
    finally:
        _stop(sv)
        shutil.rmtree(sv.folder, ignore_errors=True)


def _wait_ready(sv: Supervisord, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert sv.process is not None
        if sv.process.poll() is not None:
            raise RuntimeError(f"supervisord exited at start:\n{sv.log.read_text() if sv.log.exists() else ''}")
        if sv.socket.exists():
            try:
                if sv.rpc().call("supervisor.getState")["statename"] == "RUNNING":
                    return
            except Exception:  # not answering yet
                pass
        time.sleep(0.02)
    raise RuntimeError(f"supervisord did not answer within {timeout} s")


def _stop(sv: Supervisord) -> None:
    """Kill the programs' process groups, then supervisord (a clean SIGTERM shutdown costs ~2 s of its ticks)."""
    process = sv.process
    if process is None or process.poll() is not None:
        return
    try:
        infos = sv.rpc().call("supervisor.getAllProcessInfo")
    except Exception:  # supervisord not answering: there is nothing to ask it
        infos = []
    for info in infos:
        if info.get("pid"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(info["pid"]), signal.SIGKILL)  # supervisord gives each program its own group
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=15)


@pytest.fixture
def supervisord(tmp_path: Path) -> Iterator[Supervisord]:
    """A real supervisord for one test (programs get HOME = a temporary folder)."""
    home = tmp_path / "sv-home"
    home.mkdir()
    with running_supervisord(home) as sv:
        yield sv


@pytest.fixture
def fake_ollama(tmp_path: Path) -> Path:
    """The stand-in server installed as an executable `ollama` (tests/standin: NOT the real Ollama)."""
    return install_fake_ollama(tmp_path / "bin")
