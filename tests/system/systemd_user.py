"""A throwaway systemd user manager for tests and fixture recording (root + unshare; the host is unchanged).

systemd refuses to run a user instance unless /run/systemd/system exists ("booted with systemd"), so it
runs in a private mount namespace with a tmpfs over /run. systemctl reaches it from outside through
`$XDG_RUNTIME_DIR/systemd/private`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

SYSTEMD = "/usr/lib/systemd/systemd"


def can_start() -> str | None:
    """None when a user manager can be started here, else the reason it cannot."""
    if os.getuid() != 0:
        return "starting a systemd user manager in a private mount namespace needs root"
    if not Path(SYSTEMD).exists() or shutil.which("unshare") is None or shutil.which("systemctl") is None:
        return "systemd, systemctl or unshare is not installed"
    return None


def start(base: Path, timeout: float = 10.0) -> subprocess.Popen[bytes]:
    """Start a user manager whose runtime dir is base/run and home base/home; wait for its socket."""
    run, home = base / "run", base / "home"
    run.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    script = ("mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && "
              f'XDG_RUNTIME_DIR="{run}" HOME="{home}" exec {SYSTEMD} --user')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_"))}
    manager = subprocess.Popen(["unshare", "-m", "sh", "-c", script], start_new_session=True, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not (run / "systemd" / "private").exists():
        if manager.poll() is not None or time.monotonic() > deadline:
            stop(manager)
            raise RuntimeError("the systemd user manager did not start")
        time.sleep(0.05)
    return manager


def stop(manager: subprocess.Popen[bytes]) -> None:
    """Stop the manager (it stops its units first) and reap it."""
    if manager.poll() is None:
        os.killpg(manager.pid, signal.SIGTERM)
        try:
            manager.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(manager.pid, signal.SIGKILL)
            manager.wait(timeout=10)
