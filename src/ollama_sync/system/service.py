"""The service-manager seam: one Protocol, one implementation per backend, chosen by the target's backend.

Each implementation (launchctl.py, systemctl.py, supervisord.py) builds exact argv lists, runs them
through the Runner, and parses the manager's output with pure functions kept next to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from ollama_sync.core.observation import ServiceState
from ollama_sync.core.settings import Backend
from ollama_sync.core.target import Machine, Target
from ollama_sync.system.files import Files

if TYPE_CHECKING:
    from ollama_sync.system.runner import Runner


class Adapters(Protocol):
    """What a manager is built from (app.context.Context provides it)."""

    @property
    def runner(self) -> Runner: ...

    @property
    def files(self) -> Files: ...

    @property
    def machine(self) -> Machine: ...

    @property
    def environ(self) -> Mapping[str, str]: ...


class ServiceManager(Protocol):
    """What apply, status and doctor need from a service manager."""

    backend: Backend

    def state(self, target: Target) -> ServiceState:
        """The service as the manager sees it: loaded/running, pid, last exit, enabled, environment passed."""
        ...

    def load(self, target: Target) -> None:
        """Make the manager read the (new) service file and (re)start the server from it."""
        ...

    def restart(self, target: Target) -> None:
        """Restart the server with the file the manager already has."""
        ...

    def stop(self, target: Target) -> None:
        """Stop the server and unload the service (so it does not come back until loaded again)."""
        ...

    def log_tail(self, target: Target, lines: int = 200) -> list[str]:
        """The newest lines of the server's own output (log file or journal), oldest first."""
        ...


def manager_for(ctx: Adapters, backend: Backend) -> ServiceManager:
    """The real manager for a backend on this machine."""
    match backend:
        case Backend.LAUNCHD:
            from ollama_sync.system.launchctl import LaunchdManager  # noqa: PLC0415  # 17 ms: only the backend in use

            return LaunchdManager(ctx.runner, ctx.files, ctx.machine)
        case Backend.SYSTEMD:
            from ollama_sync.system.systemctl import SystemdManager  # noqa: PLC0415  # 15 ms: only the backend in use

            return SystemdManager(ctx.runner, ctx.files, ctx.machine)
        case Backend.SUPERVISORD:
            from ollama_sync.system.supervisord import SupervisorManager  # noqa: PLC0415  # 110 ms (xmlrpc.client): only the backend in use

            return SupervisorManager(ctx.runner, ctx.files, ctx.machine, ctx.environ)
