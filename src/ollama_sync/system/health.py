"""Waiting until a (re)started server is healthy: its API answers on the declared address, from a new process.

Polls the API and the service manager together, so a server that dies at start (a taken port, a bad
binary) fails the wait at once instead of after the whole timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.observation import RunState, ServiceState
from ollama_sync.core.target import Target
from ollama_sync.errors import OllamaSyncError, Unreachable
from ollama_sync.system.ollama_api import OllamaApi
from ollama_sync.system.service import ServiceManager

POLL_SECONDS: Final = 0.05
REPORT_SECONDS: Final = 1.0
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Health:
    """How the wait ended."""

    ok: bool
    elapsed: float
    reason: str  # why it failed, or what answered
    version: str | None = None
    state: ServiceState | None = None  # the manager's last view


def wait_healthy(api: OllamaApi, manager: ServiceManager | None, target: Target, *, timeout: float,
                 old_pid: int | None = None, progress: Progress | None = None) -> Health:
    """Poll until the API answers from a process other than old_pid, the manager reports a failure, or timeout."""
    start = time.monotonic()
    next_report = start + REPORT_SECONDS
    last_error = "not polled yet"
    state: ServiceState | None = None
    while True:
        elapsed = time.monotonic() - start
        state = _state(manager, target)
        if state is not None and state.state is RunState.FAILED:
            return Health(False, elapsed, f"the server failed to start ({state.detail or state.state.value})",
                          state=state)
        if state is None or state.pid is None or old_pid is None or state.pid != old_pid:
            try:
                version = api.version()
            except Unreachable as exc:
                last_error = exc.message
            else:
                return Health(True, elapsed, f"{api.url} answers (version {version})", version, state)
        else:
            last_error = f"the old server (pid {old_pid}) is still the one running"
        if elapsed >= timeout:
            return Health(False, elapsed, f"not healthy within {timeout:g} s: {last_error}", state=state)
        if progress is not None and time.monotonic() >= next_report:
            what = state.state.value if state is not None else "waiting"
            progress(f"waiting for {api.url}: {elapsed:.0f} s of {timeout:g} s ({what})")
            next_report += REPORT_SECONDS
        time.sleep(POLL_SECONDS)


def _state(manager: ServiceManager | None, target: Target) -> ServiceState | None:
    if manager is None:
        return None
    try:
        return manager.state(target)
    except OllamaSyncError:
        return None  # the manager being briefly busy is not the server failing
