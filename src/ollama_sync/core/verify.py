"""Verification after apply: the declared environment against three independent views (pure).

(a) the service manager's view of the environment it passes, (b) what the server resolved (its newest
`server config` line, compared the way the server parses: core/resolved), (c) the API answering on the
declared address. The manager's view may be "not checked" (a manager that does not show the environment);
the server's view may not: a start that wrote no `server config` line did not come up as a server (the
real server binds before it logs it, so a taken port leaves no line), and the API that answers is then
someone else's. A declared variable absent from the server's map is one the server does not know,
reported but not failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ollama_sync.core.hostport import HostPort, parse_host
from ollama_sync.core.observation import ServerConfig
from ollama_sync.core.resolved import server_agrees


class View(StrEnum):
    """The three places the declared settings are checked."""

    MANAGER = "manager"
    SERVER = "server"
    API = "api"


@dataclass(frozen=True)
class Mismatch:
    """One variable whose value in a view is not the declared one (observed None: absent)."""

    variable: str
    declared: str
    observed: str | None

    def __str__(self) -> str:
        seen = "absent" if self.observed is None else repr(self.observed)
        return f"{self.variable}: declared {self.declared!r}, {seen}"


@dataclass(frozen=True)
class ViewCheck:
    """The outcome of one view."""

    view: View
    checked: bool  # False: the view could not be read here (not a failure)
    mismatches: tuple[Mismatch, ...] = ()
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True unless the view disagrees with the declaration (or, for the server and the API, was not read)."""
        return not self.mismatches and (self.checked or self.view is View.MANAGER)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"view": self.view.value, "checked": self.checked, "ok": self.ok, "detail": self.detail,
                "mismatches": [{"variable": m.variable, "declared": m.declared, "observed": m.observed}
                               for m in self.mismatches]}


@dataclass(frozen=True)
class ApiAnswer:
    """What the API said at the declared address: its version, or the error."""

    url: str
    version: str | None
    error: str = ""


@dataclass(frozen=True)
class Verification:
    """The three views, and the declared variables the server does not know."""

    checks: tuple[ViewCheck, ...]
    unknown: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every view agrees, the server logged its start and the API answered."""
        return all(check.ok for check in self.checks)

    def failures(self) -> list[str]:
        """One line per failed view."""
        lines = []
        for check in self.checks:
            if not check.ok:
                what = "; ".join(str(m) for m in check.mismatches) or check.detail
                lines.append(f"{check.view.value}: {what}")
        return lines

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"ok": self.ok, "views": [c.to_json() for c in self.checks], "unknown_to_server": list(self.unknown)}


def declared_address(env: Mapping[str, str]) -> HostPort:
    """Where the declared server listens (OLLAMA_HOST, else the default 127.0.0.1:11434)."""
    return parse_host(env.get("OLLAMA_HOST", ""))


def check_manager(declared: Mapping[str, str], passed: tuple[tuple[str, str], ...] | None) -> ViewCheck:
    """The manager passes exactly the declared values (other variables it passes are not judged)."""
    if passed is None:
        return ViewCheck(View.MANAGER, False, detail="the service manager does not show the environment here")
    seen = dict(passed)
    bad = tuple(Mismatch(k, v, seen.get(k)) for k, v in declared.items() if seen.get(k) != v)
    return ViewCheck(View.MANAGER, True, bad)


def check_server(declared: Mapping[str, str], config: ServerConfig | None) -> tuple[ViewCheck, tuple[str, ...]]:
    """The server's resolved map agrees with each declared variable it knows; the others are returned apart."""
    if config is None:
        return ViewCheck(View.SERVER, False, detail="no `server config` line from this start in the server's log: "
                                                    "the server did not start (or logs elsewhere)"), ()
    resolved = dict(config.env)
    unknown = tuple(k for k in declared if k not in resolved)
    bad = tuple(Mismatch(k, v, resolved[k]) for k, v in declared.items()
                if k in resolved and not server_agrees(k, v, resolved[k]))
    return ViewCheck(View.SERVER, True, bad), unknown


def check_api(answer: ApiAnswer) -> ViewCheck:
    """The API answered on the declared address."""
    if answer.version is None:
        return ViewCheck(View.API, False, detail=f"no answer at {answer.url}: {answer.error}")
    return ViewCheck(View.API, True, detail=f"{answer.url} answers (version {answer.version})")


def verify(declared: Mapping[str, str], passed: tuple[tuple[str, str], ...] | None,
           config: ServerConfig | None, answer: ApiAnswer) -> Verification:
    """All three views."""
    server, unknown = check_server(declared, config)
    return Verification((check_manager(declared, passed), server, check_api(answer)), unknown)


def runs_declared(declared: Mapping[str, str], passed: tuple[tuple[str, str], ...] | None,
                  config: ServerConfig | None) -> bool | None:
    """Does the live server run with the declared environment? Manager view first, else the server's log.

    None when neither view can be read.
    """
    if passed is not None:
        return check_manager(declared, passed).ok
    if config is not None:
        return check_server(declared, config)[0].ok
    return None
