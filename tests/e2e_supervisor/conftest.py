"""End-to-end fixtures: a real supervisord, the stand-in server, and `ollama-sync` run as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Target
from ollama_sync.system.files import Files
from ollama_sync.system.ollama_api import OllamaApi
from ollama_sync.system.server_log import parse_server_config
from ollama_sync.system.supervisord import SupervisorManager
from tests.standin import install_fake_ollama
from tests.supervisor_harness import Supervisord, free_port, running_supervisord

CRASH_AT = Path(__file__).with_name("crash_at.py")  # the CLI, killed at a named transaction step

@dataclass
class Setup:
    """One supervisord, one stand-in binary, one ollama-sync config and state directory."""

    sv: Supervisord
    ollama: Path
    config: Path
    state: Path
    home: Path
    port: int

    def declare(self, port: int | None = None, extra: str = "", service: str = "") -> None:
        """Write the config: host 127.0.0.1, the port, extra `[ollama]` lines and extra `[service]` lines."""
        self.config.write_text(self.sv.config_text(str(self.ollama), port or self.port, extra_ollama=extra,
                                                   backend_extra=service))

    def env(self, **extra: str) -> dict[str, str]:
        """The environment ollama-sync runs with."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home), "LANG": "C.UTF-8",
                "OLLAMA_SYNC_STATE_DIR": str(self.state), **self.sv.environ(), **extra}

    def argv(self, *args: str, crash_at: str | None = None) -> list[str]:
        """The command line of one ollama-sync run (crash_at: killed with SIGKILL when apply reaches that step)."""
        entry = ["-m", "ollama_sync"] if crash_at is None else [str(CRASH_AT), crash_at]
        return [sys.executable, *entry, "--config", str(self.config), *args]

    def run(self, *args: str, crash_at: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run ollama-sync to completion (stdin is not a terminal)."""
        return subprocess.run(self.argv(*args, crash_at=crash_at), env=self.env(**extra), capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)

    def apply(self, *args: str, crash_at: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        """`apply --yes --timeout 15` plus args."""
        return self.run("apply", "--yes", "--timeout", "15", *args, crash_at=crash_at, **extra)

    def apply_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        """`--json apply --yes`: exit status and document."""
        done = self.run("--json", "apply", "--yes", "--timeout", "15", *args)
        return done.returncode, json.loads(done.stdout)

    @property
    def target(self) -> Target:
        """The target ollama-sync resolves for this config."""
        return Target(Backend.SUPERVISORD, str(self.sv.include_dir / "ollama.conf"), "ollama", str(self.ollama),
                      Scope.USER, str(self.state / "logs" / "ollama.log"))

    def manager(self) -> SupervisorManager:
        """A SupervisorManager talking to this supervisord (for the manager's view)."""
        from ollama_sync.core.target import Machine  # noqa: PLC0415

        machine = Machine("Linux", str(self.home), os.getuid(), "test", str(self.state))
        from ollama_sync.system.runner import SubprocessRunner  # noqa: PLC0415

        return SupervisorManager(SubprocessRunner(), Files(), machine, self.sv.environ())

    def pid(self) -> int | None:
        """The server's pid as supervisord reports it."""
        return self.sv.pid("ollama")

    def manager_env(self) -> dict[str, str]:
        """(a) the environment supervisord passed to the running server."""
        return dict(self.manager().state(self.target).environment or ())

    def server_config(self) -> dict[str, str]:
        """(b) the newest `server config` map in the server's log."""
        config = parse_server_config(self.manager().log_tail(self.target, 400))
        assert config is not None
        return dict(config.env)

    def answers(self, port: int | None = None) -> bool:
        """(c) the API answers on 127.0.0.1:port."""
        return OllamaApi(f"http://127.0.0.1:{port or self.port}", timeout=1).ping()

    def history(self) -> list[dict[str, Any]]:
        """`history --json` generations."""
        done = self.run("--json", "history")
        assert done.returncode == 0, done.stderr
        generations: list[dict[str, Any]] = json.loads(done.stdout)["generations"]
        return generations

    def wait_for(self, path: Path, timeout: float = 20) -> None:
        """Wait until a file exists."""
        deadline = time.monotonic() + timeout
        while not path.exists():
            assert time.monotonic() < deadline, f"{path} never appeared"
            time.sleep(0.02)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """A running supervisord and a config declaring the stand-in on a free port (not yet applied)."""
    home = tmp_path / "home"
    home.mkdir()
    with running_supervisord(home) as sv:
        s = Setup(sv, install_fake_ollama(tmp_path / "bin"), tmp_path / "config.toml", tmp_path / "state", home,
                  free_port())
        s.declare()
        yield s
