"""Observed state: what the service manager, the server and the machine report (types only, no parsing)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RunState(StrEnum):
    """The service as its manager sees it."""

    NOT_LOADED = "not loaded"  # unknown to the manager (no bootstrap / no unit / no program)
    STOPPED = "stopped"  # loaded but no process
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"  # the manager gave up (systemd failed, supervisord FATAL/BACKOFF)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ServiceState:
    """One service as its manager reports it."""

    state: RunState
    pid: int | None = None
    last_exit: int | None = None  # last exit status (launchd "last exit code", systemd ExecMainStatus)
    enabled: bool | None = None  # None: the manager cannot say
    environment: tuple[tuple[str, str], ...] | None = None  # what the manager passes; None: cannot be read
    domain: str | None = None  # launchd: "gui/501" or "user/501"; systemd: "user"/"system"
    detail: str = ""  # anything worth showing (e.g. the fallback domain was used)
    warnings: tuple[str, ...] = ()  # what the user must know even when all is well (e.g. not back after a reboot)
    runs: int | None = None  # grows each time the manager starts the server again (launchd `runs`,
    #                          systemd NRestarts); None when the manager keeps no such count (supervisord)
    crash_loop: bool = False  # the manager reports the server exiting and being started again (or given up)
    crash_reason: str = ""  # the manager's words for the crash loop (last exit explained), when crash_loop

    @property
    def is_running(self) -> bool:
        """True when a server process is up."""
        return self.state is RunState.RUNNING and self.pid is not None


def restarted_since(before: ServiceState, after: ServiceState) -> str | None:
    """Why `after` is not the same run of the server as `before` (another pid, a grown run count), or None.

    Used after a reload: once our server answers, a later look must still show that very process.
    """
    if before.pid is not None and after.pid != before.pid:
        now = f"pid {after.pid}" if after.pid is not None else "no process"
        return f"the server restarted (pid {before.pid} → {now})"
    if before.runs is not None and after.runs is not None and after.runs > before.runs:
        return f"the service manager started the server again ({before.runs} → {after.runs} runs)"
    return None


@dataclass(frozen=True)
class ServerConfig:
    """What the server resolved: the `server config` line of its log, and the version it announced."""

    env: tuple[tuple[str, str], ...]
    version: str | None = None
    line_number: int | None = None  # in the log it was read from

    def get(self, name: str) -> str | None:
        """The resolved value of a variable, or None when the server does not know it."""
        return dict(self.env).get(name)
