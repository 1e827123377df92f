"""Doctor checks about the network: who holds the port, other Ollama servers, reachability and exposure."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ollama_sync.core.exit_status import explain_exit_status
from ollama_sync.core.findings import Finding, Severity
from ollama_sync.core.hostport import binds_all_interfaces, is_loopback, parse_host
from ollama_sync.core.machine_facts import ManagerJob, OllamaProcess, ServerKind, job_kind
from ollama_sync.core.network import AddressKind, Listener, has_public_address, is_tailscale_ip

if TYPE_CHECKING:
    from ollama_sync.core.doctor.diagnose import DoctorFacts

APP_GATEWAY_PORT: Final = 11435  # Ollama ≥ 0.33: the macOS app's gateway (app/gateway), refused for OLLAMA_HOST
QUIT_APP: Final = ("osascript -e 'tell app \"Ollama\" to quit' (and remove Ollama from System Settings → "
                   "General → Login Items)")


def network_findings(facts: DoctorFacts) -> Iterator[Finding]:
    """Port, other-server, reachability and exposure findings."""
    holders = _foreign_listeners(facts)
    yield from (_port_taken(facts, item) for item in holders)
    yield from _other_servers(facts, {item.pid for item in holders})
    yield from _other_services(facts)
    yield from _reachability(facts)
    yield from _exposure(facts)


def _foreign_listeners(facts: DoctorFacts) -> list[Listener]:
    listeners = facts.port_listeners or ()
    seen: set[int | None] = set()
    foreign = []
    for item in listeners:
        if item.pid in facts.our_pids or item.pid in seen:
            continue
        seen.add(item.pid)
        foreign.append(item)
    return foreign


def _process(facts: DoctorFacts, pid: int | None) -> OllamaProcess | None:
    return next((p for p in facts.processes or () if p.pid == pid), None)


def _stop_command(process: OllamaProcess | None, pid: int | None) -> str:
    if process is not None and process.kind is ServerKind.DESKTOP_APP:
        return QUIT_APP
    if process is not None and process.kind is ServerKind.HOMEBREW:
        return "brew services stop ollama"
    return f"kill {pid}" if pid is not None else "stop the program that listens there"


@dataclass(frozen=True)
class Holder:
    """Who holds the declared port, what it is, and the command that frees the port."""

    pid: int | None
    command: str
    what: str  # "the Ollama desktop app's server (Ollama.app)", "Homebrew's service homebrew.mxcl.ollama", …
    fix: str
    address: str = ""

    def __str__(self) -> str:
        who = f"pid {self.pid} ({self.command or 'unknown command'})" if self.pid is not None else "a process"
        return f"{who}: {self.what}"


@dataclass(frozen=True)
class HolderFacts:
    """What is known about the other servers on this machine (doctor's facts, gathered by app/)."""

    processes: tuple[OllamaProcess, ...] = ()
    jobs: tuple[ManagerJob, ...] = ()  # other launchd jobs naming Ollama
    ours_elsewhere: tuple[tuple[int, str, str], ...] = ()  # (pid, service name, stop command) of our other services
    installer_unit: str | None = None
    uid: int = 0


def identify_holder(item: Listener, port: int, known: HolderFacts) -> Holder:
    """Name the process holding port (Ollama.app, Homebrew's service, the installer unit, another service of ours…)."""
    move = f"ollama-sync set port {port_to_move_to(port)}"
    pid = item.pid
    if pid is None:
        return Holder(None, item.command, "a process of another user (its pid is hidden)",
                      f"sudo lsof -nP -iTCP:{port} -sTCP:LISTEN (then stop it), or move the service: {move}",
                      item.address)
    ours = next(((name, stop) for p, name, stop in known.ours_elsewhere if p == pid), None)
    if ours is not None:
        return Holder(pid, item.command, f"another service managed by ollama-sync ({ours[0]})", ours[1], item.address)
    process = next((p for p in known.processes if p.pid == pid), None)
    job = next((j for j in known.jobs if j.pid == pid), None)
    what, fix = _holder_kind(process, job, known)
    return Holder(pid, item.command, what, f"{fix or f'kill {pid}'}, or move the service: {move}", item.address)


def _holder_kind(process: OllamaProcess | None, job: ManagerJob | None, known: HolderFacts) -> tuple[str, str]:
    kind = job_kind(job.label) if job is not None else process.kind if process is not None else None
    if kind is ServerKind.DESKTOP_APP or (process is not None and process.is_app):
        return "the Ollama desktop app's server (Ollama.app)", QUIT_APP
    if kind is ServerKind.HOMEBREW:
        return "Homebrew's service homebrew.mxcl.ollama (brew services)", "brew services stop ollama"
    if job is not None:
        return f"the launchd job {job.label}", f"launchctl bootout gui/{known.uid}/{job.label}"
    if process is not None and known.installer_unit:
        return f"Ollama's installer unit ({known.installer_unit})", "sudo systemctl disable --now ollama"
    if process is not None:
        return "another `ollama serve` (not a service ollama-sync manages)", ""
    return "a program that is not an Ollama server", ""


def _port_taken(facts: DoctorFacts, item: Listener) -> Finding:
    port = facts.listen.port
    holder = identify_holder(item, port, holder_facts(facts))
    return Finding("port-taken", Severity.ERROR,
                   f"port {port} is held by {holder} on {item.address}, not by the {facts.target.name} service",
                   holder.fix)


def holder_facts(facts: DoctorFacts) -> HolderFacts:
    """The facts identify_holder needs, from doctor's facts."""
    return HolderFacts(facts.processes or (), facts.other_jobs, (), facts.installer_unit, facts.uid)


def port_to_move_to(port: int) -> int:
    """The port to suggest instead of a taken one (never 11435, the desktop app's gateway since 0.33)."""
    return port + 2 if port + 1 == APP_GATEWAY_PORT else port + 1


def _other_servers(facts: DoctorFacts, reported: set[int | None]) -> Iterator[Finding]:
    for process in facts.processes or ():
        if process.pid in facts.our_pids or process.pid in reported:
            continue
        if process.is_app:
            yield Finding("desktop-app-running", Severity.ERROR,
                          f"the Ollama desktop app runs (pid {process.pid}): it starts its own server and kills "
                          "other `ollama serve` processes when it cannot bind the port", QUIT_APP)
        elif process.kind is ServerKind.DESKTOP_APP:
            yield Finding("other-ollama-server", Severity.ERROR,
                          f"the desktop app's server runs (pid {process.pid}: {process.command}): two servers "
                          "fight over one port and one models folder", QUIT_APP)
        else:
            source = "Homebrew's service" if process.kind is ServerKind.HOMEBREW else "another `ollama serve`"
            yield Finding("other-ollama-server", Severity.WARNING,
                          f"{source} runs (pid {process.pid}: {process.command}) besides the "
                          f"{facts.target.name} service", _stop_command(process, process.pid))


def _other_services(facts: DoctorFacts) -> Iterator[Finding]:
    for job in facts.other_jobs:
        yield _other_job(facts, job)
    if facts.homebrew_plist and facts.target.name != "homebrew.mxcl.ollama":
        yield Finding("homebrew-service", Severity.WARNING,
                      f"Homebrew's service for Ollama is installed ({facts.homebrew_plist}): it starts a second "
                      "server on the same port at login", "brew services stop ollama")
    if facts.homebrew_env is not None:
        path, names = facts.homebrew_env
        severity = Severity.WARNING if facts.homebrew_plist else Severity.INFO
        yield Finding("homebrew-env-file", severity,
                      f"{path} feeds Homebrew's `brew services start ollama` on every start (Homebrew ≥ 6.0.15): "
                      f"it sets {', '.join(names) or 'no variables'}; that service may be the one holding the port",
                      "brew services stop ollama (and remove the file when ollama-sync manages the server)")
    if facts.installer_unit:
        yield Finding("installer-unit", Severity.WARNING,
                      f"Ollama's installer unit {facts.installer_unit} also runs `ollama serve` on this machine",
                      "sudo systemctl disable --now ollama")


def _other_job(facts: DoctorFacts, job: ManagerJob) -> Finding:
    kind = job_kind(job.label)
    state = f"running, pid {job.pid}" if job.pid else "loaded, not running"
    if job.last_exit not in (None, 0):
        state += f", last exit {job.last_exit}: {explain_exit_status(job.last_exit or 0)}"
    fix = {ServerKind.HOMEBREW: "brew services stop ollama", ServerKind.DESKTOP_APP: QUIT_APP}.get(
        kind, f"launchctl bootout {job.domain or f'gui/{facts.uid}'}/{job.label}")
    severity = Severity.ERROR if kind is ServerKind.DESKTOP_APP and job.pid else Severity.WARNING
    where = f" in {job.domain}" if job.domain else ""
    return Finding("other-launchd-job", severity,
                   f"launchd also has {job.label}{where} ({state}): another Ollama server for the same port", fix)


def _declared_ip(facts: DoctorFacts) -> str | None:
    """The declared host when it is an IP literal (not all interfaces)."""
    host = facts.listen.host
    if binds_all_interfaces(facts.listen):
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _reachability(facts: DoctorFacts) -> Iterator[Finding]:
    if not facts.live or not facts.addresses:
        return
    host = _declared_ip(facts)
    ours = {a.ip for a in facts.addresses}
    if host is not None and host not in ours and not is_loopback(facts.listen):
        hint = _private_host_hint(facts)
        yield Finding("declared-host-not-local", Severity.ERROR,
                      f"OLLAMA_HOST names {host}, which is not an address of this machine: the server cannot "
                      "listen there", hint, variable="OLLAMA_HOST")
        return
    state = facts.service
    if state is None or not state.is_running:
        return
    if not any(_is_declared_probe(facts, p.address.ip, p.address.kind) for p in facts.probes if p.answered):
        yield Finding("server-not-answering", Severity.ERROR,
                      f"the service runs (pid {state.pid}) but the API does not answer on {facts.listen.listen}",
                      facts.fixes.logs())


def _is_declared_probe(facts: DoctorFacts, ip: str, kind: AddressKind) -> bool:
    if binds_all_interfaces(facts.listen) or facts.listen.host == "localhost":
        return kind is AddressKind.LOOPBACK or not is_loopback(facts.listen)
    return ip == _declared_ip(facts)


def _private_host_hint(facts: DoctorFacts) -> str:
    ts = facts.tailscale
    if ts is not None and ts.running:
        ipv4 = next((ip for ip in ts.ips if "." in ip), ts.ips[0])
        return f"ollama-sync set host {ipv4} (this machine's Tailscale address)"
    return "ollama-sync set host 127.0.0.1"


def _means_tailscale(facts: DoctorFacts) -> bool:
    host = facts.listen.host
    ts = facts.tailscale
    return is_tailscale_ip(host) or (ts is not None and ts.dns_name is not None
                                     and host.rstrip(".") == ts.dns_name)


def _exposure(facts: DoctorFacts) -> Iterator[Finding]:
    resolved = facts.server_config.get("OLLAMA_HOST") if facts.server_config else None
    all_interfaces = binds_all_interfaces(facts.listen) or (
        resolved is not None and binds_all_interfaces(parse_host(resolved)))
    answered = [p for p in facts.probes if p.answered]
    public = [p.address.ip for p in answered if p.address.kind is AddressKind.PUBLIC]
    if public or (all_interfaces and has_public_address(facts.addresses)):
        where = ", ".join(public) or ", ".join(a.ip for a in facts.addresses if a.kind is AddressKind.PUBLIC)
        yield Finding("exposed-to-public-network", Severity.ERROR,
                      f"the API (no authentication) is reachable on the public address {where}",
                      _private_host_hint(facts), variable="OLLAMA_HOST")
    tailnet_only = _means_tailscale(facts)
    if tailnet_only or (not all_interfaces and is_loopback(facts.listen)):
        lan = [p.address.ip for p in answered if p.address.kind is AddressKind.LAN]
        if lan:
            meant = "Tailscale only" if tailnet_only else "this machine only"
            yield Finding("reachable-from-lan", Severity.WARNING,
                          f"the API answers on the LAN address {', '.join(lan)} although the declaration "
                          f"binds {facts.listen.host} ({meant})",
                          "ollama-sync apply (restarts the server on the declared address); if another server "
                          "answers there, see other-ollama-server", variable="OLLAMA_HOST")
    yield from _origins(facts)


def _origins(facts: DoctorFacts) -> Iterator[Finding]:
    resolved = facts.server_config.get("OLLAMA_ORIGINS") if facts.server_config else None
    declared = facts.declared_env.get("OLLAMA_ORIGINS", "")
    if resolved and "*" in resolved.strip("[]").split() and "*" not in declared.split(","):
        yield Finding("origins-wildcard", Severity.WARNING,
                      "the running server accepts requests from every web origin (OLLAMA_ORIGINS has *), "
                      "which the declaration does not ask for", "ollama-sync apply", variable="OLLAMA_ORIGINS")
