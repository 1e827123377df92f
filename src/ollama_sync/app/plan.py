"""`ollama-sync plan`: what `apply` would change, touching nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ollama_sync.app.context import Context
from ollama_sync.app.look import look
from ollama_sync.app.memory_check import memory_findings
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.core.findings import sort_findings
from ollama_sync.core.plan import Plan
from ollama_sync.core.settings import Backend
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.service import manager_for
from ollama_sync.system.state import StateStore


@dataclass(frozen=True)
class PlanResult:
    """The plan and everything it was computed from."""

    prepared: Prepared
    plan: Plan
    live_note: str = ""  # why the running service was not asked ("" when it was)


def plan(ctx: Context, *, backend: Backend | None = None, version_text: str | None = None) -> PlanResult:
    """Compare the rendered file with the one on disk and ask the live service, as apply does."""
    prepared = prepare(ctx, backend=backend, version_text=version_text)
    findings = sort_findings(prepared.findings + memory_findings(ctx, prepared))
    prepared = replace(prepared, findings=findings)
    store = StateStore(ctx.files, ctx.machine.state_dir)
    note = ""
    if ctx.sandboxed:
        manager = None
        note = "the running service was not asked (under --root no service manager is asked)"
    else:
        manager = manager_for(ctx, prepared.rendered.target.backend)
    try:
        looked = look(ctx, prepared, manager, store)
    except OllamaSyncError as exc:
        note = f"the running service could not be asked ({exc.message}): this plan compares the files only"
        looked = look(ctx, prepared, None, store)
    return PlanResult(prepared, looked.plan, note)
