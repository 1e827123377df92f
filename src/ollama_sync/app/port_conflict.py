"""Who answers on the declared address: our service's process tree, or another server (named as doctor names it).

apply asks before it touches anything (a port held by Ollama.app, Homebrew's service, the installer unit or
another service of ours stops it with exit 1 and the command that frees the port), and again after the
reload (healthy means our process, or a descendant, owns the listening socket).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ollama_sync.app.context import Context
from ollama_sync.core.doctor.exposure import Holder, HolderFacts, identify_holder
from ollama_sync.core.hostport import HostPort, binds_all_interfaces
from ollama_sync.core.machine_facts import ManagerJob
from ollama_sync.core.network import Listener
from ollama_sync.core.target import Target
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.processes import descendants, ollama_processes


@dataclass(frozen=True)
class Conflict:
    """The declared address is held (or answered) by processes outside our service."""

    listen: str  # host:port declared
    holders: tuple[Holder, ...]

    @property
    def message(self) -> str:
        """One line naming every holder."""
        who = "; ".join(str(holder) for holder in self.holders)
        return f"{self.listen} is already taken by {who} — not by the service ollama-sync manages"

    @property
    def fix(self) -> str:
        """The commands that free the port."""
        return " ; ".join(dict.fromkeys(holder.fix for holder in self.holders))

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"listen": self.listen, "message": self.message, "fix": self.fix,
                "holders": [{"pid": h.pid, "command": h.command, "what": h.what, "fix": h.fix, "address": h.address}
                            for h in self.holders]}


def listeners_at(ctx: Context, address: HostPort) -> list[Listener]:
    """The processes listening where the declared address binds (same port; overlapping host)."""
    from ollama_sync.system import ports  # noqa: PLC0415  # psutil only when a port is looked up

    return [item for item in ports.listeners_on(address.port, ctx.runner) if _overlaps(item.address, address)]


def _overlaps(listener_address: str, address: HostPort) -> bool:
    host = listener_address.rsplit(":", 1)[0].strip("[]")
    if host in ("*", "0.0.0.0", "::") or binds_all_interfaces(address):
        return True
    if address.host == "localhost":
        return host in ("127.0.0.1", "::1")
    return host == address.host.strip("[]")


def process_tree(pids: Iterable[int | None]) -> frozenset[int]:
    """The given processes and all their descendants."""

    tree: set[int] = set()
    for pid in pids:
        if pid is not None:
            tree |= descendants(pid)
    return frozenset(tree)


def find_conflict(ctx: Context, target: Target, address: HostPort, ours: frozenset[int],
                  others_of_ours: tuple[tuple[int, str, str], ...] = ()) -> Conflict | None:
    """The holders of the declared address that are not in ours (None: free, or held by our own server)."""
    from ollama_sync.system import ports  # noqa: PLC0415  # 8 ms (psutil, lsof): only when a port is taken

    listeners = listeners_at(ctx, address)
    foreign = _unique(item for item in listeners if item.pid is None or item.pid not in ours)
    if not listeners and not ours:
        connect = "127.0.0.1" if binds_all_interfaces(address) else address.host
        if ports.port_answers(connect, address.port):  # something we cannot see (another user's, hidden)
            foreign = [Listener(None, "", address.listen)]
    if not foreign:
        return None
    facts = holder_facts(ctx, target, others_of_ours)
    return Conflict(address.listen, tuple(identify_holder(item, address.port, facts) for item in foreign))


def _unique(items: Iterable[Listener]) -> list[Listener]:
    seen: dict[int | None, Listener] = {}
    for item in items:
        seen.setdefault(item.pid, item)
    return list(seen.values())


def holder_facts(ctx: Context, target: Target, others_of_ours: tuple[tuple[int, str, str], ...]) -> HolderFacts:
    """Doctor's knowledge of the other Ollama servers on this machine."""
    from ollama_sync.app.doctor import installer_unit, other_launchd_jobs  # noqa: PLC0415  # 95 ms (doctor's checks): only when a port is taken

    jobs: tuple[ManagerJob, ...] = ()
    if ctx.machine.system == "Darwin":
        try:
            jobs = other_launchd_jobs(ctx, target.name)
        except OllamaSyncError:
            jobs = ()
    return HolderFacts(ollama_processes(), jobs, others_of_ours, installer_unit(ctx, target), ctx.machine.uid)
