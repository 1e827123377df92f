"""Turning results into text or JSON: the only place commands print from."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, TypedDict

import click

from ollama_sync.core.findings import Finding, Severity

JSON_SCHEMA_VERSION: Final = 1
_COLOURS: Final = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def emit_json(command: str, payload: Mapping[str, Any]) -> None:
    """Print one JSON document: {"version": 1, "command": …, …payload} (shapes: cli/json_shapes.py)."""
    if "version" in payload or "command" in payload:  # the envelope's keys: a payload must not hide them
        raise ValueError(f"the {command} payload uses an envelope key: {sorted(payload)}")
    doc = {"version": JSON_SCHEMA_VERSION, "command": command, **payload}
    import json  # noqa: PLC0415  # only --json output needs it

    click.echo(json.dumps(doc, indent=2, sort_keys=False, default=str))


class ErrorDetail(TypedDict):
    """What went wrong, as the text output says it: the message, the fix, and where (file and line, if known)."""

    message: str
    hint: str | None
    file: str | None
    line: int | None


class ErrorDocument(TypedDict):
    """The --json document of a command that failed with an error (exit 1, 2 or 3; README "Exit codes")."""

    version: int
    command: str | None
    ok: Literal[False]
    error: ErrorDetail


def emit_error(command: str | None, error: ErrorDetail) -> None:
    """Print the error document on stdout: under --json, errors are JSON too."""
    doc: ErrorDocument = {"version": JSON_SCHEMA_VERSION, "command": command, "ok": False, "error": error}
    import json  # noqa: PLC0415  # only --json output needs it

    click.echo(json.dumps(doc, indent=2))


def format_finding(finding: Finding) -> str:
    """`file:line: severity[code] message` and an indented fix line."""
    where = f"{finding.location}: " if finding.location else ""
    label = click.style(f"{finding.severity.value}[{finding.code}]", fg=_COLOURS[finding.severity], bold=True)
    text = f"{where}{label} {finding.message}"
    if finding.hint:
        text += f"\n    fix: {finding.hint}"
    return text


def print_findings(findings: Iterable[Finding], *, err: bool = False) -> None:
    """Every finding, most serious first (the caller sorts)."""
    for finding in findings:
        click.echo(format_finding(finding), err=err)


def summary(findings: tuple[Finding, ...]) -> str:
    """"1 error, 2 warnings" (or "no findings")."""
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    parts = [f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    return ", ".join(parts) if parts else "no findings"


def is_terminal() -> bool:
    """True when stdout is a terminal (colour and tables), False when piped."""
    return sys.stdout.isatty()


def colour_diff(diff: str) -> str:
    """A unified diff with + and - lines coloured (click strips colour when piped)."""
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(click.style(line, bold=True))
        elif line.startswith("+"):
            out.append(click.style(line, fg="green"))
        elif line.startswith("-"):
            out.append(click.style(line, fg="red"))
        elif line.startswith("@@"):
            out.append(click.style(line, fg="cyan"))
        else:
            out.append(line)
    return "".join(out)
