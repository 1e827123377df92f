"""`ollama-sync plan`: what `apply` would change, touching nothing."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.app.context import Context
from ollama_sync.app.memory_check import memory_findings
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.core.findings import sort_findings
from ollama_sync.core.plan import Plan, make_plan
from ollama_sync.core.settings import Backend


@dataclass(frozen=True)
class PlanResult:
    """The plan and everything it was computed from."""

    prepared: Prepared
    plan: Plan


def plan(ctx: Context, *, backend: Backend | None = None, version_text: str | None = None) -> PlanResult:
    """Compare the rendered file with the one on disk (under --root when given)."""
    prepared = prepare(ctx, backend=backend, version_text=version_text)
    current = ctx.files.read_bytes(prepared.rendered.target.path)
    findings = sort_findings(prepared.findings + memory_findings(ctx, prepared))
    result = make_plan(prepared.rendered, current, findings, enabled=prepared.declaration.settings.enable)
    return PlanResult(prepared, result)
