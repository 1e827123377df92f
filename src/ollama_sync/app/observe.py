"""Gathering what status and doctor compare with the declaration: file, manager, server log, API, addresses.

Slow probes run at once in daemon threads under one time budget, so an address that does not answer
costs one short timeout, not one per probe, and never stalls the command. Probes go only to this
machine's own addresses. Under `--root`, nothing outside the root is asked (no manager, no network),
except with the supervisord backend, whose supervisord can itself live under the root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared
from ollama_sync.core.environment import render_environment
from ollama_sync.core.file_env import FileEnv, read_file_env
from ollama_sync.core.hostport import HostPort, binds_all_interfaces, is_loopback, parse_host
from ollama_sync.core.network import Address, AddressKind, Probe, TailscaleSelf, url_host
from ollama_sync.core.observation import ServerConfig, ServiceState
from ollama_sync.core.settings import Backend
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system import addresses as local
from ollama_sync.system import tailscale
from ollama_sync.system.http_client import BadAnswer, get_json
from ollama_sync.system.processes import started_at
from ollama_sync.system.service import manager_for

PROBE_TIMEOUT: Final = 0.6  # seconds per HTTP probe; addresses are this machine's own, so answers are fast
API_TIMEOUT: Final = 0.8
MANAGER_BUDGET: Final = 1.2  # launchctl print / systemctl show / supervisord RPC
LIVE_BUDGET: Final = 1.4  # everything live together: a slow view is reported as not answering, never waited for
LOG_LINES: Final = 400
LOG_TAIL_BYTES: Final = 1024 * 1024  # a server log grows without bound: read only its end
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Observation:
    """Everything observed for one declaration; None / empty where a view could not be read."""

    prepared: Prepared
    live: bool  # the manager and the network were asked
    skipped: str  # why not (empty when live)
    declared_env: dict[str, str]
    listen: HostPort
    file_content: bytes | None
    file_env: FileEnv | None
    service: ServiceState | None
    started_at: float | None
    now: float
    log_lines: tuple[str, ...]
    server_config: ServerConfig | None
    addresses: tuple[Address, ...]
    probes: tuple[Probe, ...]
    tailscale_cli: str | None
    tailscale: TailscaleSelf | None
    loaded: tuple[dict[str, Any], ...] | None
    installed: tuple[dict[str, Any], ...] | None
    problems: tuple[str, ...] = field(default=())  # views that failed to be read, said plainly

    @property
    def api_version(self) -> str | None:
        """The version the server announced over the API (first address that answered)."""
        return next((p.version for p in self.probes if p.answered), None)

    @property
    def answered(self) -> tuple[Probe, ...]:
        """The probes the server answered."""
        return tuple(p for p in self.probes if p.answered)


def is_live(ctx: Context, backend: Backend) -> bool:
    """Ask the manager and the network? Not under --root, unless supervisord (it may run under the root)."""
    return not ctx.sandboxed or backend is Backend.SUPERVISORD


def parallel(tasks: Mapping[str, Callable[[], Any]], budget: float) -> dict[str, Any]:
    """Run tasks at once; results by name, an exception as its value, a task over budget left out."""
    results: dict[str, Any] = {}

    def run(name: str, task: Callable[[], Any]) -> None:
        try:
            results[name] = task()
        except Exception as exc:  # handed to the caller, which re-raises what it does not expect
            results[name] = exc

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in tasks.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + budget
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return dict(results)


def expected(value: Any) -> Any:
    """A task's value; an expected failure becomes None, an unexpected one is raised here (never hidden)."""
    if isinstance(value, OllamaSyncError):
        return None
    if isinstance(value, Exception):
        raise value
    return value


def observe(ctx: Context, prepared: Prepared, progress: Progress | None = None) -> Observation:
    """Read every view; the slow ones concurrently within a bounded time."""
    say = progress or (lambda _text: None)
    target = prepared.rendered.target
    declared = render_environment(prepared.declaration.settings)
    listen = parse_host(declared.get("OLLAMA_HOST", ""))
    content = ctx.files.read_bytes(target.path)
    file_env = None if content is None else read_file_env(target.backend, content, target.path, target.name)
    live = is_live(ctx, target.backend)
    if not live:
        lines = _read_log_file(ctx, target.log_path)
        return Observation(prepared, False, "under --root: the service manager and the network were not asked",
                           declared, listen, content, file_env, None, None, time.time(), tuple(lines),
                           _server_config(lines), (), (), None, None, None, None)
    return _observe_live(ctx, prepared, declared=declared, listen=listen, content=content, file_env=file_env,
                         say=say)


def _observe_live(ctx: Context, prepared: Prepared, *, declared: dict[str, str], listen: HostPort,
                  content: bytes | None, file_env: FileEnv | None, say: Progress) -> Observation:
    target = prepared.rendered.target
    problems: list[str] = []
    deadline = time.monotonic() + LIVE_BUDGET
    say(f"asking {target.backend.value} about {target.name}")
    addresses = tuple(a for a in local.local_addresses() if a.kind is not AddressKind.LINK_LOCAL)
    cli = tailscale.find_cli(ctx.files, ctx.environ)
    probe_to = addresses  # all of them, so a server reachable from the LAN when it should not be is seen
    first = _preferred(listen, probe_to)
    sink: dict[str, Any] = {}  # the preferred probe's thread also reads the models, as soon as it is answered
    tasks: dict[str, Callable[[], Any]] = {"manager": lambda: _manager_view(ctx, prepared)}
    if cli is not None:
        tasks["tailscale"] = lambda: tailscale.read_status(ctx.runner, cli, timeout=MANAGER_BUDGET)
    for address in probe_to:
        tasks[f"probe:{address.ip}"] = _prober(address, listen.port, sink, deadline if address == first else None)
    say(f"probing {len(probe_to)} address(es) on port {listen.port}")
    done = parallel(tasks, LIVE_BUDGET)
    results = {**sink, **done}  # sink read after the threads ran: a probe that answered before its model
    #                              reads ran out of time is kept (it was copied too early before)
    service, lines, started = _unpack_manager(results, problems, target.backend.value)
    probes = tuple(results.get(f"probe:{a.ip}") or Probe(a, _url(a.ip, listen.port), False, error="timed out")
                   for a in probe_to)
    loaded, installed = _models(probes, sink, deadline, say, problems)
    return Observation(prepared, True, "", declared, listen, content, file_env, service, started, time.time(),
                       tuple(lines), _server_config(lines), addresses, probes, cli,
                       expected(results.get("tailscale")), loaded, installed, tuple(problems))


def _preferred(listen: HostPort, addresses: tuple[Address, ...]) -> Address | None:
    """The address status reads the models from: the declared one, or loopback when bound to all/loopback."""
    if not binds_all_interfaces(listen) and not is_loopback(listen):
        return next((a for a in addresses if a.ip == listen.host), None)
    return next((a for a in addresses if a.kind is AddressKind.LOOPBACK), None)


def _manager_view(ctx: Context, prepared: Prepared) -> tuple[ServiceState, list[str], float | None]:

    target = prepared.rendered.target
    manager = manager_for(ctx, target.backend)
    state = manager.state(target)
    try:
        lines = manager.log_tail(target, LOG_LINES)
    except OllamaSyncError:
        lines = _read_log_file(ctx, target.log_path)
    return state, lines, started_at(state.pid) if state.pid else None


def _unpack_manager(results: dict[str, Any], problems: list[str], backend: str
                    ) -> tuple[ServiceState | None, list[str], float | None]:
    value = results.get("manager")
    if value is None:
        problems.append(f"{backend} did not answer within {MANAGER_BUDGET} s")
        return None, [], None
    if isinstance(value, OllamaSyncError):
        problems.append(f"{backend}: {value.message}")
        return None, [], None
    state, lines, started = expected(value)
    return state, lines, started


def _read_log_file(ctx: Context, path: str | None) -> list[str]:
    if not path:
        return []
    text = ctx.files.read_tail(path, LOG_TAIL_BYTES)
    return [] if text is None else text.splitlines()[-LOG_LINES:]


def _server_config(lines: list[str]) -> ServerConfig | None:
    from ollama_sync.system.server_log import parse_server_config  # noqa: PLC0415  # 6 ms (the log parser's patterns): only when a log was read

    return parse_server_config(lines)


def _url(ip: str, port: int) -> str:
    return f"http://{url_host(ip)}:{port}"


def _prober(address: Address, port: int, sink: dict[str, Any], deadline: float | None) -> Callable[[], Probe]:
    """A task asking one address for the version; with a deadline, it then reads the models there too."""
    def probe() -> Probe:
        url = _url(address.ip, port)
        start = time.monotonic()
        try:
            answer = get_json(address.ip, port, "/api/version", PROBE_TIMEOUT)
        except BadAnswer:  # answered, but not with the API's JSON: not an Ollama server
            return Probe(address, url, False, error="answered, but not as Ollama",
                         elapsed=time.monotonic() - start)
        except OllamaSyncError as exc:
            return Probe(address, url, False, error=_short(exc.message), elapsed=time.monotonic() - start)
        version = str(answer.get("version") or "") if isinstance(answer, dict) else ""
        result = Probe(address, url, True, version or None, elapsed=time.monotonic() - start)
        if deadline is not None:
            sink[f"probe:{address.ip}"] = result  # seen even if the model reads below run out of time
            _read_models(address.ip, port, deadline, sink)
        return result
    return probe


def _read_models(ip: str, port: int, deadline: float, sink: dict[str, Any]) -> None:
    """`/api/ps` then `/api/tags` into sink, each bounded by what is left of the deadline."""
    for name in ("ps", "tags"):
        left = min(API_TIMEOUT, deadline - time.monotonic())
        if left <= 0.05:
            return
        try:
            answer = get_json(ip, port, f"/api/{name}", left)
            sink[name] = list(answer.get("models") or []) if isinstance(answer, dict) else []
        except OllamaSyncError as exc:
            sink[name] = exc


def _probe_port(probe: Probe) -> int:
    """The port a probe asked on (from its URL)."""
    return int(probe.url.rsplit(":", 1)[1])


def _short(message: str) -> str:
    """The reason alone: "refused", "timed out", or the last part of the error."""
    reason = message.rsplit(": ", 1)[-1] if ": " in message else message
    for known in ("refused", "timed out", "unreachable"):
        if known in reason.lower():
            return known
    return reason


def _models(probes: tuple[Probe, ...], sink: dict[str, Any], deadline: float, say: Progress,
            problems: list[str]) -> tuple[tuple[dict[str, Any], ...] | None, tuple[dict[str, Any], ...] | None]:
    """Loaded and installed models: read by the preferred probe, else from the first address that answered."""
    first = next((p for p in probes if p.answered), None)
    if first is None:
        return None, None
    if "ps" not in sink:
        say("reading loaded and installed models")
        _read_models(first.address.ip, _probe_port(first), deadline, sink)
    out: list[tuple[dict[str, Any], ...] | None] = []
    for name in ("ps", "tags"):
        value = sink.get(name)
        if value is None or isinstance(value, OllamaSyncError):
            problems.append(f"/api/{name} did not answer at {first.url} in time")
            out.append(None)
        else:
            out.append(tuple(value))
    return out[0], out[1]
