"""The settings table of `status`: each declared variable in four views, each cell in sync with the declaration or not.

Views: declared (rendered from the declaration), the file on disk, what the service manager passes, and
what the server resolved (its `server config` line, compared the way the server parses: core/resolved).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ollama_sync.core import catalog
from ollama_sync.core.observation import ServerConfig
from ollama_sync.core.options import OPTIONS
from ollama_sync.core.resolved import server_agrees
from ollama_sync.core.settings import Declaration


class Mark(StrEnum):
    """How one cell compares with the declaration."""

    IN_SYNC = "in-sync"
    DIFFERENT = "different"
    MISSING = "missing"  # declared, absent from this view
    EXTRA = "extra"  # present in this view, not declared
    UNKNOWN = "unknown"  # this view could not be read
    NOT_REPORTED = "not-reported"  # the server does not print this variable (it is not an Ollama one)
    UNREAD = "unread"  # declared, but absent from the server's map: this server does not read it (a warning)

    @property
    def ok(self) -> bool:
        """True when the cell does not show drift (an unread variable is a warning, not drift)."""
        return self in (Mark.IN_SYNC, Mark.UNKNOWN, Mark.NOT_REPORTED, Mark.UNREAD)


@dataclass(frozen=True)
class Cell:
    """One view of one variable: the value it holds there (None: absent) and its mark."""

    value: str | None
    mark: Mark


@dataclass(frozen=True)
class SettingRow:
    """One variable in the four views."""

    variable: str
    setting: str | None  # the `ollama-sync set` key that controls it
    declared: str | None
    file: Cell
    manager: Cell
    server: Cell

    @property
    def in_sync(self) -> bool:
        """True when no view drifts from the declaration."""
        return self.file.mark.ok and self.manager.mark.ok and self.server.mark.ok

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"variable": self.variable, "setting": self.setting, "declared": self.declared,
                "file": _cell_json(self.file), "manager": _cell_json(self.manager),
                "server": _cell_json(self.server), "in_sync": self.in_sync}


def _cell_json(cell: Cell) -> dict[str, object]:
    return {"value": cell.value, "mark": cell.mark.value}


def setting_key(decl: Declaration, variable: str) -> str | None:
    """The `ollama-sync set` key for a variable: a named setting, else `environment.NAME` when declared there."""
    if variable in decl.settings.environment_dict():
        return f"environment.{variable}"
    for opt in OPTIONS:
        if opt.variable == variable:
            return "host" if variable == "OLLAMA_HOST" else opt.key
    return None


def _plain_cell(declared: str | None, seen: Mapping[str, str] | None, name: str) -> Cell:
    """A file or manager cell: the value is passed verbatim, so it must be equal."""
    if seen is None:
        return Cell(None, Mark.UNKNOWN)
    value = seen.get(name)
    if declared is None:
        return Cell(value, Mark.IN_SYNC if value is None else Mark.EXTRA)
    if value is None:
        return Cell(None, Mark.MISSING)
    return Cell(value, Mark.IN_SYNC if value == declared else Mark.DIFFERENT)


def _server_cell(declared: str | None, server: ServerConfig | None, name: str) -> Cell:
    if server is None:
        return Cell(None, Mark.UNKNOWN)
    value = server.get(name)
    if declared is None:
        return Cell(value, Mark.NOT_REPORTED)
    if value is None:
        # The server prints every variable it knows; an OLLAMA_* one it leaves out is one it ignores.
        return Cell(None, Mark.UNREAD if name.startswith("OLLAMA_") else Mark.NOT_REPORTED)
    return Cell(value, Mark.IN_SYNC if server_agrees(name, declared, value) else Mark.DIFFERENT)


def _is_ollama_variable(name: str) -> bool:
    return name.startswith("OLLAMA_") or catalog.lookup(name) is not None


def drift_table(decl: Declaration, declared: Mapping[str, str], file_env: Mapping[str, str] | None,
                manager_env: Mapping[str, str] | None, server: ServerConfig | None) -> tuple[SettingRow, ...]:
    """One row per declared variable, then one per Ollama variable the file or manager passes undeclared."""
    extras = {name for view in (file_env, manager_env) if view is not None for name in view
              if name not in declared and _is_ollama_variable(name)}
    rows = []
    for name in [*sorted(declared), *sorted(extras)]:
        want = declared.get(name)
        rows.append(SettingRow(name, setting_key(decl, name), want, _plain_cell(want, file_env, name),
                               _plain_cell(want, manager_env, name), _server_cell(want, server, name)))
    return tuple(rows)


def unread(rows: tuple[SettingRow, ...]) -> tuple[str, ...]:
    """The declared variables the running server does not read (status warns about them)."""
    return tuple(row.variable for row in rows if row.server.mark is Mark.UNREAD)


def drift_lines(rows: tuple[SettingRow, ...]) -> list[str]:
    """One line per drifting variable: which views differ and how."""
    lines = []
    for row in rows:
        bad = [f"{name} {'has ' + repr(cell.value) if cell.value is not None else 'lacks it'}"
               for name, cell in (("the file", row.file), ("the manager", row.manager), ("the server", row.server))
               if not cell.mark.ok]
        if bad:
            declared = "not declared" if row.declared is None else f"declared {row.declared!r}"
            lines.append(f"{row.variable}: {declared}, " + ", ".join(bad) + _why(row))
    return lines


def _why(row: SettingRow) -> str:
    """A known cause of a drifting value, when there is one."""
    if row.variable == "OLLAMA_NO_CLOUD" and row.server.mark is Mark.DIFFERENT and row.server.value == "true":
        return (" (the server also turns it on from `disable_ollama_cloud` in ~/.ollama/server.json, which the "
                "desktop app writes: set it to false there, or declare OLLAMA_NO_CLOUD=1)")
    return ""


def all_in_sync(rows: tuple[SettingRow, ...]) -> bool:
    """True when every row is in sync."""
    return all(row.in_sync for row in rows)
