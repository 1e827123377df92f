"""Findings: what validation and diagnosis report, each with a stable code, severity, message and fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column are 1-based, None when unknown."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class Severity(StrEnum):
    """How much a finding matters; an error-level finding makes `check`/`doctor` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for info: sort key, most serious first."""
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One thing worth telling the user, with the exact fix."""

    code: str
    severity: Severity
    message: str
    hint: str = ""
    location: Location | None = None
    variable: str | None = None

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict; the location as "file:line" text and as parts."""
        loc = self.location
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "variable": self.variable,
            "location": None if loc is None else {"file": loc.file, "line": loc.line, "col": loc.col},
        }


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is error-level."""
    return any(f.severity is Severity.ERROR for f in findings)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most serious first, then by code and variable, so output is stable."""
    return tuple(sorted(findings, key=lambda f: (f.severity.rank, f.code, f.variable or "")))
