"""`ollama-sync verify`: the verification part of apply, with no writes (for Nix activations and monitoring).

The answering server must be ours — the manager runs our process, which (or a descendant) owns the
socket on the declared address — with the declared environment in all three views (what the manager
passes, the server's own `server config` line, the API answering). Nothing is written: no journal is
recovered, no lock taken, no generation recorded. `enable = false` verifies that no server of ours runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.core import catalog
from ollama_sync.core.environment import render_environment
from ollama_sync.core.hostport import HostPort
from ollama_sync.core.observation import ServiceState, restarted_since
from ollama_sync.core.plan import has_process
from ollama_sync.core.verify import ApiAnswer, Verification, declared_address, verify
from ollama_sync.errors import Unreachable, UsageError
from ollama_sync.system.service import ServiceManager, manager_for


@dataclass(frozen=True)
class VerifyResult:
    """What verify found: every reason it fails, and the three views when the server could be asked."""

    prepared: Prepared
    state: ServiceState
    problems: tuple[str, ...]
    verification: Verification | None = None
    answered_by: str = ""  # "pid N (ours)" or the holder of the port
    fixes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems


def verify_live(ctx: Context) -> VerifyResult:
    """Check, without writing anything, that the declared server is ours and runs as declared."""
    if ctx.sandboxed:
        raise UsageError("verify asks the running service; under --root there is nothing live to verify",
                         hint="run `ollama-sync verify` without --root, or `ollama-sync plan --root …`")
    prepared = prepare(ctx, version_text=str(catalog.NEWEST))
    target = prepared.rendered.target
    manager = manager_for(ctx, target.backend)
    state = manager.state(target)
    if not prepared.declaration.settings.enable:
        running = [f"the service is disabled in the declaration, but its server runs (pid {state.pid})"]
        return VerifyResult(prepared, state, tuple(running) if has_process(state) else ())
    if state.crash_loop or not has_process(state):
        why = state.crash_reason or state.detail or state.state.value
        return VerifyResult(prepared, state, (f"the {target.name} service runs no server ({why})",),
                            fixes=_holder_fixes(ctx, prepared, declared_address(_env(prepared)), state))
    return _check_running(ctx, prepared, manager, state)


def _env(prepared: Prepared) -> dict[str, str]:
    return render_environment(prepared.declaration.settings)


def _check_running(ctx: Context, prepared: Prepared, manager: ServiceManager, state: ServiceState) -> VerifyResult:
    from ollama_sync.app.transaction import owns_listener  # noqa: PLC0415  # 9 ms (the transaction): only when the service runs
    from ollama_sync.system.ollama_api import OllamaApi, base_url  # noqa: PLC0415  # 33 ms (http.client): only when the service runs
    from ollama_sync.system.server_log import find_events, lines_since_last_start, parse_server_config  # noqa: PLC0415  # 3 ms: only when the service runs

    target = prepared.rendered.target
    env = _env(prepared)
    address = declared_address(env)
    assert state.pid is not None
    problems: list[str] = []
    owner = owns_listener(ctx, address, state.pid)
    if owner is False:
        problems.append(f"{address.listen} is answered by another process, not by the server the manager runs "
                        f"(pid {state.pid})")
    lines = manager.log_tail(target, 400)
    bind = [e.text for e in find_events(lines_since_last_start(lines)) if e.kind.value == "address-in-use"]
    problems += [f"the server's log since its last start: {text}" for text in bind[-1:]]
    api = OllamaApi(base_url(address), timeout=1.0)
    try:
        answer = ApiAnswer(api.url, api.version())
    except Unreachable as exc:
        answer = ApiAnswer(api.url, None, exc.message)
    result = verify(env, state.environment, parse_server_config(lines), answer)
    problems += result.failures()
    moved = restarted_since(state, manager.state(target))
    if moved is not None:
        problems.append(f"{moved} during the check")
    answered = f"pid {state.pid} (ours)" if owner else f"pid {state.pid} (the socket's owner could not be checked)"
    fixes = _holder_fixes(ctx, prepared, address, state) if owner is False or bind else ()
    return VerifyResult(prepared, state, tuple(problems), result, answered if owner is not False else "", fixes)


def _holder_fixes(ctx: Context, prepared: Prepared, address: HostPort, state: ServiceState) -> tuple[str, ...]:
    """Who else holds the declared port, and the command that frees it."""
    from ollama_sync.app.port_conflict import find_conflict, process_tree  # noqa: PLC0415  # 11 ms (psutil): only when a port is taken

    conflict = find_conflict(ctx, prepared.rendered.target, address, process_tree([state.pid]))
    if conflict is None:
        return ()
    return tuple(f"{holder} holds {address.listen}: {holder.fix}" for holder in conflict.holders)
