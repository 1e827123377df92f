"""Who holds a TCP port on this machine, and whether an address answers on it.

psutil's `net_connections` reads the kernel's socket tables (on Linux every process's, as root); on
macOS it needs root, so there lsof is asked instead (system/lsof.py).
"""

from __future__ import annotations

import contextlib
import socket
import sys

from ollama_sync.core.network import Listener, url_host
from ollama_sync.system import lsof
from ollama_sync.system.runner import Runner


def listeners_on(port: int, runner: Runner, *, platform: str = sys.platform) -> list[Listener]:
    """Every process listening on TCP port (pid None when the kernel does not say whose socket it is)."""
    import psutil  # noqa: PLC0415  # imported only when a port is looked up

    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, PermissionError):
        if platform != "darwin":
            return []

        return [_with_command(item) for item in lsof.listeners_on(runner, port)]
    found = [Listener(c.pid, "", _address(c.laddr.ip, c.laddr.port)) for c in connections
             if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port]
    return [_with_command(item) for item in found]


def _address(ip: str, port: int) -> str:
    host = "*" if ip in ("0.0.0.0", "::", "") else url_host(ip)
    return f"{host}:{port}"


def _with_command(listener: Listener) -> Listener:
    """The listener with its full command line when psutil can read it (else lsof's short name is kept)."""
    command = command_line(listener.pid) if listener.pid is not None else None
    return Listener(listener.pid, command or listener.command, listener.address)


def command_line(pid: int) -> str | None:
    """A process's command line as one string, or None when it is gone or hidden."""
    import psutil  # noqa: PLC0415  # 12-17 ms (psutil): only when a process is looked up

    try:
        proc = psutil.Process(pid)
        args = proc.cmdline()
        return " ".join(args) if args else proc.name()
    except (psutil.Error, OSError):
        return None


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to host:port is accepted within timeout."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False
