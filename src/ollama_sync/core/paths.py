"""Where each backend's files live, and the names of the service (pure rules over `Machine` facts)."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from ollama_sync.core.environment import render_environment
from ollama_sync.core.settings import DEFAULT_LABEL, Backend, OllamaSettings, Scope, ServiceOptions, UnitMode

if TYPE_CHECKING:
    from ollama_sync.core.target import Machine

DROPIN_NAME = "ollama-sync.conf"


def service_name(service: ServiceOptions, backend: Backend) -> str:
    """The launchd label, systemd unit stem or supervisord program name.

    systemd and supervisord use "ollama" (the installer's unit name) unless a label other than the
    launchd default was chosen.
    """
    if backend is Backend.LAUNCHD or service.label != DEFAULT_LABEL:
        return service.label
    return "ollama"


def service_file(service: ServiceOptions, backend: Backend, machine: Machine, *, dropin: bool = False) -> str:
    """The absolute path of the file ollama-sync renders for this service."""
    name = service_name(service, backend)
    system = service.scope is Scope.SYSTEM
    match backend:
        case Backend.LAUNCHD:
            folder = "/Library/LaunchDaemons" if system else posixpath.join(machine.home, "Library/LaunchAgents")
            return posixpath.join(folder, f"{name}.plist")
        case Backend.SYSTEMD:
            folder = "/etc/systemd/system" if system else posixpath.join(machine.home, ".config/systemd/user")
            if dropin:
                return posixpath.join(folder, f"{name}.service.d", DROPIN_NAME)
            return posixpath.join(folder, f"{name}.service")
        case Backend.SUPERVISORD:
            folder = service.include_dir or posixpath.join(machine.state_dir, "supervisor.d")
            return posixpath.join(folder, f"{name}.conf")


def unit_file(service: ServiceOptions, machine: Machine) -> str:
    """systemd: the main unit file path (the one Ollama's installer owns in drop-in mode)."""
    return service_file(service, Backend.SYSTEMD, machine)


def wants_dropin(service: ServiceOptions, installer_unit_exists: bool) -> bool:
    """systemd: render a drop-in instead of a full unit?"""
    if service.unit_mode is UnitMode.AUTO:
        return installer_unit_exists
    return service.unit_mode is UnitMode.DROPIN


def default_log_path(service: ServiceOptions, backend: Backend, machine: Machine) -> str | None:
    """Where the server's output goes when the config names no log file (None: the journal)."""
    if service.log_path:
        return expand_home(service.log_path, machine)
    name = service_name(service, backend)
    match backend:
        case Backend.LAUNCHD:
            if service.scope is Scope.SYSTEM:
                return f"/Library/Logs/ollama-sync/{name}.log"
            return posixpath.join(machine.home, "Library/Logs/ollama-sync", f"{name}.log")
        case Backend.SYSTEMD:
            return None
        case Backend.SUPERVISORD:
            return posixpath.join(machine.state_dir, "logs", f"{name}.log")


DEFAULT_MODELS = "~/.ollama/models"


def models_path(settings: OllamaSettings, home: str) -> str:
    """OLLAMA_MODELS as declared (setting or free table), else ~/.ollama/models; `~` is home."""
    path = render_environment(settings).get("OLLAMA_MODELS") or DEFAULT_MODELS
    return home + path[1:] if path == "~" or path.startswith("~/") else path


def expand_home(path: str, machine: Machine) -> str:
    """`~/x` → `<home>/x`; other paths unchanged."""
    if path == "~" or path.startswith("~/"):
        return machine.home + path[1:]
    return path
