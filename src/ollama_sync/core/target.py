"""The concrete service target: `Machine` facts and the `Target` a declaration resolves to on them (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ollama_sync.core.paths import default_log_path, expand_home, service_file, service_name, wants_dropin
from ollama_sync.core.settings import Backend, Scope, ServiceOptions


@dataclass(frozen=True)
class Machine:
    """Facts about this machine that rendering and planning need; read once, at the edge."""

    system: str  # "Darwin" or "Linux"
    home: str
    uid: int
    user: str
    state_dir: str  # ollama-sync's own state (generations, lock, journal)


def default_backend(machine: Machine) -> Backend:
    """launchd on macOS, systemd elsewhere."""
    return Backend.LAUNCHD if machine.system == "Darwin" else Backend.SYSTEMD


@dataclass(frozen=True)
class Target:
    """Everything a renderer needs to know about where and how the service runs."""

    backend: Backend
    path: str  # the file to write
    name: str  # launchd label, systemd unit stem, supervisord program
    binary: str
    scope: Scope
    log_path: str | None
    dropin: bool = False  # systemd: a drop-in for the installer's unit
    user: str | None = None


def target_to_json(target: Target) -> dict[str, Any]:
    """A Target as journal JSON."""
    return asdict(target)


def target_from_json(data: Mapping[str, object]) -> Target:
    """The Target a journal names."""
    fields = dict(data)
    fields["backend"] = Backend(str(fields["backend"]))
    fields["scope"] = Scope(str(fields["scope"]))
    return Target(**fields)  # type: ignore[arg-type]


def resolve_target(service: ServiceOptions, machine: Machine, binary: str, *,
                   installer_unit_exists: bool = False) -> Target:
    """The concrete target for a service on this machine (backend defaulted from the platform)."""
    backend = service.backend or default_backend(machine)
    dropin = backend is Backend.SYSTEMD and wants_dropin(service, installer_unit_exists)
    return Target(
        backend=backend,
        path=service_file(service, backend, machine, dropin=dropin),
        name=service_name(service, backend),
        binary=expand_home(binary, machine),
        scope=service.scope,
        log_path=default_log_path(service, backend, machine),
        dropin=dropin,
        user=service.user,
    )
