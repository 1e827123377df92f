"""The steps apply, rollback and recovery share: switch the service file, bring the server up, verify, undo.

Every change is journalled in the state directory before it is made, so a killed process leaves enough
behind for `recover` to finish or undo it; the service file itself is only ever replaced atomically.
"""

from __future__ import annotations

import contextlib
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Final

from ollama_sync.app.context import Context
from ollama_sync.core.hostport import HostPort
from ollama_sync.core.observation import ServerConfig, ServiceState, restarted_since
from ollama_sync.core.target import Target, target_from_json, target_to_json
from ollama_sync.core.trust import service_file_mode
from ollama_sync.core.verify import ApiAnswer, Verification, declared_address, verify
from ollama_sync.errors import OllamaSyncError, StateError, Unreachable
from ollama_sync.system.server_log import find_events, lines_since_last_start, parse_server_config
from ollama_sync.system.service import ServiceManager
from ollama_sync.system.state import StateStore, sha256
from ollama_sync.system.state_records import Generation, Journal

if TYPE_CHECKING:
    from ollama_sync.system.health import Health, Progress
    from ollama_sync.system.ollama_api import OllamaApi

LOG_WAIT_SECONDS: Final = 3.0


@dataclass(frozen=True)
class BringUp:
    """How starting one version of the file went."""

    ok: bool
    failed_step: str | None = None  # "reload" | "health" | "verify"
    reason: str = ""
    health: Health | None = None
    verification: Verification | None = None
    log_lines: tuple[str, ...] = ()  # the server's recognised error lines from this start
    hint: str = ""  # the manager's own explanation of a failed reload (launchd: plist owner/mode, session, domain)

    @property
    def pid(self) -> int | None:
        """The new server's pid, when the manager reported one."""
        state = self.health.state if self.health else None
        return state.pid if state else None


@dataclass(frozen=True)
class Outcome:
    """A finished switch: the recorded generation and, on failure, what failed and what rollback did."""

    ok: bool
    generation: Generation
    attempt: BringUp | None  # None: the service was not reloaded (sandbox, or only a comment changed)
    restored: Generation | None = None  # the generation rolled back to
    restore: BringUp | None = None
    note: str = ""


def trusted_target(store: StateStore, journal: Journal, declared: Target | None) -> Target:
    """The journal's target, if ollama-sync manages it: the declared one, or one an earlier generation recorded.

    A journal naming any other path is refused (StateError naming the journal), never acted on: recovery
    writes, deletes and loads what the journal says, so a planted journal must not choose it.
    """
    where = store.journal_location
    hint = (f"if it is not from an interrupted apply of yours, delete it: rm {where}; if it is, run ollama-sync "
            "with the declaration that apply used")
    try:
        target = target_from_json(journal.target)
    except (KeyError, TypeError, ValueError):
        raise StateError(f"the journal {where} names no valid target; ollama-sync did not act on it",
                         hint=hint) from None
    if target == declared:
        return target
    for gen in store.generations():
        if gen.number >= journal.new_generation or gen.result == "in progress" or gen.target is None:
            continue
        try:
            if target_from_json(gen.target) == target:
                return target
        except (KeyError, TypeError, ValueError):
            continue
    raise StateError(f"the journal {where} names {target.backend.value} file {target.path}, which is neither the "
                     "declared service file nor one an earlier generation recorded; ollama-sync did not act on it",
                     hint=hint)


class Transaction:
    """One locked transaction on one target; manager None means the file is written but no service is touched."""

    # Called with each step's name as the transaction reaches it ("locked", the journal phases, "recorded").
    # Empty in the shipped program; the kill -9 tests add a hook that stops the process at a chosen step
    # (tests/e2e_supervisor/crash_at.py).
    step_hooks: ClassVar[list[Callable[[str], None]]] = []

    def __init__(self, ctx: Context, store: StateStore, target: Target, manager: ServiceManager | None, *,
                 timeout: float, progress: Progress | None = None) -> None:
        self.ctx = ctx
        self.store = store
        self.target = target
        self.manager = manager
        self.timeout = timeout
        self.progress = progress

    def reached(self, step: str) -> None:
        """Tell the step hooks that the transaction has reached step (its journal, if any, is on disk)."""
        for hook in self.step_hooks:
            hook(step)

    def backup(self, old: bytes | None, live: ServiceState | None, foreign: bool) -> Generation | None:
        """The generation holding the file on disk now (recorded when no kept generation has its bytes)."""
        if old is None:
            return None
        digest = sha256(old)
        for gen in reversed(self.store.generations()):
            if gen.hash == digest:
                return gen
        source = "found on disk"
        if foreign:
            copy = self.store.keep_foreign(self.target.path, old)
            source = f"found on disk, not written by ollama-sync (copy kept at {copy})"
        env = dict(live.environment) if live is not None and live.environment is not None else None
        return self.store.add(old, source=source, result="backup", target=target_to_json(self.target),
                              environment=env)

    def switch(self, content: bytes, environment: dict[str, str] | None, source: str, *,
               old: Generation | None, old_pid: int | None, reload: bool = True, note: str = "") -> Outcome:
        """Write content as the new generation, bring it up, verify; roll back to old when anything fails.

        Any error after the file was written (the state store failing, an unexpected answer from the
        service manager) also puts the old file and service back before it is reported.
        """
        new = self.store.add(content, source=source, result="in progress", target=target_to_json(self.target),
                             environment=environment)
        journal = self.store.write_journal(Journal("begun", target_to_json(self.target),
                                                   old.number if old else None, new.number))
        self.reached("begun")
        try:
            self._write(content)
        except OllamaSyncError as exc:  # atomic: the old file is still in place
            self._close(new, f"failed: the service file could not be written: {exc.message}")
            raise
        try:
            return self._bring_up_new(new, journal, environment, old=old, old_pid=old_pid, reload=reload, note=note)
        except Exception as exc:  # whatever failed, the old file and service come back first
            return self._undo(exc, new, old)

    def _bring_up_new(self, new: Generation, journal: Journal, environment: dict[str, str] | None, *,
                      old: Generation | None, old_pid: int | None, reload: bool, note: str) -> Outcome:
        journal = self._phase(journal, "written")
        if self.manager is None or not reload:
            return self._finish(Outcome(True, self.store.set_result(new.number, "ok"), None, note=note))
        attempt = self.bring_up(environment, old_pid, journal)
        if attempt.ok:
            self._phase(journal, "verified")
            return self._finish(Outcome(True, self.store.set_result(new.number, "ok"), attempt, note=note))
        self._phase(journal, "rolling-back")
        restore = self.restore(old)
        result = f"rolled back: {attempt.failed_step} failed: {attempt.reason}"
        if old is None:
            result = f"failed: {attempt.failed_step} failed: {attempt.reason}; service stopped, file removed"
        return self._finish(Outcome(False, self.store.set_result(new.number, result), attempt, old, restore))

    def _undo(self, exc: Exception, new: Generation, old: Generation | None) -> Outcome:
        """After an error past the write: restore old, record what happened where the state still allows it.

        An error that is not an OllamaSyncError is a bug: it is raised again once the old version is back.
        """
        reason = exc.render().replace("\n  hint: ", "; ") if isinstance(exc, OllamaSyncError) else repr(exc)
        try:
            restore = self.restore(old)
        except Exception as again:  # the journal stays: the next command retries the undo
            second = again.message if isinstance(again, OllamaSyncError) else repr(again)
            raise OllamaSyncError(
                f"{reason}; putting the previous service file back failed too: {second}",
                hint=f"the journal {self.store.journal_location} is kept: once the cause is fixed, `ollama-sync "
                     "status` or `ollama-sync apply` finishes the rollback") from exc
        result = f"failed: {reason}; service stopped, file removed" if old is None else f"rolled back: {reason}"
        generation = self._close(new, result)
        if not isinstance(exc, OllamaSyncError):
            raise exc
        attempt = BringUp(False, "transaction", reason)
        return Outcome(False, generation, attempt, old, restore)

    def _close(self, new: Generation, result: str) -> Generation:
        """Record how the transaction ended and drop the journal, as far as the state directory allows."""
        generation = replace(new, result=result)
        with contextlib.suppress(OllamaSyncError):  # a full or read-only state dir: the file is what matters
            generation = self.store.set_result(new.number, result)
        with contextlib.suppress(OllamaSyncError):
            self.store.clear_journal()
        return generation

    def restore(self, old: Generation | None) -> BringUp | None:
        """Put generation old back and bring it up; without one, stop the service and remove the file."""
        if old is None:
            if self.manager is not None:
                self.manager.stop(self.target)
            self.ctx.files.remove(self.target.path)
            return None
        self._write(self.store.content(old.number))
        if self.manager is None:
            return None
        return self.bring_up(old.environment, None, None)

    def _write(self, content: bytes) -> None:
        """Replace the service file: 0600 when it holds credentials, 0644 otherwise; never looser than it was."""
        mode = service_file_mode(self.target.backend, content, self.target.path, self.target.name,
                                 self.ctx.files.mode(self.target.path))
        self.ctx.files.write_atomic(self.target.path, content, mode=mode)

    def bring_up(self, environment: dict[str, str] | None, old_pid: int | None,
                 journal: Journal | None) -> BringUp:
        """Reload the service, wait until healthy, verify (environment None: only the default address)."""
        # The HTTP client (http.client) is imported only when a server is started: a no-op apply skips it.
        from ollama_sync.system.health import wait_healthy  # noqa: PLC0415  # 40 ms (http.client): only when a server is started
        from ollama_sync.system.ollama_api import OllamaApi, base_url  # noqa: PLC0415  # the HTTP client, as above

        assert self.manager is not None
        before = self._tail()
        try:
            if self.target.log_path:  # launchd and supervisord fail to start a job whose log folder is missing
                self.ctx.files.mkdir(posixpath.dirname(self.target.log_path))
            self.manager.load(self.target)
        except OSError as exc:
            return BringUp(False, "reload", f"cannot create the log folder for {self.target.log_path}: "
                                            f"{exc.strerror}")
        except OllamaSyncError as exc:
            return BringUp(False, "reload", exc.message, log_lines=self._errors(before), hint=exc.hint or "")
        if journal is not None:
            journal = self._phase(journal, "reloaded")
        env = environment or {}
        address = declared_address(env)
        api = OllamaApi(base_url(address), timeout=0.5)
        owner = None if environment is None else lambda pid: owns_listener(self.ctx, address, pid)
        health = wait_healthy(api, self.manager, self.target, timeout=self.timeout, old_pid=old_pid,
                              progress=self.progress, new_log=lambda: self._new_lines(before), owns_port=owner)
        if not health.ok:
            errors = self._errors(before)
            reason = _explain(health.reason, errors, api.url) + self._holder(address, health)
            return BringUp(False, "health", reason, health, log_lines=errors)
        if journal is not None:
            self._phase(journal, "healthy")
        if environment is None:
            return BringUp(True, health=health)
        result, moved = self._verify(env, api, health, before)
        if moved is not None:
            return BringUp(False, "verify", f"{moved} after it answered", health, result, self._errors(before))
        if not result.ok:
            return BringUp(False, "verify", "; ".join(result.failures()), health, result, self._errors(before))
        return BringUp(True, health=health, verification=result)

    def _holder(self, address: HostPort, health: Health) -> str:
        """Who holds the declared port, when the start failed because of it (doctor's names and fixes)."""
        from ollama_sync.app.port_conflict import find_conflict, process_tree  # noqa: PLC0415  # 5 ms (psutil): only when a start failed on a taken port

        pid = health.state.pid if health.state is not None else None
        if not (health.foreign or "cannot listen" in health.reason or "crash loop" in health.reason):
            return ""
        conflict = find_conflict(self.ctx, self.target, address, process_tree([pid]))
        return "" if conflict is None else f"; {conflict.message}; to free the port: {conflict.fix}"

    def _verify(self, env: dict[str, str], api: OllamaApi, health: Health,
                before: list[str]) -> tuple[Verification, str | None]:
        """The three views, and whether the server restarted since it answered (None: it did not)."""
        assert self.manager is not None
        config = self._new_server_config(before)
        state = self.manager.state(self.target)
        try:
            answer = ApiAnswer(api.url, api.version())
        except Unreachable as exc:
            answer = ApiAnswer(api.url, None, exc.message)
        moved = restarted_since(health.state, state) if health.state is not None else None
        return verify(env, state.environment, config, answer), moved

    def _new_server_config(self, before: list[str]) -> ServerConfig | None:
        """The `server config` line this start wrote (polled briefly: the manager writes the log itself)."""
        old = _config_line(before)
        deadline = time.monotonic() + LOG_WAIT_SECONDS
        while True:
            lines = self._tail()
            line = _config_line(lines)
            if line is not None and line != old:
                return parse_server_config(lines)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def _tail(self) -> list[str]:
        assert self.manager is not None
        try:
            return self.manager.log_tail(self.target, 400)
        except OllamaSyncError:
            return []

    def _new_lines(self, before: list[str]) -> list[str]:
        """The server's log lines written since `before` was read (the reload)."""
        lines = self._tail()
        last = before[-1] if before else None
        if last is not None and last in lines:
            return lines[len(lines) - lines[::-1].index(last):]
        return lines_since_last_start(lines) if before else lines

    def _errors(self, before: list[str]) -> tuple[str, ...]:
        """The recognised error lines this start wrote (`bind: address already in use`, …)."""
        lines = self._new_lines(before)
        texts = dict.fromkeys(event.text for event in find_events(lines))  # a retried start repeats its error
        return tuple(texts)[-10:]

    def _phase(self, journal: Journal, phase: str) -> Journal:
        journal = self.store.write_journal(replace(journal, phase=phase))
        self.reached(phase)
        return journal

    def _finish(self, outcome: Outcome) -> Outcome:
        self.store.clear_journal()
        self.reached("recorded")
        return outcome


def owns_listener(ctx: Context, address: HostPort, pid: int) -> bool | None:
    """Does pid (or a descendant) own the socket listening on the declared address? None: owners are hidden."""
    from ollama_sync.app.port_conflict import listeners_at, process_tree  # noqa: PLC0415  # 5 ms (psutil): only when a listener is checked

    known = [item.pid for item in listeners_at(ctx, address) if item.pid is not None]
    if not known:
        return None
    return bool(process_tree([pid]) & set(known))


def _explain(reason: str, errors: tuple[str, ...], url: str) -> str:
    """Name a known cause first: the address being taken is the common one."""
    if any("address already in use" in line for line in errors):
        address = url.removeprefix("http://")
        return f"another process already listens on {address} (bind: address already in use); {reason}"
    return reason


def _config_line(lines: list[str]) -> str | None:
    config = parse_server_config(lines)
    if config is None or config.line_number is None:
        return None
    return lines[config.line_number - 1]
