"""Doctor checks about the server itself: last exit status, its log, settings drift, version, models folder."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ollama_sync.core import catalog
from ollama_sync.core.doctor.exposure import port_to_move_to
from ollama_sync.core.drift import Mark, SettingRow
from ollama_sync.core.exit_status import explain_exit_status, is_failure
from ollama_sync.core.findings import Finding, Severity
from ollama_sync.core.machine_facts import Access, blocking_ancestor, can_access
from ollama_sync.core.network import is_tailscale_ip
from ollama_sync.core.options import OPTIONS
from ollama_sync.core.settings import Backend

if TYPE_CHECKING:
    from ollama_sync.core.doctor.diagnose import DoctorFacts

# Kinds of known log lines (system/server_log.LogEventKind values) → (code, severity).
_LOG_CODES = {
    "address-in-use": ("log-address-in-use", Severity.ERROR),
    "address-not-available": ("log-address-not-available", Severity.ERROR),
    "permission-denied": ("log-permission-denied", Severity.ERROR),
    "invalid-variable": ("log-invalid-variable", Severity.WARNING),
    "invalid-port": ("log-invalid-port", Severity.ERROR),
    "kv-cache-ignored": ("log-kv-cache-ignored", Severity.WARNING),
    "error": ("log-error", Severity.WARNING),
}
MAX_ERROR_LINES = 3


def server_findings(facts: DoctorFacts) -> Iterator[Finding]:
    """Exit status, log lines, drift, version and models-folder findings."""
    yield from _exit_findings(facts)
    yield from _log_findings(facts)
    yield from _drift_findings(facts)
    yield from _version_findings(facts)
    yield from _models_findings(facts)


def _exit_findings(facts: DoctorFacts) -> Iterator[Finding]:
    state = facts.service
    if state is None or not is_failure(state.last_exit):
        return
    code = state.last_exit
    assert code is not None
    running = state.is_running
    severity = Severity.WARNING if running else Severity.ERROR
    when = "before it was restarted" if running else "and it is not running"
    yield Finding("last-exit", severity,
                  f"the server's last exit status was {code}: {explain_exit_status(code)} ({when})",
                  _exit_fix(facts, code))


def _exit_fix(facts: DoctorFacts, code: int) -> str:
    if code in (78, 126, 127, 203):
        log_dir = posixpath.dirname(facts.target.log_path) if facts.target.log_path else None
        parts = [f"ls -l {facts.target.binary}"] + ([f"mkdir -p {log_dir}"] if log_dir else [])
        return "; ".join([*parts, "ollama-sync apply"])
    if code in (-9, 137):
        return "ollama-sync memory (then lower context_length or num_parallel with ollama-sync set)"
    return facts.fixes.logs()


def _log_findings(facts: DoctorFacts) -> Iterator[Finding]:
    errors = 0
    for note in facts.log_notes:
        code, severity = _LOG_CODES.get(note.kind, ("log-error", Severity.WARNING))
        if code == "log-error":
            errors += 1
            if errors > MAX_ERROR_LINES:
                continue
        yield Finding(code, severity, f"the server logged: {_trim(note.text)}",
                      _log_fix(facts, note.kind, note.variable), variable=note.variable)
    if facts.live and facts.service is not None and facts.service.is_running and facts.server_config is None:
        yield Finding("server-config-not-logged", Severity.INFO,
                      "no `server config` line in the server's log: what the server resolved cannot be checked",
                      "ollama-sync apply (the rendered service keeps the server's log)")


def _address_not_available(facts: DoctorFacts) -> str:
    """`bind: cannot assign requested address`: the declared host is not an address of this machine (yet)."""
    host = facts.listen.host
    family = "-6" if ":" in host else "-4"
    why = (f"{host} was not an address of this machine when the server started" if not is_tailscale_ip(host) else
           f"{host} is a Tailscale address: it exists only once tailscaled is up and logged in (not yet at boot)")
    retry = {Backend.LAUNCHD: "launchd's KeepAlive starts it again (every 10 s at most, ThrottleInterval)",
             Backend.SYSTEMD: "systemd's Restart=on-failure starts it again with a growing delay",
             Backend.SUPERVISORD: "supervisord retries only `startretries` times; then `supervisorctl start` it"}
    return (f"{why}; {retry[facts.target.backend]}, so it comes up once the address appears. "
            f"Check the address: tailscale ip {family} (or ifconfig); to listen before it exists, bind 0.0.0.0 "
            "and limit access with a firewall")


def _trim(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _log_fix(facts: DoctorFacts, kind: str, variable: str | None) -> str:
    match kind:
        case "address-in-use":
            return (f"stop whatever holds port {facts.listen.port} (see port-taken), or move: "
                    f"ollama-sync set port {port_to_move_to(facts.listen.port)}")
        case "address-not-available":
            return _address_not_available(facts)
        case "permission-denied":
            return facts.fixes.chown(facts.service_user or facts.user, facts.models_path, recursive=True)
        case "invalid-variable" if variable:
            return f"ollama-sync unset {_key(facts.rows, variable)}"
        case "invalid-port":
            return "ollama-sync set port 11434"
        case "kv-cache-ignored":
            return "ollama-sync set flash_attention true"
    return facts.fixes.logs()


def _key(rows: tuple[SettingRow, ...], variable: str) -> str:
    row = next((r for r in rows if r.variable == variable), None)
    return row.setting if row is not None and row.setting else f"environment.{variable}"


def _names(rows: list[SettingRow]) -> str:
    return ", ".join(row.variable for row in rows)


def _drift_findings(facts: DoctorFacts) -> Iterator[Finding]:
    rows = facts.rows
    for row in rows:
        if row.server.mark is Mark.UNREAD:
            yield _ignored(row)
    file_bad = [r for r in rows if not r.file.mark.ok]
    manager_bad = [r for r in rows if not r.manager.mark.ok]
    server_bad = [r for r in rows if r.server.mark is Mark.DIFFERENT]
    if file_bad:
        yield Finding("file-drift", Severity.WARNING,
                      f"the service file does not pass the declared value of {_names(file_bad)}", "ollama-sync apply")
    if manager_bad and not file_bad:
        yield Finding("manager-drift", Severity.WARNING,
                      f"the service manager passes other values of {_names(manager_bad)} than the file: "
                      "it has not reloaded the file", "ollama-sync apply")
    if server_bad:
        fix = facts.fixes.restart() if not (file_bad or manager_bad) else "ollama-sync apply"
        yield Finding("server-drift", Severity.WARNING,
                      f"the running server resolved other values of {_names(server_bad)}: it was started "
                      "before the last change", fix)


def _ignored(row: SettingRow) -> Finding:
    meant = catalog.MISTAKES.get(row.variable)
    key = row.setting or f"environment.{row.variable}"
    fix = f"ollama-sync unset {key}"
    if meant is not None and row.declared is not None:
        option = next((o.key for o in OPTIONS if o.variable == meant), None)
        fix += f"; ollama-sync set {option or 'environment.' + meant} {row.declared}"
    return Finding("server-ignores-variable", Severity.WARNING,
                   f"{row.variable} is passed to the server but absent from its `server config` line: "
                   "this server does not read it, so it has no effect", fix, variable=row.variable)


def _version_findings(facts: DoctorFacts) -> Iterator[Finding]:
    installed, running = facts.installed_version, facts.api_version
    if installed is None or not running or running == "0.0.0":
        return
    if running != str(installed):
        yield Finding("server-version-differs", Severity.WARNING,
                      f"the running server is Ollama {running} but the installed binary is {installed}: "
                      "it was not restarted after an upgrade", facts.fixes.restart())


def _models_findings(facts: DoctorFacts) -> Iterator[Finding]:
    path, user = facts.models_path, facts.service_user
    if not path:
        return
    account = facts.service_account
    if account is None:
        yield Finding("service-user-unknown", Severity.ERROR,
                      f"the service runs as {user!r}, which is not an account on this machine",
                      f"create it (Linux: sudo useradd --system {user}), or fix user = … in [service]")
        return
    chain = facts.models_chain
    if chain is None:
        owner = "" if account.uid == facts.uid else f" && {facts.fixes.chown(account.name, path)}"
        yield Finding("models-dir-missing", Severity.WARNING,
                      f"the models folder {path} does not exist (the server creates it only if it may)",
                      f"mkdir -p {path}{owner}")
        return
    for want in (Access.READ, Access.WRITE):
        if not can_access(chain, account, want):
            yield _no_access(facts, want)


def _no_access(facts: DoctorFacts, want: Access) -> Finding:
    assert facts.models_chain is not None and facts.service_account is not None
    account = facts.service_account
    blocked = blocking_ancestor(facts.models_chain, account)
    if blocked is not None:
        fix = f"sudo chmod o+x {blocked.path} (or choose a folder {account.name} can reach: ollama-sync set " \
              "models_path …)"
        why = f"{blocked.path} does not let {account.name} through"
    else:
        fix = facts.fixes.chown(account.name, facts.models_path, recursive=True)
        why = f"mode {facts.models_chain[-1].mode:04o}, owner uid {facts.models_chain[-1].uid}"
    code = "models-dir-not-readable" if want is Access.READ else "models-dir-not-writable"
    return Finding(code, Severity.ERROR,
                   f"the service's user {account.name} cannot {want.value} the models folder "
                   f"{facts.models_path} ({why})", fix, variable="OLLAMA_MODELS")
