"""Plans: desired file and observed state → the steps `apply` would take, with a unified diff (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from ollama_sync.core.findings import Finding, has_errors
from ollama_sync.core.observation import RunState
from ollama_sync.core.render import MARKER, Rendered, is_ours
from ollama_sync.core.target import Target

if TYPE_CHECKING:  # facts are needed only when the live service was asked (keeps `plan` startup light)
    from ollama_sync.core.observation import ServiceState


class StepKind(StrEnum):
    """What one step of an apply does."""

    WRITE = "write"  # write the service file (atomically, after a backup)
    RELOAD = "reload"  # make the manager read the new file and restart the server
    START = "start"  # the file is current but the server is not running
    RESTART = "restart"  # the file is current but the server runs with other settings
    STOP = "stop"  # enable = false: stop and unload
    REMOVE = "remove"  # enable = false: remove the file
    RETIRE = "retire"  # the label, scope or backend changed: stop the old service, keep its file, remove it


@dataclass(frozen=True)
class Step:
    """One step, with the reason it is needed."""

    kind: StepKind
    reason: str


@dataclass(frozen=True)
class Plan:
    """What apply would do: the steps, the content diff, the findings, or why nothing happens."""

    path: str
    old: bytes | None
    new: bytes | None
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...]
    noop_reason: str = ""
    foreign_file: bool = False  # the file on disk was not written by ollama-sync: apply moves it aside
    retire: Target | None = None  # the previously managed service, retired in the same transaction

    @property
    def blocked(self) -> bool:
        """True when error-level findings stop apply."""
        return has_errors(self.findings)

    @property
    def has_changes(self) -> bool:
        """True when apply would do something."""
        return bool(self.steps)

    def diff(self) -> str:
        """The unified diff between the file on disk and the desired one ("" when identical)."""
        return unified_diff(self.path, self.old, self.new)


def unified_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    """A unified diff of two versions of a file (either may be absent)."""
    if old == new:
        return ""
    before = _lines(old)
    after = _lines(new)
    import difflib  # noqa: PLC0415  # only when needed: start-up time

    return "".join(difflib.unified_diff(
        before, after,
        fromfile=path if old is not None else "/dev/null",
        tofile=path if new is not None else "/dev/null",
    ))


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def make_plan(
    rendered: Rendered,
    current: bytes | None,
    findings: tuple[Finding, ...],
    *,
    enabled: bool = True,
    live: ServiceState | None = None,
    live_env_matches: bool | None = None,
    retire: Target | None = None,
) -> Plan:
    """Compare the desired file with the one on disk and the live service; yield only the needed steps.

    live is None when the service manager was not asked (plan without --live, or under --root).
    retire: the service ollama-sync managed before under another label, scope or backend.
    """
    plan = _plan(rendered, current, findings, enabled=enabled, live=live, live_env_matches=live_env_matches)
    if retire is None or plan.blocked:
        return plan
    step = Step(StepKind.RETIRE, f"the service was {retire.name} ({retire.backend.value}, {retire.scope.value}, "
                                 f"{retire.path}): stop it, keep its file as a generation, remove it")
    return replace(plan, steps=(step, *plan.steps), retire=retire, noop_reason="")


def _plan(rendered: Rendered, current: bytes | None, findings: tuple[Finding, ...], *, enabled: bool,
          live: ServiceState | None, live_env_matches: bool | None) -> Plan:
    path = rendered.target.path
    all_findings = findings  # the caller's list includes rendering's findings
    foreign = current is not None and not is_ours(current)
    if not enabled:
        stop = _disable_steps(current, live)
        return Plan(path, current, None, stop, all_findings,
                    "" if stop else "the service is disabled and absent", foreign)
    new = rendered.content
    if new is None or has_errors(all_findings):
        return Plan(path, current, new, (), all_findings, "blocked by the errors above", foreign)
    steps: list[Step] = []
    if current is not None and current != new and _without_marker(current) == _without_marker(new):
        steps.append(Step(StepKind.WRITE, "only the header comment changed (no restart needed)"))
    elif current != new:
        why = "the file does not exist" if current is None else "the file differs from the declaration"
        steps += [Step(StepKind.WRITE, why), Step(StepKind.RELOAD, "the service must read the new file")]
    elif live is not None and not has_process(live):
        steps.append(Step(StepKind.START, f"the service is {live.state.value}"))
    elif live_env_matches is False:
        steps.append(Step(StepKind.RESTART, "the running server has other settings than the file"))
    reason = ""
    if not steps:
        reason = ("up to date: the file matches the declaration"
                  + ("" if live is None else " and the server runs with it"))
    return Plan(path, current, new, tuple(steps), all_findings, reason, foreign)


def has_process(live: ServiceState) -> bool:
    """True when the manager runs a server process (still within its start-up grace time counts)."""

    return live.pid is not None and live.state in (RunState.RUNNING, RunState.STARTING)


def _without_marker(content: bytes) -> list[bytes]:
    """The file's lines but the marker comment, which names the declaration's path."""
    return [line for line in content.splitlines() if MARKER.encode() not in line]


def _disable_steps(current: bytes | None, live: ServiceState | None) -> tuple[Step, ...]:

    steps: list[Step] = []
    if live is None or live.state is not RunState.NOT_LOADED:
        steps.append(Step(StepKind.STOP, "enable = false"))
    if current is not None:
        steps.append(Step(StepKind.REMOVE, "enable = false"))
    return tuple(steps)
