"""A healthy launchd service's DoctorFacts, to be varied one fact at a time by the doctor tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ollama_sync.core.doctor.diagnose import DoctorFacts
from ollama_sync.core.drift import drift_table
from ollama_sync.core.environment import render_environment
from ollama_sync.core.file_env import FileEnv
from ollama_sync.core.hostport import parse_host
from ollama_sync.core.machine_facts import Account, PathStat
from ollama_sync.core.network import Address, AddressKind, Probe, TailscaleSelf
from ollama_sync.core.observation import RunState, ServerConfig, ServiceState
from ollama_sync.core.render.launchd import render_plist
from ollama_sync.core.settings import Backend, Declaration, OllamaSettings, Scope
from ollama_sync.core.target import Target
from ollama_sync.core.version import v

TARGET = Target(Backend.LAUNCHD, "/Users/alice/Library/LaunchAgents/com.github.ollama.plist", "com.github.ollama",
                "/opt/homebrew/bin/ollama", Scope.USER, "/Users/alice/Library/Logs/ollama-sync/com.github.ollama.log")
ALICE = Account("alice", 501, (20,), "/Users/alice")
LOOPBACK = Address("127.0.0.1", "lo0", AddressKind.LOOPBACK)
LAN = Address("192.168.1.20", "en0", AddressKind.LAN)
TAILNET = Address("100.101.102.103", "utun3", AddressKind.TAILSCALE)
TAILSCALE = TailscaleSelf("Running", ("100.101.102.103",), "studio.tail1234.ts.net")
MODELS = "/Users/alice/.ollama/models"
CHAIN = (PathStat("/", 0, 0, 0o755, True), PathStat("/Users", 0, 80, 0o755, True),
         PathStat("/Users/alice", 501, 20, 0o750, True), PathStat("/Users/alice/.ollama", 501, 20, 0o755, True),
         PathStat(MODELS, 501, 20, 0o755, True))


def probe(address: Address, answered: bool, port: int = 11434) -> Probe:
    host = f"[{address.ip}]" if ":" in address.ip else address.ip
    return Probe(address, f"http://{host}:{port}", answered, "0.12.3" if answered else None,
                 None if answered else "refused")


def healthy(settings: OllamaSettings | None = None, **changes: Any) -> DoctorFacts:
    """Facts of a service that runs as declared; changes replace single facts."""
    decl = Declaration(settings or OllamaSettings(host="100.101.102.103", port=11434, num_parallel=4))
    env = render_environment(decl.settings)
    content = render_plist(env, TARGET, "/decl.toml")
    host = parse_host(env.get("OLLAMA_HOST", ""))
    server = ServerConfig(tuple(sorted({**env, "OLLAMA_HOST": host.url}.items())),
                          "0.12.3")
    state = ServiceState(RunState.RUNNING, 921, 0, True, tuple(env.items()), "gui/501")
    facts = DoctorFacts(
        target=TARGET, uid=501, user="alice", enabled=decl.settings.enable, declared_env=env, listen=host,
        rendered=content, file_content=content, file_env=FileEnv(dict(env)),
        file_stat=PathStat(TARGET.path, 501, 20, 0o644, False), binary_exists=True, live=True, service=state,
        server_config=server, rows=drift_table(decl, env, env, dict(env), server), installed_version=v("0.12.3"),
        api_version="0.12.3", addresses=(LOOPBACK, TAILNET, LAN),
        probes=(probe(LOOPBACK, False), probe(TAILNET, host.host == TAILNET.ip), probe(LAN, False)),
        tailscale=TAILSCALE, port_listeners=(), our_pids=frozenset({921}), processes=(), models_path=MODELS,
        models_chain=CHAIN, service_account=ALICE, service_user="alice")
    return replace(facts, **changes)
