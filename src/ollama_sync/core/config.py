"""The tool's config file: where the declaration lives, how to read it, and the `[service]` table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from ollama_sync.core.findings import Location
from ollama_sync.core.nix.flavor import Flavor
from ollama_sync.core.options import SourceValue, show_value
from ollama_sync.core.settings import Backend, Scope, ServiceOptions, UnitMode
from ollama_sync.core.tomlread import parse_toml
from ollama_sync.errors import ConfigError

E = TypeVar("E", bound=StrEnum)


class EvalMode(StrEnum):
    """How a .nix declaration is read: the built-in static reader, or real Nix."""

    STATIC = "static"
    NIX = "nix"


@dataclass(frozen=True)
class ToolConfig:
    """The parsed config file: an inline `[ollama]` table, or a pointer to the declaration's file."""

    path: str
    service: ServiceOptions
    inline: Mapping[str, SourceValue] | None  # the [ollama] table, when declared inline
    source: str | None = None  # the declaration file, as written (relative to the config's folder)
    attribute: str | None = None  # attribute path inside a .nix source
    eval_mode: EvalMode = EvalMode.STATIC
    flavor: Flavor = Flavor.AUTO  # the module that reads a .nix source (core/nix/flavor.py)
    service_locations: tuple[tuple[str, Location], ...] = ()
    source_location: Location | None = None


_TOP_KEYS: Final = ("source", "attribute", "eval", "flavor", "service", "ollama")
_SERVICE_KEYS: Final = {
    "backend": "backend", "label": "label", "binary": "binary", "scope": "scope",
    "log_path": "log_path", "log": "log_path", "unit_mode": "unit_mode", "user": "user",
    "include_dir": "include_dir",
}


def parse_config(text: str, path: str) -> ToolConfig:
    """The config file's text → ToolConfig; every mistake is a ConfigError naming file and line."""
    if path.endswith(".json"):
        from ollama_sync.core.jsonread import parse_json  # noqa: PLC0415  # json stays off the TOML path

        doc = parse_json(text, path)
    else:
        doc = parse_toml(text, path)
    for key, item in doc.items():
        if key not in _TOP_KEYS:
            raise _unknown(key, _TOP_KEYS, item.location or Location(path), "top-level key")
    service, service_locs = _parse_service(doc.get("service"), path)
    inline = _table(doc.get("ollama"), "ollama", path)
    source = _string(doc.get("source"), "source")
    if inline is not None and source is not None:
        loc = doc["source"].location
        raise ConfigError("declare the settings either inline in [ollama] or in `source`, not both",
                          location=loc, hint="remove the [ollama] table or the `source` line")
    if inline is None and source is None:
        raise ConfigError("no declaration: the config has neither an [ollama] table nor a `source`",
                          location=Location(path, 1),
                          hint='add [ollama] settings, or source = "hosts/<host>/default.nix"')
    return ToolConfig(
        path=path, service=service, inline=inline, source=source,
        attribute=_string(doc.get("attribute"), "attribute"),
        eval_mode=_enum(EvalMode, doc.get("eval"), "eval", EvalMode.STATIC),
        flavor=_flavor(doc.get("flavor"), source, path),
        service_locations=service_locs,
        source_location=doc["source"].location if "source" in doc else None,
    )


def _flavor(item: SourceValue | None, source: str | None, path: str) -> Flavor:
    flavor = _enum(Flavor, item, "flavor", Flavor.AUTO)
    if item is not None and flavor is not Flavor.AUTO and not (source or "").endswith(".nix"):
        raise ConfigError(f"flavor = {flavor.value!r} says which Nix module reads a .nix source, but the "
                          "declaration is not a .nix file", location=item.location or Location(path),
                          hint="remove `flavor`, or point `source` at the .nix module")
    return flavor


def _unknown(key: str, allowed: tuple[str, ...] | list[str], loc: Location, what: str) -> ConfigError:
    import difflib  # noqa: PLC0415  # only when needed: start-up time

    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "accepted: " + ", ".join(allowed)
    return ConfigError(f"unknown {what} {key!r}", location=loc, hint=hint)


def _table(item: SourceValue | None, name: str, path: str) -> dict[str, SourceValue] | None:
    if item is None:
        return None
    if not isinstance(item.value, dict):
        raise ConfigError(f"{name!r} must be a table", location=item.location or Location(path),
                          hint=f"write it as [{name}] followed by key = value lines")
    return item.value


def _string(item: SourceValue | None, name: str) -> str | None:
    if item is None:
        return None
    if not isinstance(item.value, str) or not item.value:
        raise ConfigError(f"{name!r} must be a non-empty string", location=item.location,
                          hint=f'{name} = "…"')
    if "\x00" in item.value:  # no path, name or argument can hold it
        raise ConfigError(f"{name!r} contains a NUL character", location=item.location,
                          hint=f"remove the \\u0000 from {name}")
    return item.value


def _enum(cls: type[E], item: SourceValue | None, name: str, default: E) -> E:
    if item is None:
        return default
    try:
        return cls(str(item.value))
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ConfigError(f"{name!r} must be one of {allowed}, not {show_value(item.value)}",
                          location=item.location, hint=f'{name} = "{next(iter(cls)).value}"') from None


def _parse_service(item: SourceValue | None, path: str) -> tuple[ServiceOptions, tuple[tuple[str, Location], ...]]:
    table = _table(item, "service", path)
    if table is None:
        return ServiceOptions(), ()
    values: dict[str, object] = {}
    locations: list[tuple[str, Location]] = []
    for key, sv in table.items():
        field = _SERVICE_KEYS.get(key)
        if field is None:
            raise _unknown(key, list(_SERVICE_KEYS), sv.location or Location(path), "[service] key")
        if field == "backend":
            values[field] = _enum(Backend, sv, key, Backend.LAUNCHD)
        elif field == "scope":
            values[field] = _enum(Scope, sv, key, Scope.USER)
        elif field == "unit_mode":
            values[field] = _enum(UnitMode, sv, key, UnitMode.AUTO)
        else:
            values[field] = _string(sv, key)
        if sv.location:
            locations.append((field, sv.location))
    return ServiceOptions(**values), tuple(locations)  # type: ignore[arg-type]  # keys from _SERVICE_KEYS
