"""Waiting until a (re)started server is healthy: OUR process runs, owns the listening socket and answers.

Healthy means all of: the manager reports a server process (not the old one) running; that process or a
descendant owns the socket listening on the declared port (when the system lets us see socket owners);
the API answers there; the manager did not restart the process since it was first seen (pid and run
count unchanged); and this start's log holds no bind error. The manager and the log are polled together
with the API, so a server that dies at start (a taken port, a bad binary) or a crash loop fails the wait
at once, with the manager's and the log's reason, instead of after the whole timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.observation import RunState, ServiceState, restarted_since
from ollama_sync.core.target import Target
from ollama_sync.errors import OllamaSyncError, Unreachable
from ollama_sync.system.ollama_api import OllamaApi
from ollama_sync.system.service import ServiceManager

POLL_SECONDS: Final = 0.05
REPORT_SECONDS: Final = 1.0
BIND_ERRORS: Final = ("bind: ", "listen tcp")  # `Error: listen tcp 127.0.0.1:11434: bind: address already in use`
Progress = Callable[[str], None]
NewLog = Callable[[], list[str]]  # the server's log lines written since the reload
OwnsPort = Callable[[int], bool | None]  # does this pid (or a descendant) own the listening socket? None: unknown


@dataclass(frozen=True)
class Health:
    """How the wait ended."""

    ok: bool
    elapsed: float
    reason: str  # why it failed, or what answered
    version: str | None = None
    state: ServiceState | None = None  # the manager's last view
    foreign: bool = False  # the port is answered or held by a process outside our service


@dataclass
class _Watch:
    """What the wait has seen so far."""

    first: ServiceState | None = None  # the first view of the new process (its pid and run count)
    last_error: str = "not polled yet"


def wait_healthy(api: OllamaApi, manager: ServiceManager | None, target: Target, *, timeout: float,
                 old_pid: int | None = None, progress: Progress | None = None, new_log: NewLog | None = None,
                 owns_port: OwnsPort | None = None) -> Health:
    """Poll until our new server answers on the declared address, fails, or the timeout passes."""
    start = time.monotonic()
    next_report = start + REPORT_SECONDS
    watch = _Watch()
    while True:
        elapsed = time.monotonic() - start
        state = _state(manager, target)
        failed = _failure(state, new_log)
        if failed is not None:
            return Health(False, elapsed, failed, state=state)
        if state is not None and state.pid is not None and state.pid != old_pid and watch.first is None:
            watch.first = state
        if state is None or state.pid is None or old_pid is None or state.pid != old_pid:
            done = _answered(api, manager, target, state, watch=watch, owns_port=owns_port, elapsed=elapsed)
            if done is not None:
                return done
        else:
            watch.last_error = f"the old server (pid {old_pid}) is still the one running"
        if elapsed >= timeout:
            return Health(False, elapsed, f"not healthy within {timeout:g} s: {watch.last_error}", state=state)
        if progress is not None and time.monotonic() >= next_report:
            what = state.state.value if state is not None else "waiting"
            progress(f"waiting for {api.url}: {elapsed:.0f} s of {timeout:g} s ({what})")
            next_report += REPORT_SECONDS
        time.sleep(POLL_SECONDS)


def _failure(state: ServiceState | None, new_log: NewLog | None) -> str | None:
    """Why the start has already failed: a bind error in its log, a crash loop, or the manager giving up."""
    bind = next((line for line in (new_log() if new_log else []) if all(w in line for w in BIND_ERRORS)), None)
    if bind is not None:
        return f"the server cannot listen: {bind.strip()}"
    if state is not None and state.crash_loop:
        return f"the server is in a crash loop ({state.crash_reason or state.detail})"
    if state is not None and state.state is RunState.FAILED:
        return f"the server failed to start ({state.detail or state.state.value})"
    return None


def _answered(api: OllamaApi, manager: ServiceManager | None, target: Target, state: ServiceState | None, *,
              watch: _Watch, owns_port: OwnsPort | None, elapsed: float) -> Health | None:
    """The API answers from our process, which is still the one first seen: healthy (None: keep waiting)."""
    try:
        version = api.version()
    except Unreachable as exc:
        watch.last_error = exc.message
        return None
    if manager is None or state is None:
        return Health(True, elapsed, f"{api.url} answers (version {version})", version, state)
    if state.pid is None or state.state not in (RunState.RUNNING, RunState.STARTING):
        watch.last_error = f"{api.url} answers, but the service manager reports no server process ({state.state})"
        return None
    owner = owns_port(state.pid) if owns_port is not None else None
    if owner is False:
        return Health(False, elapsed, f"{api.url} answers, but not from the server the manager started "
                                      f"(pid {state.pid}): another process holds the port", version, state,
                      foreign=True)
    again = _state(manager, target) or state
    moved = restarted_since(watch.first or state, again)
    if moved is not None:
        return Health(False, elapsed, f"{moved} while it was starting", version, again)
    checked = "" if owner else " (the socket's owner could not be checked here)"
    return Health(True, elapsed, f"{api.url} answers (version {version}) from pid {state.pid}{checked}", version,
                  again)


def _state(manager: ServiceManager | None, target: Target) -> ServiceState | None:
    if manager is None:
        return None
    try:
        return manager.state(target)
    except OllamaSyncError:
        return None  # the manager being briefly busy is not the server failing
