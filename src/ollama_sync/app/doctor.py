"""`ollama-sync doctor`: every check, as findings with the exact fix; exit 1 when any is an error.

Findings come from validation (judged against the installed release, else the running server's),
from core/doctor on the observed facts, and from the memory planner for installed models.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ollama_sync.app.context import Context
from ollama_sync.app.memory_check import memory_findings
from ollama_sync.app.observe import Observation, Progress, expected, observe, parallel
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.app.status import StatusResult, homebrew_env, status_from
from ollama_sync.core.doctor.diagnose import DoctorFacts, LogNote, diagnose
from ollama_sync.core.findings import Finding, has_errors, sort_findings
from ollama_sync.core.machine_facts import Account, ManagerJob
from ollama_sync.core.paths import models_path
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Target
from ollama_sync.core.validate import validate
from ollama_sync.core.version import Version, parse_version
from ollama_sync.system import permissions, ports, processes
from ollama_sync.system.server_log import find_events, lines_since_last_start

LOCAL_BUDGET = 1.5  # seconds for the process list and the port's owner


@dataclass(frozen=True)
class DoctorResult:
    """The findings, and the status they were judged from."""

    findings: tuple[Finding, ...]
    status: StatusResult
    judged_against: str

    @property
    def ok(self) -> bool:
        """False when any error-level finding exists."""
        return not has_errors(self.findings)


def doctor(ctx: Context, *, progress: Progress | None = None) -> DoctorResult:
    """Observe, then run every check."""
    prepared = prepare(ctx)
    obs = observe(ctx, prepared, progress)
    result = status_from(prepared, obs)
    if progress:
        progress("checking processes, the port and the models folder")
    facts = gather_facts(ctx, prepared, result)
    version = prepared.resolved.version or parse_version(obs.api_version or "")
    findings = [*_validation(prepared, version), *diagnose(facts), *_memory(ctx, prepared, obs.loaded or ())]
    judged = f"Ollama {version}" if version else "the newest known Ollama (installed version unknown)"
    return DoctorResult(sort_findings(_unique(findings)), result, judged)


def _validation(prepared: Prepared, version: Version | None) -> tuple[Finding, ...]:
    """The declaration's findings, re-judged against the running server's release when the binary's is unknown."""
    if prepared.resolved.version is None and version is not None:
        others = tuple(f for f in prepared.findings if f.code not in {g.code for g in validate(prepared.declaration)})
        return others + validate(prepared.declaration, version)
    return prepared.findings


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str | None, str]] = set()
    out = []
    for finding in findings:
        key = (finding.code, finding.variable, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def _memory(ctx: Context, prepared: Prepared, loaded: tuple[dict[str, Any], ...]) -> tuple[Finding, ...]:

    return memory_findings(ctx, prepared, loaded)


def service_user(ctx: Context, prepared: Prepared) -> str:
    """The account the server runs as: the declared user, else the one running ollama-sync."""
    target = prepared.rendered.target
    return target.user or ctx.machine.user


def models_folder(ctx: Context, prepared: Prepared, account: Account | None) -> str:
    """OLLAMA_MODELS as declared, else ~/.ollama/models; `~` is the service user's home."""
    home = ctx.machine.home
    if account is not None and account.name != ctx.machine.user and account.home:
        home = account.home
    return models_path(prepared.declaration.settings, home)


def gather_facts(ctx: Context, prepared: Prepared, result: StatusResult) -> DoctorFacts:
    """Everything core/doctor judges, read from the observation and this machine."""
    obs = result.observation
    target = prepared.rendered.target
    user = service_user(ctx, prepared)
    account = permissions.account(user)
    models = models_folder(ctx, prepared, account)
    local = _local_facts(ctx, obs) if obs.live else {}
    return DoctorFacts(
        target=target, uid=ctx.machine.uid, user=ctx.machine.user,
        enabled=prepared.declaration.settings.enable, declared_env=obs.declared_env, listen=obs.listen,
        rendered=prepared.rendered.content, file_content=obs.file_content, file_env=obs.file_env,
        file_stat=permissions.stat_path(ctx.files, target.path), binary_exists=_binary_exists(ctx, target.binary),
        live=obs.live, service=obs.service, manager_problems=obs.problems, log_notes=_log_notes(obs),
        server_config=obs.server_config, rows=result.rows, installed_version=prepared.resolved.version,
        api_version=obs.api_version, addresses=obs.addresses, probes=obs.probes, tailscale=obs.tailscale,
        port_listeners=local.get("listeners"), other_jobs=local.get("jobs") or (),
        our_pids=local.get("ours", frozenset()), processes=local.get("processes"), homebrew_plist=_homebrew_plist(ctx),
        installer_unit=installer_unit(ctx, prepared.rendered.target), homebrew_env=homebrew_env(ctx),
        models_path=models, models_chain=permissions.stat_chain(ctx.files, models), service_account=account,
        service_user=user, state_dir=permissions.stat_path(ctx.files, ctx.machine.state_dir))


def _local_facts(ctx: Context, obs: Observation) -> dict[str, Any]:
    """Who listens on the port, which Ollama processes run, and which of them are ours — at once."""

    pid = obs.service.pid if obs.service else None
    port = obs.listen.port
    tasks: dict[str, Callable[[], Any]] = {
        "listeners": lambda: tuple(ports.listeners_on(port, ctx.runner)),
        "processes": processes.ollama_processes,
        "ours": lambda: processes.descendants(pid) if pid else frozenset(),
    }
    if ctx.machine.system == "Darwin":
        tasks["jobs"] = lambda: other_launchd_jobs(ctx, obs.prepared.rendered.target.name)
    results = parallel(tasks, LOCAL_BUDGET)
    return {name: expected(value) for name, value in results.items()}


def other_launchd_jobs(ctx: Context, ours: str) -> tuple[ManagerJob, ...]:
    """Jobs whose label names Ollama, other than our own, in this user's gui/<uid> and user/<uid> domains.

    `launchctl print <domain>` names its domain; the domain-less `launchctl list` only sees the caller's
    context, so over SSH it misses the GUI session's jobs (SEMANTICS.md §4, Homebrew 77e026b88d).
    A domain that does not exist (112/125: no GUI login; no background session) has no jobs.
    """
    from ollama_sync.system.launchctl_parse import parse_domain_services  # noqa: PLC0415  # only on macOS

    jobs: list[ManagerJob] = []
    for domain in (f"gui/{ctx.machine.uid}", f"user/{ctx.machine.uid}"):
        done = ctx.runner.run(["launchctl", "print", domain], ok_codes=None, timeout=3)
        if done.returncode != 0:
            continue
        jobs += [ManagerJob(e.label, e.pid, e.status, domain) for e in parse_domain_services(done.stdout)
                 if "ollama" in e.label.lower() and e.label != ours]
    return tuple(jobs)


def _log_notes(obs: Observation) -> tuple[LogNote, ...]:

    events = find_events(lines_since_last_start(list(obs.log_lines)))
    return tuple(LogNote(e.kind.value, e.line_number, e.text, e.variable) for e in events)


def _binary_exists(ctx: Context, binary: str) -> bool | None:
    if ctx.sandboxed and not ctx.files.exists(posixpath.dirname(binary)):
        return None  # the sandbox has no such folder at all: the binary was not placed there
    return ctx.files.exists(binary)


def _homebrew_plist(ctx: Context) -> str | None:
    if ctx.machine.system != "Darwin":
        return None
    path = posixpath.join(ctx.machine.home, "Library/LaunchAgents/homebrew.mxcl.ollama.plist")
    return path if ctx.files.exists(path) else None


def installer_unit(ctx: Context, target: Target) -> str | None:
    """Ollama's installer unit, when the service ollama-sync manages is a different one."""
    path = "/etc/systemd/system/ollama.service"
    if ctx.machine.system != "Linux" or (target.backend is Backend.SYSTEMD and target.scope is Scope.SYSTEM):
        return None
    content = ctx.files.read_bytes(path)
    if content is None or b"ollama serve" not in content or target.path == path:
        return None
    return path

