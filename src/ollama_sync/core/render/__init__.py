"""Renderers: a declaration and a target → the bytes of the platform's native service file (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.core.findings import Finding, Severity
from ollama_sync.core.paths import Target
from ollama_sync.core.settings import Backend, Declaration

MARKER = "Managed by ollama-sync"


@dataclass(frozen=True)
class Rendered:
    """A rendered service file, or the findings that stopped it from being rendered safely."""

    target: Target
    content: bytes | None
    findings: tuple[Finding, ...] = ()


def render(decl: Declaration, target: Target) -> Rendered:
    """Render the service file for target's backend; unsafe values yield error findings and no content."""
    from ollama_sync.core.environment import render_environment  # noqa: PLC0415  # keep import light
    from ollama_sync.core.render import launchd, supervisord, systemd  # noqa: PLC0415

    env = render_environment(decl.settings)
    match target.backend:
        case Backend.LAUNCHD:
            problems = launchd.unsafe_values(env, target)
            content = None if problems else launchd.render_plist(env, target, decl.source)
        case Backend.SYSTEMD:
            problems = systemd.unsafe_values(env, target)
            content = None if problems else systemd.render_unit(env, target, decl.source)
        case Backend.SUPERVISORD:
            problems = supervisord.unsafe_values(env, target)
            content = None if problems else supervisord.render_program(env, target, decl.source)
    findings = tuple(
        Finding("unsafe-value", Severity.ERROR, f"{name}: {why}", "change the value, or pick another backend",
                decl.location_of(_setting_key(name, decl)), name)
        for name, why in problems
    )
    return Rendered(target, content, findings)


def _setting_key(variable: str, decl: Declaration) -> str:
    """The settings key that produced variable, for locating a finding."""
    from ollama_sync.core.options import OPTIONS  # noqa: PLC0415

    if decl.location_of(f"environment.{variable}") is not None:
        return f"environment.{variable}"
    for opt in OPTIONS:
        if opt.variable == variable and decl.location_of(opt.key) is not None:
            return opt.key
    return variable


def is_ours(content: bytes) -> bool:
    """True when a file on disk was written by ollama-sync (it carries the marker)."""
    return MARKER.encode() in content
