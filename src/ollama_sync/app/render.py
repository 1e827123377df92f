"""`ollama-sync render`: the service file for the declaration."""

from __future__ import annotations

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.core.settings import Backend


def render_file(ctx: Context, *, backend: Backend | None = None, version_text: str | None = None) -> Prepared:
    """Load and render; the caller prints `rendered.content` or the findings that blocked it."""
    return prepare(ctx, backend=backend, version_text=version_text)
