"""`ollama-sync status`: what is really running, and whether it matches the declaration.

First finishes or undoes a transaction a killed `apply` left behind (app/apply.recover), then observes
(app/observe) and compares (core/drift). Exit 0 when every view is in sync and the server is healthy.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ollama_sync.app.context import Context
from ollama_sync.app.observe import Observation, Progress, observe
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.app.watch_log import WatchRecord, last_watch_result
from ollama_sync.core import catalog
from ollama_sync.core.drift import SettingRow, all_in_sync, drift_lines, drift_table, unread
from ollama_sync.core.exit_status import explain_exit_status, is_failure
from ollama_sync.core.file_env import HOMEBREW_ENV_FILE, parse_env_file
from ollama_sync.core.hostport import binds_all_interfaces
from ollama_sync.core.network import AddressKind
from ollama_sync.core.observation import RunState
from ollama_sync.core.target import Target
from ollama_sync.core.version import parse_version
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.state import StateStore

if TYPE_CHECKING:
    from ollama_sync.core.memory.live import LiveCheck


@dataclass(frozen=True)
class StatusResult:
    """The observation, the settings table, and the verdict."""

    observation: Observation
    rows: tuple[SettingRow, ...]
    recovered: str | None = None  # what was done about an interrupted apply
    watch: WatchRecord | None = None  # the newest run of the watcher (`watch --install`), if it ever ran
    homebrew_env: tuple[str, tuple[str, ...]] | None = None  # Homebrew's env file for `brew services` ollama
    memory: tuple[LiveCheck, ...] = ()  # loaded models: /api/ps beside memory's estimate
    recovery_error: str | None = None  # why an interrupted apply could not be finished or undone (exit 1)

    @property
    def in_sync(self) -> bool:
        """True when no view drifts from the declaration (views that could not be read do not count)."""
        return all_in_sync(self.rows) and self._file_ok

    @property
    def _file_ok(self) -> bool:
        obs = self.observation
        enabled = obs.prepared.declaration.settings.enable
        return (obs.file_content is not None) == enabled and (obs.file_env is None or not obs.file_env.error)

    @property
    def healthy(self) -> bool | None:
        """True when the service runs and answers on the declared address; None when not checked (--root)."""
        obs = self.observation
        if not obs.live:
            return None
        if not obs.prepared.declaration.settings.enable:
            return obs.service is None or not obs.service.is_running
        state = obs.service
        # A server still in its manager's start window (supervisord STARTING) counts once its API answers.
        up = state is not None and (state.is_running or (state.state is RunState.STARTING and state.pid is not None))
        return up and self.declared_address_answered

    @property
    def declared_address_answered(self) -> bool:
        """True when the server answered where the declaration says it listens."""
        obs = self.observation
        listen = obs.listen
        for probe in obs.answered:
            if binds_all_interfaces(listen) or listen.host == "localhost":
                if probe.address.kind is AddressKind.LOOPBACK:
                    return True
            elif probe.address.ip == listen.host:
                return True
        return False

    @property
    def ok(self) -> bool:
        """Exit 0: in sync, and healthy (or not checkable under --root)."""
        return self.in_sync and self.healthy is not False and self.recovery_error is None

    def problems(self) -> list[str]:
        """Every reason status exits 1 (and what could not be asked)."""
        obs = self.observation
        enabled = obs.prepared.declaration.settings.enable
        found = list(obs.problems)
        if (obs.file_content is not None) != enabled:
            path = obs.prepared.rendered.target.path
            found.append(f"the service file {path} is missing" if enabled
                         else f"the service is disabled in the declaration, but its file {path} exists")
        if obs.file_env is not None and obs.file_env.error:
            found.append(f"the service file cannot be read: {obs.file_env.error}")
        found += drift_lines(self.rows)
        if self.recovery_error is not None:
            found.append(f"an interrupted apply was left alone: {self.recovery_error}")
        if self.healthy is False:
            found.append(self._unhealthy())
        return found

    def _unhealthy(self) -> str:
        obs = self.observation
        state = obs.service
        if not obs.prepared.declaration.settings.enable:
            pid = state.pid if state is not None else "?"
            return f"the service is disabled in the declaration, but its server runs (pid {pid})"
        if state is None or state.pid is None:
            what = state.state.value if state is not None else "unknown"
            reason = f": {state.crash_reason or state.detail}" if state is not None and (state.crash_reason
                                                                                           or state.detail) else ""
            return f"the service is not running ({what}{reason})"
        return f"the server (pid {state.pid}) does not answer on the declared address {obs.listen.listen}"

    def warnings(self) -> list[str]:
        """What does not make status fail but deserves attention: declared variables the server does not read."""
        found = [f"{name} is declared but this server does not read it (absent from its `server config`): it has "
                 "no effect" for name in unread(self.rows)]
        if self.homebrew_env is not None:
            path, names = self.homebrew_env
            found.append(f"{path} feeds Homebrew's `brew services` Ollama on every start (sets "
                         f"{', '.join(names) or 'nothing'}): a second server for the same port when it runs")
        return found

    def service_json(self) -> dict[str, Any]:
        """The `service` object of the JSON document."""
        obs = self.observation
        target = obs.prepared.rendered.target
        state = obs.service
        uptime = None if obs.started_at is None else round(obs.now - obs.started_at, 1)
        last = state.last_exit if state else None
        return {
            "manager": target.backend.value, "label": target.name, "file": target.path, "checked": obs.live,
            "state": state.state.value if state else None,
            "loaded": None if state is None else state.state is not RunState.NOT_LOADED,
            "running": None if state is None else state.is_running,
            "pid": state.pid if state else None, "uptime_seconds": uptime,
            "last_exit": last, "last_exit_meaning": None if last is None else explain_exit_status(last),
            "last_exit_failed": is_failure(last), "enabled": state.enabled if state else None,
            "domain": state.domain if state else None, "detail": state.detail if state else obs.skipped,
            "warnings": list(state.warnings) if state else [],
        }


def status(ctx: Context, *, progress: Progress | None = None) -> StatusResult:
    """Recover an interrupted apply if one is pending, observe every view, build the settings table."""
    # status shows no validation findings, so the binary's release is not needed: `ollama --version`
    # (a process start) is skipped by judging against the newest known release (doctor asks the binary).
    prepared = prepare(ctx, version_text=str(catalog.NEWEST))
    recovered = error = None
    if not ctx.sandboxed and StateStore(ctx.files, ctx.machine.state_dir).has_journal():
        try:
            recovered = _recover(ctx, progress, prepared.rendered.target)
        except OllamaSyncError as exc:  # an untrusted journal or an unusable state dir: still show what runs
            error = exc.render()
    obs = observe(ctx, prepared, progress)
    result = replace(status_from(prepared, obs, recovered, last_watch_result(ctx)), recovery_error=error)
    if obs.loaded:
        from ollama_sync.app.memory import live_checks  # noqa: PLC0415  # reads GGUF headers: only with loaded models

        running = parse_version(obs.api_version or "")
        result = replace(result, memory=live_checks(ctx, prepared, obs.loaded, running))
    return replace(result, homebrew_env=homebrew_env(ctx))


def status_from(prepared: Prepared, obs: Observation, recovered: str | None = None,
                watch: WatchRecord | None = None) -> StatusResult:
    """The settings table and verdict for an observation."""
    file_env = obs.file_env.env if obs.file_env is not None else ({} if obs.file_content is None else None)
    manager_env = None if obs.service is None or obs.service.environment is None else dict(obs.service.environment)
    rows = drift_table(prepared.declaration, obs.declared_env, file_env, manager_env, obs.server_config)
    if not prepared.declaration.settings.enable:
        rows = ()  # disabled as declared: no file and no server is the state to be in, nothing to compare
    return StatusResult(obs, rows, recovered, watch)


def _recover(ctx: Context, progress: Progress | None, declared: Target) -> str | None:
    from ollama_sync.app.apply import recover  # noqa: PLC0415  # only when a journal may exist

    done = recover(ctx, progress=progress, declared=declared)
    return None if done is None else done.message


def homebrew_env(ctx: Context) -> tuple[str, tuple[str, ...]] | None:
    """Homebrew's env file for the Ollama service (Homebrew ≥ 6.0.15), and the variables it sets."""

    path = posixpath.join(ctx.machine.home, HOMEBREW_ENV_FILE)
    text = ctx.files.read_text(path)
    if text is None:
        return None
    return path, tuple(sorted(parse_env_file(text)[0]))

