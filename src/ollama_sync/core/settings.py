"""The declared state everything speaks: server settings, service options and the declaration."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Final

from ollama_sync.core.findings import Location

DEFAULT_LABEL: Final = "com.github.ollama"
DEFAULT_PORT: Final = 11434


class Backend(StrEnum):
    """The service manager that runs `ollama serve`."""

    LAUNCHD = "launchd"
    SYSTEMD = "systemd"
    SUPERVISORD = "supervisord"


class Scope(StrEnum):
    """A per-user service (LaunchAgent, `systemctl --user`) or a system one (LaunchDaemon, system unit)."""

    USER = "user"
    SYSTEM = "system"


class UnitMode(StrEnum):
    """systemd only: own the whole unit, or add a drop-in to a unit owned by Ollama's installer."""

    AUTO = "auto"
    FULL = "full"
    DROPIN = "dropin"


@dataclass(frozen=True)
class ServiceOptions:
    """How the server runs: the `[service]` table of the config file."""

    backend: Backend | None = None  # None: detected from the platform
    label: str = DEFAULT_LABEL
    binary: str | None = None  # None: detected (Homebrew, /usr/local/bin, PATH)
    scope: Scope = Scope.USER
    log_path: str | None = None  # None: the backend's default
    unit_mode: UnitMode = UnitMode.AUTO
    user: str | None = None  # system scope: the account the server runs as
    include_dir: str | None = None  # supervisord: where program sections are included from


@dataclass(frozen=True)
class OllamaSettings:
    """The declared server settings; None means "not declared, the server's default applies"."""

    enable: bool = True
    host: str | None = None
    port: int | None = None
    models_path: str | None = None
    flash_attention: bool | None = None
    kv_cache_type: str | None = None
    context_length: int | None = None
    num_parallel: int | None = None
    keep_alive: str | None = None
    origins: tuple[str, ...] | None = None
    max_loaded_models: int | None = None
    environment: tuple[tuple[str, str], ...] = ()  # the free table, verbatim, sorted by name
    models: tuple[str, ...] = ()  # models to pull after a successful apply

    def environment_dict(self) -> dict[str, str]:
        """The free environment table as a dict."""
        return dict(self.environment)


@dataclass(frozen=True)
class Declaration:
    """Settings and service options, with where each setting was declared."""

    settings: OllamaSettings
    service: ServiceOptions = field(default_factory=ServiceOptions)
    source: str = "<inline>"
    locations: tuple[tuple[str, Location], ...] = ()  # setting key ("port", "environment.X") → place

    def location_of(self, key: str) -> Location | None:
        """Where a setting (or "environment.NAME") was declared, if known."""
        return self._location_index.get(key)

    @cached_property
    def _location_index(self) -> dict[str, Location]:
        """locations as a dict, built once: validation asks once per variable (40,000 must stay linear)."""
        index: dict[str, Location] = {}
        for name, loc in self.locations:
            index.setdefault(name, loc)  # the first place wins, as the tuple's order says
        return index
