"""core/doctor: one table row per finding code, each from a healthy service with one fact changed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ollama_sync.core.doctor.diagnose import DoctorFacts, LogNote, diagnose
from ollama_sync.core.doctor.exposure import HolderFacts, identify_holder
from ollama_sync.core.drift import drift_table
from ollama_sync.core.environment import render_environment
from ollama_sync.core.file_env import FileEnv
from ollama_sync.core.findings import Severity
from ollama_sync.core.machine_facts import Account, ManagerJob, OllamaProcess, PathStat, ServerKind
from ollama_sync.core.network import Address, AddressKind, Listener
from ollama_sync.core.observation import RunState, ServerConfig, ServiceState
from ollama_sync.core.settings import Backend, Declaration, OllamaSettings, Scope
from tests.core.doctor_facts import CHAIN, LAN, LOOPBACK, MODELS, TARGET, healthy, probe


def codes(facts: DoctorFacts) -> dict[str, tuple[Severity, str, str]]:
    return {f.code: (f.severity, f.message, f.hint) for f in diagnose(facts)}


def test_a_healthy_service_has_no_findings() -> None:
    assert diagnose(healthy()) == ()


def state(**changes: Any) -> ServiceState:
    base = healthy().service
    assert base is not None
    return replace(base, **changes)


CASES: list[tuple[str, dict[str, Any], Severity, str]] = [
    ("service-file-missing", {"file_content": None, "file_env": None, "file_stat": None}, Severity.ERROR,
     "ollama-sync apply"),
    ("service-file-invalid", {"file_content": b"<plist", "file_env": FileEnv(None, "not a property list")},
     Severity.ERROR, f"plutil -lint {TARGET.path}"),
    ("service-file-outdated", {"rendered": b"other"}, Severity.WARNING, "ollama-sync apply"),
    ("service-file-not-managed", {"file_content": b"<plist/>", "rendered": b"<plist/>"}, Severity.INFO,
     "ollama-sync apply"),
    ("service-file-owner", {"file_stat": PathStat(TARGET.path, 0, 0, 0o644, False)}, Severity.ERROR,
     f"sudo chown alice {TARGET.path}"),
    ("service-file-writable", {"file_stat": PathStat(TARGET.path, 501, 20, 0o664, False)}, Severity.ERROR,
     f"chmod go-w {TARGET.path}"),
    ("binary-missing", {"binary_exists": False}, Severity.ERROR, "brew install ollama"),
    ("service-not-loaded", {"service": ServiceState(RunState.NOT_LOADED, enabled=True)}, Severity.ERROR,
     "ollama-sync apply"),
    ("service-not-running", {"service": state(state=RunState.FAILED, pid=None)}, Severity.ERROR,
     "launchctl kickstart -k gui/501/com.github.ollama"),
    ("service-disabled", {"service": state(enabled=False)}, Severity.ERROR,
     "launchctl enable gui/501/com.github.ollama"),
    ("last-exit", {"service": state(state=RunState.FAILED, pid=None, last_exit=78)}, Severity.ERROR,
     "ls -l /opt/homebrew/bin/ollama; mkdir -p /Users/alice/Library/Logs/ollama-sync; ollama-sync apply"),
    ("manager-unavailable", {"manager_problems": ("launchd did not answer within 1.2 s",), "service": None},
     Severity.WARNING, "launchctl print"),
    ("service-not-checked", {"live": False}, Severity.INFO, "without --root"),
    ("server-version-differs", {"api_version": "0.12.2"}, Severity.WARNING, "launchctl kickstart -k"),
    ("models-dir-missing", {"models_chain": None}, Severity.WARNING, f"mkdir -p {MODELS}"),
    ("models-dir-not-writable", {"models_chain": (*CHAIN[:-1], PathStat(MODELS, 0, 0, 0o755, True))},
     Severity.ERROR, f"sudo chown -R alice {MODELS}"),
    ("models-dir-not-readable", {"models_chain": (*CHAIN[:-1], PathStat(MODELS, 0, 0, 0o700, True))},
     Severity.ERROR, f"sudo chown -R alice {MODELS}"),
    ("service-user-unknown", {"service_account": None, "service_user": "ollama"}, Severity.ERROR, "useradd"),
    ("port-taken", {"port_listeners": (Listener(4242, "python3 -m http.server 11434", "*:11434"),)},
     Severity.ERROR, "kill 4242"),
    ("other-ollama-server", {"processes": (OllamaProcess(777, 1, "/opt/homebrew/opt/ollama/bin/ollama serve",
                                                         ServerKind.HOMEBREW),)}, Severity.WARNING,
     "brew services stop ollama"),
    ("desktop-app-running", {"processes": (OllamaProcess(853, 1, "/Applications/Ollama.app/Contents/MacOS/Ollama",
                                                         ServerKind.DESKTOP_APP, is_app=True),)}, Severity.ERROR,
     "tell app \"Ollama\" to quit"),
    ("other-launchd-job", {"other_jobs": (ManagerJob("homebrew.mxcl.ollama", None, 78),)}, Severity.WARNING,
     "brew services stop ollama"),
    ("homebrew-service", {"homebrew_plist": "/Users/alice/Library/LaunchAgents/homebrew.mxcl.ollama.plist"},
     Severity.WARNING, "brew services stop ollama"),
    ("homebrew-env-file", {"homebrew_env": ("/Users/alice/.homebrew/services/ollama.env", ("OLLAMA_HOST",)),
                           "homebrew_plist": "/Users/alice/Library/LaunchAgents/homebrew.mxcl.ollama.plist"},
     Severity.WARNING, "brew services stop ollama"),
    ("installer-unit", {"installer_unit": "/etc/systemd/system/ollama.service"}, Severity.WARNING,
     "sudo systemctl disable --now ollama"),
    ("server-not-answering", {"probes": ()}, Severity.ERROR, "tail -n 50"),
    ("reachable-from-lan", {"probes": (probe(LOOPBACK, False), probe(LAN, True))}, Severity.WARNING,
     "ollama-sync apply"),
    ("log-address-in-use", {"log_notes": (LogNote("address-in-use", 3,
                                                  "Error: listen tcp 127.0.0.1:11434: bind: address already in use"),)},
     Severity.ERROR, "ollama-sync set port 11436"),
    ("log-permission-denied", {"log_notes": (LogNote("permission-denied", 2, "Error: mkdir /x: permission denied"),)},
     Severity.ERROR, f"sudo chown -R alice {MODELS}"),
    ("log-invalid-variable", {"log_notes": (LogNote("invalid-variable", 2, "…", "OLLAMA_NUM_PARALLEL"),)},
     Severity.WARNING, "ollama-sync unset num_parallel"),
    ("log-kv-cache-ignored", {"log_notes": (LogNote("kv-cache-ignored", 2, "…"),)}, Severity.WARNING,
     "ollama-sync set flash_attention true"),
    ("log-error", {"log_notes": (LogNote("error", 2, "level=ERROR msg=boom"),)}, Severity.WARNING,
     "tail -n 50 /Users/alice/Library/Logs/ollama-sync/com.github.ollama.log"),
    ("server-config-not-logged", {"server_config": None}, Severity.INFO, "ollama-sync apply"),
    ("launchd-user-domain", {"service": state(domain="user/501")}, Severity.WARNING, 'scope = "system"'),
    ("log-address-not-available", {"log_notes": (LogNote(
        "address-not-available", 2, "Error: listen tcp 100.101.102.103:11434: bind: cannot assign requested address"),
    )}, Severity.ERROR, "launchd's KeepAlive starts it again"),
]


@pytest.mark.parametrize(("code", "changes", "severity", "fix"), CASES, ids=[c[0] for c in CASES])
def test_each_finding(code: str, changes: dict[str, Any], severity: Severity, fix: str) -> None:
    found = codes(healthy(**changes))
    assert code in found, found
    assert found[code][0] is severity
    assert fix in found[code][2]


def test_drift_findings_from_the_table() -> None:
    decl = Declaration(OllamaSettings(host="100.101.102.103", num_parallel=4,
                                      environment=(("OLLAMA_NUM_CTX", "8192"),)))
    env = render_environment(decl.settings)
    manager = dict(env, OLLAMA_NUM_PARALLEL="2")
    server = ServerConfig((("OLLAMA_HOST", "http://100.101.102.103:11434"), ("OLLAMA_NUM_PARALLEL", "1")))
    found = codes(healthy(declared_env=env, rows=drift_table(decl, env, env, manager, server), server_config=server))
    assert found["server-ignores-variable"][2] == (
        "ollama-sync unset environment.OLLAMA_NUM_CTX; ollama-sync set context_length 8192")
    assert "OLLAMA_NUM_PARALLEL" in found["manager-drift"][1]
    assert found["server-drift"][2] == "ollama-sync apply"
    only_server = codes(healthy(declared_env=env, rows=drift_table(decl, env, env, env, server)))
    assert only_server["server-drift"][2] == "launchctl kickstart -k gui/501/com.github.ollama"
    file_drift = codes(healthy(rows=drift_table(decl, env, {}, env, None)))
    assert "file-drift" in file_drift


def test_exposure_on_a_public_address() -> None:
    public = Address("8.8.4.4", "en0", AddressKind.PUBLIC)
    facts = healthy(OllamaSettings(host="0.0.0.0"), addresses=(LOOPBACK, public),
                    probes=(probe(LOOPBACK, True), probe(public, True)))
    found = codes(facts)
    assert found["exposed-to-public-network"][0] is Severity.ERROR
    assert found["exposed-to-public-network"][2] == (
        "ollama-sync set host 100.101.102.103 (this machine's Tailscale address)")


def test_declared_host_not_on_this_machine() -> None:
    found = codes(healthy(OllamaSettings(host="10.9.9.9")))
    assert found["declared-host-not-local"][2].startswith("ollama-sync set host 100.101.102.103")


def test_live_origins_wildcard_and_secrets() -> None:
    server = ServerConfig((("OLLAMA_HOST", "http://100.101.102.103:11434"), ("OLLAMA_ORIGINS", "[* app://*]")))
    assert "origins-wildcard" in codes(healthy(server_config=server))
    env = {"HTTPS_PROXY": "http://bob:hunter2@proxy:3128", "OLLAMA_HOST": "x"}
    found = codes(healthy(file_env=FileEnv(env), file_stat=PathStat(TARGET.path, 501, 20, 0o644, False)))
    assert found["secrets-readable"][2] == f"chmod 600 {TARGET.path}"
    private = codes(healthy(file_env=FileEnv(env), file_stat=PathStat(TARGET.path, 501, 20, 0o600, False)))
    assert "secrets-readable" not in private


def test_desktop_app_holding_the_port_is_named_with_its_fix() -> None:
    app_server = OllamaProcess(921, 853, "/Applications/Ollama.app/Contents/Resources/ollama serve",
                               ServerKind.DESKTOP_APP)
    found = codes(healthy(service=ServiceState(RunState.FAILED, None, 1, True, None, "gui/501"), our_pids=frozenset(),
                          port_listeners=(Listener(921, app_server.command, "127.0.0.1:11434"),),
                          processes=(app_server,)))
    assert "pid 921" in found["port-taken"][1] and "Ollama.app" in found["port-taken"][1]
    assert found["port-taken"][2].startswith("osascript")
    assert "other-ollama-server" not in found  # the same process is reported once


def test_systemd_and_supervisord_fixes() -> None:
    unit = replace(TARGET, backend=Backend.SYSTEMD, name="ollama", scope=Scope.SYSTEM, log_path=None,
                   path="/etc/systemd/system/ollama.service")
    found = codes(healthy(target=unit, uid=0, user="root", file_stat=PathStat(unit.path, 0, 0, 0o644, False),
                          rendered=None, service=state(state=RunState.FAILED, pid=None, last_exit=203, domain="system"),
                          log_notes=(LogNote("error", 1, "Error: boom"),)))
    assert found["service-not-running"][2] == "sudo systemctl restart ollama"
    assert "EXIT_EXEC" in found["last-exit"][1]
    assert found["log-error"][2] == "sudo journalctl -u ollama -n 50"
    program = replace(TARGET, backend=Backend.SUPERVISORD, name="ollama", log_path=None)
    found = codes(healthy(target=program, rendered=None, service=state(state=RunState.FAILED, pid=None, last_exit=1)))
    assert found["service-not-running"][2] == "supervisorctl restart ollama"
    assert found["last-exit"][2] == "supervisorctl tail ollama"


def test_disabled_declaration_wants_the_service_stopped() -> None:
    found = codes(healthy(enabled=False))
    assert found["service-should-be-stopped"][2] == "ollama-sync apply"
    assert "service-file-missing" not in codes(healthy(enabled=False, file_content=None, file_env=None,
                                                       service=ServiceState(RunState.NOT_LOADED)))


def test_blocked_parent_folder_is_named() -> None:
    chain = (*CHAIN[:2], PathStat("/Users/alice", 501, 20, 0o700, True), *CHAIN[3:])
    bob = Account("bob", 502, (20,), "/Users/bob")
    found = codes(healthy(models_chain=chain, service_account=bob, service_user="bob"))
    assert "/Users/alice does not let bob through" in found["models-dir-not-readable"][1]
    assert found["models-dir-not-readable"][2].startswith("sudo chmod o+x /Users/alice")


def test_address_not_available_names_tailscale_when_the_host_is_a_tailscale_address() -> None:
    from ollama_sync.core.hostport import parse_host  # noqa: PLC0415

    note = LogNote("address-not-available", 2, "Error: listen tcp 100.101.102.103:11434: bind: can't assign "
                   "requested address")
    facts = healthy(log_notes=(note,), listen=parse_host("100.101.102.103:11434"))
    fix = codes(facts)["log-address-not-available"][2]
    assert "is a Tailscale address: it exists only once tailscaled is up" in fix
    assert "tailscale ip -4" in fix
    systemd = codes(replace(facts, target=replace(TARGET, backend=Backend.SYSTEMD)))
    assert "systemd's Restart=on-failure" in systemd["log-address-not-available"][2]


@pytest.mark.parametrize(("listener", "facts", "what", "fix"), [
    (Listener(921, "/Applications/Ollama.app/Contents/Resources/ollama serve", "127.0.0.1:11434"),
     HolderFacts((OllamaProcess(921, 853, "…", ServerKind.DESKTOP_APP),)),
     "the Ollama desktop app's server (Ollama.app)", "osascript -e 'tell app \"Ollama\" to quit'"),
    (Listener(77, "/opt/homebrew/opt/ollama/bin/ollama serve", "*:11434"),
     HolderFacts(jobs=(ManagerJob("homebrew.mxcl.ollama", 77, None),)),
     "Homebrew's service homebrew.mxcl.ollama (brew services)", "brew services stop ollama"),
    (Listener(88, "/usr/local/bin/ollama serve", "*:11434"),
     HolderFacts((OllamaProcess(88, 1, "/usr/local/bin/ollama serve", ServerKind.OTHER),),
                 installer_unit="/etc/systemd/system/ollama.service"),
     "Ollama's installer unit (/etc/systemd/system/ollama.service)", "sudo systemctl disable --now ollama"),
    (Listener(99, "ollama serve", "127.0.0.1:11434"),
     HolderFacts(ours_elsewhere=((99, "com.github.ollama.old", "launchctl bootout gui/501/com.github.ollama.old"),)),
     "another service managed by ollama-sync (com.github.ollama.old)",
     "launchctl bootout gui/501/com.github.ollama.old"),
    (Listener(55, "node server.js", "*:11434"), HolderFacts(jobs=(ManagerJob("com.example.web", 55, None),), uid=501),
     "the launchd job com.example.web", "launchctl bootout gui/501/com.example.web"),
    (Listener(66, "python3 -m http.server 11434", "*:11434"), HolderFacts(),
     "a program that is not an Ollama server", "kill 66, or move the service: ollama-sync set port 11436"),
    (Listener(None, "", "*:11434"), HolderFacts(),
     "a process of another user (its pid is hidden)", "sudo lsof -nP -iTCP:11434 -sTCP:LISTEN"),
])
def test_identify_holder(listener: Listener, facts: HolderFacts, what: str, fix: str) -> None:
    """Who holds the port, named the way doctor names it, with the command that frees it (never port 11435)."""
    holder = identify_holder(listener, 11434, facts)
    assert holder.what == what and holder.fix.startswith(fix)
    assert "ollama-sync set port 11436" in holder.fix or holder.fix == fix
