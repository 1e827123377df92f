"""The first steps every command shares: load the declaration, resolve the target, validate, render."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.app.context import Context
from ollama_sync.app.declaration import Loaded, load, with_service
from ollama_sync.app.target import Resolved, resolve
from ollama_sync.core.findings import Finding, sort_findings
from ollama_sync.core.render import Rendered, render
from ollama_sync.core.settings import Backend, Declaration
from ollama_sync.core.validate import validate


@dataclass(frozen=True)
class Prepared:
    """A declaration read, validated and rendered for this machine."""

    loaded: Loaded
    resolved: Resolved
    rendered: Rendered
    findings: tuple[Finding, ...]  # reading + resolving + validation + rendering, most serious first

    @property
    def declaration(self) -> Declaration:
        """The declaration."""
        return self.loaded.declaration


def prepare(ctx: Context, *, backend: Backend | None = None, version_text: str | None = None) -> Prepared:
    """Load, resolve, validate and render; raises ConfigError only for unreadable input."""
    loaded = load(ctx)
    if backend is not None:
        loaded = with_service(loaded, backend=backend)
    decl = loaded.declaration
    resolved = resolve(ctx, decl, version_text=version_text)
    rendered = render(decl, resolved.target)
    findings = sort_findings(loaded.findings + resolved.findings + validate(decl, resolved.version)
                             + rendered.findings)
    return Prepared(loaded, resolved, rendered, findings)
