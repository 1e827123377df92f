"""A look before changing anything: the file on disk and the live service, and the plan made from them.

`plan` and `apply` both start here, so what `plan` shows is what `apply` would do. Apart from
app/apply.py so that `plan` imports none of the transaction code.
"""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared
from ollama_sync.app.retire import Previous, previous_service
from ollama_sync.core.environment import render_environment
from ollama_sync.core.observation import ServiceState
from ollama_sync.core.plan import Plan, has_process, make_plan
from ollama_sync.core.target import Target
from ollama_sync.system.service import ServiceManager
from ollama_sync.system.state import StateStore


@dataclass(frozen=True)
class Looked:
    """The file on disk, the live service, and the plan from them."""

    plan: Plan
    current: bytes | None
    live: ServiceState | None
    env: dict[str, str]
    previous: Previous | None = None  # the service managed before under another label, scope or backend


def look(ctx: Context, prepared: Prepared, manager: ServiceManager | None, store: StateStore) -> Looked:
    """Read the file on disk and ask the live service (when manager is given); plan from them, as apply does."""
    target = prepared.rendered.target
    env = render_environment(prepared.declaration.settings)
    current = ctx.files.read_bytes(target.path)
    live, matches = _observe(manager, target, env)

    previous = previous_service(ctx, store, target)
    plan = make_plan(prepared.rendered, current, prepared.findings, enabled=prepared.declaration.settings.enable,
                     live=live, live_env_matches=matches, retire=previous.target if previous else None)
    return Looked(plan, current, live, env, previous)


def _observe(manager: ServiceManager | None, target: Target,
             env: dict[str, str]) -> tuple[ServiceState | None, bool | None]:
    """The live service, and whether it runs with the declared environment (None: cannot tell)."""
    if manager is None:
        return None, None
    live = manager.state(target)
    if not has_process(live):
        return live, None
    if live.environment is not None:  # the common case, kept free of the verification imports
        passed = dict(live.environment)
        return live, all(passed.get(name) == value for name, value in env.items())
    from ollama_sync.core.verify import runs_declared  # noqa: PLC0415  # 7 ms (verification): only when the manager cannot say the environment
    from ollama_sync.system.server_log import parse_server_config  # noqa: PLC0415  # 2 ms: only when the manager cannot say the environment

    return live, runs_declared(env, None, parse_server_config(manager.log_tail(target, 400)))
