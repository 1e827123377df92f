"""Resolving where and how the service runs on this machine: backend, file path, binary, version."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.app.context import Context
from ollama_sync.core.findings import Finding, Severity
from ollama_sync.core.paths import unit_file
from ollama_sync.core.render import is_ours
from ollama_sync.core.settings import Backend, Declaration
from ollama_sync.core.target import Target, default_backend, resolve_target
from ollama_sync.core.version import Version, is_release_number, parse_version
from ollama_sync.errors import UsageError
from ollama_sync.system.ollama_binary import find_binary


@dataclass(frozen=True)
class Resolved:
    """The target, the Ollama release settings are judged against, and what resolving found."""

    target: Target
    version: Version | None  # None: unknown, judged against the newest known
    findings: tuple[Finding, ...]


def resolve(ctx: Context, decl: Declaration, *, version_text: str | None = None) -> Resolved:
    """Find the binary and its release (unless given), and the service file's path."""
    findings: list[Finding] = []
    machine = ctx.machine
    binary = decl.service.binary
    found = True
    if binary is None:
        binary, found = find_binary(ctx.files, ctx.environ, machine.system)
        if not found:
            findings.append(Finding(
                "binary-not-found", Severity.INFO, f"no ollama binary found; the service file names {binary}",
                'install Ollama (brew install ollama), or set binary = "…" in [service]',
                decl.location_of("binary")))
    version = _version(ctx, binary, found, version_text)
    backend = decl.service.backend or default_backend(machine)
    installer_unit = backend is Backend.SYSTEMD and _installer_unit_exists(ctx, decl)
    target = resolve_target(decl.service, machine, binary, installer_unit_exists=installer_unit)
    return Resolved(target, version, tuple(findings))


def _version(ctx: Context, binary: str, found: bool, version_text: str | None) -> Version | None:
    if version_text is not None:
        parsed = parse_version(version_text) if is_release_number(version_text) else None
        if parsed is None:
            raise UsageError(f"--ollama-version {version_text!r} is not a release number",
                             hint="for example --ollama-version 0.12.3")
        return parsed
    if not found or ctx.sandboxed:
        return None
    from ollama_sync.system.version_cache import cached_version  # noqa: PLC0415  # 4 ms (json, the runner): not when --ollama-version is given

    return cached_version(ctx.runner, ctx.files, binary, ctx.machine.state_dir)


def _installer_unit_exists(ctx: Context, decl: Declaration) -> bool:
    """systemd: a unit at our unit path that ollama-sync did not write (Ollama's install.sh made it)."""

    content = ctx.files.read_bytes(unit_file(decl.service, ctx.machine))
    return content is not None and not is_ours(content)
