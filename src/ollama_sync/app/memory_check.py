"""The memory finding `plan` and `doctor` include: cheap when no models are installed.

The planner (app/memory.py) reads GGUF headers and imports the memory arithmetic; this gate imports
it only when the declared models directory holds manifests, so `plan` on a machine without models
pays nothing for it.
"""

from __future__ import annotations

import posixpath
from typing import Final

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared
from ollama_sync.core.environment import render_environment
from ollama_sync.core.findings import Finding
from ollama_sync.core.settings import Declaration

DEFAULT_MODELS: Final = "~/.ollama/models"


def models_path(ctx: Context, decl: Declaration) -> str:
    """OLLAMA_MODELS as declared (setting or free table), else ~/.ollama/models; `~` is the machine's home."""
    path = render_environment(decl.settings).get("OLLAMA_MODELS") or DEFAULT_MODELS
    if path == "~" or path.startswith("~/"):
        path = posixpath.join(ctx.machine.home, path[2:])
    return path


def memory_findings(ctx: Context, prepared: Prepared) -> tuple[Finding, ...]:
    """Installed models the declared settings would not fit (none when no manifests exist)."""
    if not ctx.files.exists(posixpath.join(models_path(ctx, prepared.declaration), "manifests")):
        return ()
    from ollama_sync.app.memory import installed_model_findings  # noqa: PLC0415  # reads GGUF headers

    return installed_model_findings(ctx, prepared)
