"""The declared shape of every `--json` document: the envelope, then one TypedDict per command's payload.

Every document is `{"version": 1, "command": <name>, "ok": <bool>, …}`: the `Envelope` keys that
cli/output.emit_json adds, then the command's payload, which always starts with its verdict `ok`. Errors
under --json use the same envelope with `"ok": false` and an `error` object (cli/output.ErrorDocument).

This module is the declaration, not on any command's import path (no start-up cost): the commands build
their payloads as dicts, and tests/cli/test_json_shapes.py runs every command and checks its real output
against the TypedDict here, key by key and type by type. Nested objects that are themselves records
(findings, plan steps, generations, watch records) are declared to the field; the larger nested views
(a status section, a transaction outcome) are objects whose keys the command's own tests pin.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Envelope(TypedDict):
    """The keys emit_json puts first in every document."""

    version: int  # the JSON format's version: 1
    command: str  # "check", "plan", "models sync", …


class Verdict(TypedDict):
    """The key every payload starts with."""

    ok: bool  # the command's verdict, as its exit status says it


class LocationJson(TypedDict):
    """Where a finding points in the declaration."""

    file: str
    line: int | None
    col: int | None


class FindingJson(TypedDict):
    """One finding (core.findings.Finding.to_json)."""

    code: str
    severity: str  # "error" | "warning" | "info"
    message: str
    hint: str
    variable: str | None
    location: LocationJson | None


class StepJson(TypedDict):
    """One step apply would take."""

    kind: str
    reason: str


class CheckDoc(Verdict):
    """`check --json`."""

    source: str
    judged_against: str
    findings: list[FindingJson]


class RenderDoc(Verdict):
    """`render --json`: the rendered file (None when findings block it)."""

    backend: str
    path: str
    content: str | None
    findings: list[FindingJson]


class PlannedChange(Verdict):
    """What `plan` and `apply` both report about the change."""

    backend: str
    path: str
    source: str
    steps: list[StepJson]
    noop_reason: str | None
    foreign_file: bool
    diff: str
    findings: list[FindingJson]


class PlanDoc(PlannedChange):
    """`plan --json`."""

    changes: bool
    live_checked: bool
    live_note: str | None


class ApplyDoc(PlannedChange):
    """`apply --json`."""

    changed: bool
    cancelled: bool
    outcome: dict[str, Any] | None  # the switch: generation, attempt, rollback (cli/outcome.py)
    restart: dict[str, Any] | None
    recovered: dict[str, Any] | None
    note: str | None
    retired: str | None
    conflict: dict[str, Any] | None
    models: dict[str, Any] | None  # the declared models pulled after the apply


class StatusDoc(Verdict):
    """`status --json` (also `doctor`'s `status` key)."""

    in_sync: bool
    healthy: bool | None
    source: str
    recovered: str | None
    recovery_error: str | None
    service: dict[str, Any]
    settings: list[dict[str, Any]]
    server: dict[str, Any]
    loaded_models: list[dict[str, Any]] | None
    installed_models: list[dict[str, Any]] | None
    problems: list[str]
    warnings: list[str]
    disabled: bool
    watch: dict[str, Any] | None


class DoctorDoc(Verdict):
    """`doctor --json`."""

    judged_against: str
    findings: list[FindingJson]
    status: StatusDoc


class GenerationJson(TypedDict):
    """One recorded generation of the service file."""

    number: int
    time: float
    hash: str
    source: str
    result: str
    path: str
    backend: str
    environment: dict[str, str] | None
    target: dict[str, Any] | None
    current: bool


class HistoryDoc(Verdict):
    """`history --json`."""

    state_dir: str
    current: int | None
    generations: list[GenerationJson]


class RollbackDoc(Verdict):
    """`rollback --json`."""

    generation: int
    changed: bool
    outcome: dict[str, Any] | None
    recovered: dict[str, Any] | None


class EditDoc(Verdict):
    """`set --json` and `unset --json`."""

    file: str
    key: str
    path: str
    before: str | None
    after: str | None
    changed: bool
    written: bool
    diff: str
    plan: dict[str, Any] | None  # `plan`'s document without the envelope, when the file was written


class ImportDoc(Verdict):
    """`import --json`."""

    source: str
    format: str
    output: str | None
    text: str
    findings: list[FindingJson]


class MemoryDoc(Verdict):
    """`memory --json`."""

    ollama_version: str | None
    models_path: str
    host: dict[str, Any]
    models: list[dict[str, Any]]
    loaded_together: dict[str, Any] | None
    findings: list[FindingJson]


class PulledJson(TypedDict):
    """One model `models sync` pulled."""

    name: str
    ok: bool
    attempts: int
    error: str | None


class ModelsSyncDoc(Verdict):
    """`models sync --json`."""

    server: str
    present: list[str]
    pulled: list[PulledJson]
    extra: list[str]
    never_pruned: list[str]  # cloud and safetensors/MLX models: never offered to --prune
    removed: list[str]


class WatchRecordJson(TypedDict):
    """One run of the watcher (app/watch_log.WatchRecord)."""

    time: str
    trigger: str
    ok: bool
    exit_code: int
    changed: bool
    message: str


class WatchOnceDoc(Verdict):
    """`watch --once --json`."""

    action: str  # "once"
    record: WatchRecordJson


class WatchServiceDoc(Verdict):
    """`watch --install/--uninstall --json`."""

    action: str  # "installed" | "unchanged" | "removed" | "not installed"
    backend: str
    name: str
    files: list[str]
    watch_paths: list[str]
    runs: list[str]  # the command the watcher service runs
    note: str | None


class VerifyDoc(Verdict):
    """`verify --json`."""

    backend: str
    label: str
    disabled: bool
    pid: int | None
    answered_by: str | None
    problems: list[str]
    fixes: list[str]
    verification: dict[str, Any] | None
