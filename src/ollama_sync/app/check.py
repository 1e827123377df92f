"""`ollama-sync check`: validate the declaration only."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import prepare
from ollama_sync.core import catalog
from ollama_sync.core.findings import Finding, has_errors, sort_findings
from ollama_sync.core.version import Version


@dataclass(frozen=True)
class CheckResult:
    """The findings and the release they were judged against."""

    source: str
    findings: tuple[Finding, ...]
    version: Version | None

    @property
    def judged_against(self) -> str:
        """The release the findings assume, said the way users read it."""
        if self.version is None:
            return f"Ollama {catalog.NEWEST} (newest known; installed version unknown)"
        return f"Ollama {self.version}"

    @property
    def ok(self) -> bool:
        """False when any error-level finding exists."""
        return not has_errors(self.findings)


def check(ctx: Context, *, version_text: str | None = None, cross_check: bool = False) -> CheckResult:
    """Validate the declaration against the installed (or given) Ollama release.

    cross_check (a .nix declaration only): also read it with both the static reader and Nix, and report
    every value they disagree on.
    """
    prepared = prepare(ctx, version_text=version_text)
    findings = prepared.findings
    if cross_check:
        from ollama_sync.app.nixsource import cross_check_loaded  # noqa: PLC0415  # Nix reading is lazy

        findings = sort_findings(findings + cross_check_loaded(ctx, prepared.loaded))
    return CheckResult(prepared.declaration.source, findings, prepared.resolved.version)
