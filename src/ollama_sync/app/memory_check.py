"""The memory finding `plan` and `doctor` include: cheap when no models are installed.

The planner (app/memory.py) reads GGUF headers and imports the memory arithmetic; this gate imports
it only when the declared models directory holds manifests, so `plan` on a machine without models
pays nothing for it.
"""

from __future__ import annotations

import posixpath
from typing import Any

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared
from ollama_sync.core.findings import Finding
from ollama_sync.core.paths import models_path


def memory_findings(ctx: Context, prepared: Prepared, loaded: tuple[dict[str, Any], ...] = ()) -> tuple[Finding, ...]:
    """Installed models the declared settings would not fit (none when no manifests exist); with the running
    server's /api/ps entries, a note for each loaded model whose estimate is far from what the server reports."""
    models = models_path(prepared.declaration.settings, ctx.machine.home)
    if not ctx.files.exists(posixpath.join(models, "manifests")):
        return ()
    from ollama_sync.app.memory import installed_model_findings  # noqa: PLC0415  # reads GGUF headers

    return installed_model_findings(ctx, prepared, loaded)
