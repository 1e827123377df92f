"""Diagnosis: every observed fact about the service, the server and the machine → findings, each with its exact fix.

Pure: app/doctor.py gathers `DoctorFacts`; the checks live here (service and file), in
core/doctor/server.py (exit status, log, drift, version, models folder) and core/doctor/exposure.py
(port holder, other servers, exposure). Finding codes are stable; README.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ollama_sync.core.doctor.exposure import network_findings
from ollama_sync.core.doctor.fixes import FixCommands
from ollama_sync.core.doctor.server import server_findings
from ollama_sync.core.drift import SettingRow
from ollama_sync.core.file_env import FileEnv
from ollama_sync.core.findings import Finding, Severity, sort_findings
from ollama_sync.core.hostport import HostPort
from ollama_sync.core.machine_facts import (
    Account,
    ManagerJob,
    OllamaProcess,
    PathStat,
    is_group_or_world_writable,
    is_world_readable,
)
from ollama_sync.core.network import Address, Listener, Probe, TailscaleSelf
from ollama_sync.core.observation import RunState, ServerConfig, ServiceState
from ollama_sync.core.render import is_ours
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Target
from ollama_sync.core.trust import PRIVATE_FILE_MODE, secret_variables, state_dir_fix, state_dir_problem
from ollama_sync.core.version import Version


@dataclass(frozen=True)
class LogNote:
    """A recognised line of the server's log (kinds: system/server_log.LogEventKind values)."""

    kind: str
    line: int
    text: str
    variable: str | None = None


@dataclass(frozen=True)
class DoctorFacts:
    """Everything doctor judges; None where a fact could not be observed (that check is skipped)."""

    target: Target
    uid: int  # the user running ollama-sync
    user: str
    enabled: bool  # the declaration's `enable`
    declared_env: dict[str, str]
    listen: HostPort
    rendered: bytes | None
    file_content: bytes | None
    file_env: FileEnv | None
    file_stat: PathStat | None
    binary_exists: bool | None
    live: bool  # the manager and the network were asked
    service: ServiceState | None = None
    manager_problems: tuple[str, ...] = ()
    log_notes: tuple[LogNote, ...] = ()  # recognised lines since the newest server start
    server_config: ServerConfig | None = None
    rows: tuple[SettingRow, ...] = ()
    installed_version: Version | None = None
    api_version: str | None = None
    addresses: tuple[Address, ...] = ()
    probes: tuple[Probe, ...] = ()
    tailscale: TailscaleSelf | None = None
    port_listeners: tuple[Listener, ...] | None = None
    our_pids: frozenset[int] = field(default_factory=frozenset)
    processes: tuple[OllamaProcess, ...] | None = None
    other_jobs: tuple[ManagerJob, ...] = ()  # launchd jobs naming Ollama that are not ours
    homebrew_plist: str | None = None  # path of homebrew.mxcl.ollama.plist when present
    installer_unit: str | None = None  # Linux: Ollama's installer unit when it is not ours
    homebrew_env: tuple[str, tuple[str, ...]] | None = None  # ~/.homebrew/services/ollama.env and its names
    models_path: str = ""
    models_chain: tuple[PathStat, ...] | None = None  # "/" … models folder; None: it does not exist
    service_account: Account | None = None
    service_user: str = ""  # the name the service runs as (declared, or the current user)
    state_dir: PathStat | None = None  # ollama-sync's state directory; None: it does not exist yet

    @property
    def fixes(self) -> FixCommands:
        """The manager commands for this service."""
        return FixCommands(self.target, self.uid, self.service.domain if self.service else None)


def diagnose(facts: DoctorFacts) -> tuple[Finding, ...]:
    """Every finding for the facts, most serious first."""
    findings = [*_file_findings(facts), *_service_findings(facts), *server_findings(facts),
                *network_findings(facts), *_state_dir_findings(facts)]
    return sort_findings(findings)


def _file_findings(facts: DoctorFacts) -> Iterator[Finding]:
    path = facts.target.path
    if facts.file_content is None:
        if facts.enabled:
            yield Finding("service-file-missing", Severity.ERROR, f"the service file {path} does not exist",
                          "ollama-sync apply")
        return
    if facts.file_env is not None and facts.file_env.error:
        lint = f"plutil -lint {path}; " if facts.target.backend is Backend.LAUNCHD else ""
        yield Finding("service-file-invalid", Severity.ERROR, f"{path} is not valid: {facts.file_env.error}",
                      f"{lint}ollama-sync apply (rewrites it from the declaration)")
    elif facts.rendered is not None and facts.file_content != facts.rendered:
        yield Finding("service-file-outdated", Severity.WARNING,
                      f"{path} differs from what the declaration renders", "ollama-sync plan; ollama-sync apply")
    if not is_ours(facts.file_content):
        yield Finding("service-file-not-managed", Severity.INFO,
                      f"{path} was not written by ollama-sync", "ollama-sync apply (keeps a backup of it)")
    yield from _mode_findings(facts)
    yield from _secret_findings(facts)
    if facts.binary_exists is False:
        yield Finding("binary-missing", Severity.ERROR,
                      f"the service runs {facts.target.binary}, which does not exist",
                      "install Ollama (macOS: brew install ollama; Linux: curl -fsSL https://ollama.com/install.sh "
                      "| sh), or set binary = \"…\" in [service] of the config")


def _expected_owner(facts: DoctorFacts) -> tuple[int, str]:
    """Who must own the service file: the user for a user service, root for a system one."""
    if facts.target.scope is Scope.SYSTEM:
        return 0, "root"
    return facts.uid, facts.user


def _mode_findings(facts: DoctorFacts) -> Iterator[Finding]:
    item = facts.file_stat
    if item is None:
        return
    path = facts.target.path
    strict = facts.target.backend is Backend.LAUNCHD  # launchd refuses such files ("bad ownership/permissions")
    severity = Severity.ERROR if strict else Severity.WARNING
    uid, owner = _expected_owner(facts)
    if item.uid != uid:
        yield Finding("service-file-owner", severity,
                      f"{path} is owned by uid {item.uid}, not {owner}"
                      + (": launchd refuses to load it" if strict else ""), f"sudo chown {owner} {path}")
    if is_group_or_world_writable(item):
        yield Finding("service-file-writable", severity,
                      f"{path} is writable by {'others' if item.mode & 0o002 else 'its group'} (mode "
                      f"{item.mode:04o}): anyone who can write it chooses what runs"
                      + (", and launchd refuses it" if strict else ""), f"chmod go-w {path}")


def _secret_findings(facts: DoctorFacts) -> Iterator[Finding]:
    item = facts.file_stat
    env = facts.file_env.env if facts.file_env is not None else None
    if item is None or not env or not item.mode & ~PRIVATE_FILE_MODE & 0o777:
        return  # the mode apply writes for a file with secrets (core/trust.py): doctor and apply agree
    names = secret_variables(env)
    if names:
        who = "every user" if is_world_readable(item) else "its group"
        yield Finding("secrets-readable", Severity.WARNING,
                      f"{facts.target.path} can be read by {who} (mode {item.mode:04o}) and holds "
                      f"secrets: {', '.join(names)}", f"chmod 600 {facts.target.path}", variable=names[0])


def _state_dir_findings(facts: DoctorFacts) -> Iterator[Finding]:
    item = facts.state_dir
    problem = state_dir_problem(item, facts.uid) if item is not None else None
    if item is not None and problem is not None:
        yield Finding("state-dir-unsafe", Severity.ERROR,
                      f"{problem}: apply, rollback and recovery refuse it (whoever can write it chooses what runs)",
                      state_dir_fix(item, facts.uid))


def _service_findings(facts: DoctorFacts) -> Iterator[Finding]:
    name = f"{facts.target.backend.value} service {facts.target.name}"
    if not facts.live:
        yield Finding("service-not-checked", Severity.INFO,
                      f"the {name} was not asked (under --root only files are read)", "run without --root")
        return
    for problem in facts.manager_problems:
        yield Finding("manager-unavailable", Severity.WARNING, f"could not read the service state: {problem}",
                      _manager_hint(facts.target.backend))
    state = facts.service
    if state is None:
        return
    if state.enabled is False and facts.enabled and facts.target.backend is not Backend.SUPERVISORD:
        yield Finding("service-disabled", Severity.ERROR,
                      f"the {name} is disabled: the manager will not start it", facts.fixes.enable())
    if not facts.enabled:
        if state.state not in (RunState.NOT_LOADED, RunState.STOPPED):
            yield Finding("service-should-be-stopped", Severity.WARNING,
                          f"the declaration says enable = false but the {name} is {state.state.value}",
                          "ollama-sync apply")
        return
    if state.domain is not None and state.domain.startswith("user/") and facts.target.scope is Scope.USER:
        yield Finding("launchd-user-domain", Severity.WARNING,
                      f"the {name} runs in {state.domain}, not gui/{facts.uid} (it was loaded without a GUI login: "
                      "SSH or headless): after a reboot launchd does not load it again until "
                      f"{facts.user} logs in at the Mac's screen",
                      "log in at the Mac once after each reboot, turn on automatic login, or declare "
                      'scope = "system" (a LaunchDaemon that starts at boot)')
    if state.state is RunState.NOT_LOADED:
        yield Finding("service-not-loaded", Severity.ERROR, f"the {name} is not loaded", "ollama-sync apply")
    elif not state.is_running and state.state is not RunState.STARTING:
        yield Finding("service-not-running", Severity.ERROR,
                      f"the {name} is {state.state.value}" + (f" ({state.detail})" if state.detail else ""),
                      facts.fixes.restart())


def _manager_hint(backend: Backend) -> str:
    match backend:
        case Backend.LAUNCHD:
            return "run it in the user's GUI session (not over SSH), or check: launchctl print gui/$(id -u)"
        case Backend.SYSTEMD:
            return "check: systemctl --user status (a user session bus is needed)"
        case Backend.SUPERVISORD:
            return "start supervisord, or set OLLAMA_SYNC_SUPERVISOR_CONF to its config file"
