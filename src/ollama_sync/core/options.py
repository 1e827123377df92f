"""The one table that maps every accepted option name onto the settings model.

The same settings are accepted under three vocabularies: ollama-sync's own (snake_case), the
reference nix-darwin module's (`flashAttention`, `kvCacheType`, `modelsPath`, `extraEnvironment`)
and the nix-darwin / home-manager / NixOS `services.ollama` modules' (`host`, `port`, `models`,
`environmentVariables`, `loadModels`). Readers of TOML and Nix both produce `SourceValue`s; this
module turns them into `OllamaSettings`, whatever vocabulary the file speaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ollama_sync.core.findings import Finding, Location, Severity
from ollama_sync.core.settings import OllamaSettings
from ollama_sync.errors import ConfigError


@dataclass(frozen=True)
class SourceValue:
    """A value read from a declaration file, with where it stands."""

    value: object  # str | int | float | bool | None | list[SourceValue] | dict[str, SourceValue]
    location: Location | None = None


class Kind(StrEnum):
    """The shape an option's value must have."""

    BOOL = "bool"
    INT = "int"
    STR = "str"
    DURATION = "duration"  # string, or integer seconds
    STR_LIST = "list of strings"
    ENV = "table of strings"


@dataclass(frozen=True)
class Option:
    """One setting: its field in `OllamaSettings`, value kind, every accepted name, and its variable."""

    key: str
    kind: Kind
    names: tuple[str, ...]
    variable: str | None
    doc: str

    @property
    def nix_name(self) -> str:
        """The name used when writing this option into a reference-style Nix module."""
        return next((n for n in self.names if n != self.key and n[0].islower() and not n.islower()), self.key)


OPTIONS: Final[tuple[Option, ...]] = (
    Option("enable", Kind.BOOL, ("enable",), None, "run the server as a service"),
    Option("host", Kind.STR, ("host",), "OLLAMA_HOST", "address to listen on (with port → OLLAMA_HOST)"),
    Option("port", Kind.INT, ("port",), "OLLAMA_HOST", "port to listen on (with host → OLLAMA_HOST)"),
    Option("models_path", Kind.STR, ("models_path", "modelsPath", "models"), "OLLAMA_MODELS", "models dir"),
    Option("flash_attention", Kind.BOOL, ("flash_attention", "flashAttention"), "OLLAMA_FLASH_ATTENTION",
           "enable flash attention"),
    Option("kv_cache_type", Kind.STR, ("kv_cache_type", "kvCacheType"), "OLLAMA_KV_CACHE_TYPE",
           "KV cache quantization: f16, q8_0, q4_0"),
    Option("context_length", Kind.INT, ("context_length", "contextLength"), "OLLAMA_CONTEXT_LENGTH",
           "default context window per request"),
    Option("num_parallel", Kind.INT, ("num_parallel", "numParallel"), "OLLAMA_NUM_PARALLEL",
           "parallel requests per model"),
    Option("keep_alive", Kind.DURATION, ("keep_alive", "keepAlive"), "OLLAMA_KEEP_ALIVE",
           "how long models stay loaded"),
    Option("origins", Kind.STR_LIST, ("origins",), "OLLAMA_ORIGINS", "extra allowed CORS origins"),
    Option("max_loaded_models", Kind.INT, ("max_loaded_models", "maxLoadedModels"),
           "OLLAMA_MAX_LOADED_MODELS", "models loaded at once"),
    Option("environment", Kind.ENV, ("environment", "extraEnvironment", "environmentVariables"), None,
           "any other variable, verbatim"),
    Option("models", Kind.STR_LIST, ("models", "loadModels"), None, "models to pull after apply"),
)

# Options of the Nix modules that name a build (a derivation): neither reader can (or needs to) evaluate them.
BUILD_ONLY_NIX_OPTIONS: Final = frozenset({"package", "configFile", "checkedService"})
# Options a custom-flavored set may carry that configure Nix or the service, not the server's settings
# (the services.ollama modules' own options are read by core/nix/flavor.py with their meaning).
IGNORED_NIX_OPTIONS: Final = BUILD_ONLY_NIX_OPTIONS | frozenset(
    {"acceleration", "openFirewall", "user", "group", "sandbox", "writablePaths", "syncModels", "stateDir",
     # this project's own modules (nix/options.nix): how the service runs comes from the config's [service]
     "service", "verifyOnActivation", "failOnVerifyError", "configPath"}
)


def find_option(name: str, value: object = None) -> Option | None:
    """The option accepted under name; where a name is shared ("models"), the one whose kind fits value."""
    candidates = [opt for opt in OPTIONS if name in opt.names]
    if len(candidates) > 1:
        for opt in candidates:
            if _fits(opt.kind, value):
                return opt
    return candidates[0] if candidates else None


def option_by_key(key: str) -> Option:
    """The option whose settings field is key."""
    for opt in OPTIONS:
        if opt.key == key:
            return opt
    raise KeyError(key)


def _fits(kind: Kind, value: object) -> bool:
    if kind is Kind.STR_LIST:
        return isinstance(value, list)
    if kind is Kind.STR:
        return isinstance(value, str)
    return True


def all_names() -> tuple[str, ...]:
    """Every accepted option name, for did-you-mean suggestions."""
    return tuple(sorted({n for opt in OPTIONS for n in opt.names}))


def build_settings(
    table: Mapping[str, SourceValue], *, origin: Location, strict: bool = True
) -> tuple[OllamaSettings, tuple[tuple[str, Location], ...], tuple[Finding, ...]]:
    """Settings from a declaration's option table, with each setting's location and any findings.

    strict (TOML, the tool's own format): an unknown option is a ConfigError. Otherwise (a Nix module,
    which may declare options for Nix itself), options of the Nix modules are reported as info and
    other unknown ones as warnings.
    """
    values: dict[str, object] = {}
    locations: list[tuple[str, Location]] = []
    findings: list[Finding] = []
    for name, item in table.items():
        loc = item.location or origin
        opt = find_option(name, _plain(item.value))
        if opt is None:
            findings.extend(_unknown_option(name, loc, strict=strict))
            continue
        if opt.key in values:
            raise ConfigError(f"{opt.key!r} is declared twice (as {name!r} too)", location=loc,
                              hint="keep one of the two names")
        values[opt.key] = _coerce(opt, name, item, loc, locations)
        locations.append((opt.key, loc))
    settings = OllamaSettings(**values)  # type: ignore[arg-type]  # keys come from OPTIONS, values coerced
    return settings, tuple(locations), tuple(findings)


def _unknown_option(name: str, loc: Location, *, strict: bool) -> list[Finding]:
    if name in IGNORED_NIX_OPTIONS and not strict:
        return [Finding("nix-only-option", Severity.INFO, f"option {name!r} configures Nix, not the server",
                        "ollama-sync leaves it to your Nix configuration", loc)]
    import difflib  # noqa: PLC0415  # only when needed: start-up time

    close = difflib.get_close_matches(name, all_names(), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "accepted: " + ", ".join(all_names())
    if strict:
        raise ConfigError(f"unknown option {name!r}", location=loc, hint=hint)
    return [Finding("unknown-option", Severity.WARNING, f"unknown option {name!r} is not rendered", hint, loc)]


def _plain(value: object) -> object:
    """The value with SourceValue wrappers removed (recursively)."""
    if isinstance(value, SourceValue):
        return _plain(value.value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


_KIND_TEXT: Final = {Kind.BOOL: "a boolean (true or false)", Kind.INT: "a whole number", Kind.STR: "a string",
                      Kind.DURATION: "a duration (\"30m\") or seconds", Kind.STR_LIST: "a list of strings",
                      Kind.ENV: "a table of strings"}
_TYPE_TEXT: Final = {"str": "text", "int": "a number", "float": "a number", "bool": "a boolean", "list": "a list",
                     "dict": "a table"}


def show_value(value: object, depth: int = 0) -> str:
    """A value as the user wrote it (TOML/Nix-like: "text", 4, true, [ … ], { k = v }), never a Python repr."""
    if depth > 3:
        return "…"
    match value:
        case None:
            return "nothing"
        case bool():
            return "true" if value else "false"
        case str():
            import json  # noqa: PLC0415  # only for error messages

            text = json.dumps(value, ensure_ascii=False)
            return text if len(text) <= 60 else text[:57] + "…\""
        case int() | float():
            return str(value)
        case list() | tuple():
            return "[" + ", ".join(show_value(v, depth + 1) for v in list(value)[:5]) + \
                (", …]" if len(value) > 5 else "]")
        case dict():
            items = [f"{k} = {show_value(v, depth + 1)}" for k, v in list(value.items())[:5]]
            return "{ " + ", ".join(items) + (", … }" if len(value) > 5 else " }")
    isoformat = getattr(value, "isoformat", None)  # TOML dates and times
    return str(isoformat()) if callable(isoformat) else type(value).__name__


def _type_name(value: object) -> str:
    if value is None:
        return "nothing"
    if hasattr(value, "isoformat"):
        return "a date or time"
    return _TYPE_TEXT.get(type(value).__name__, type(value).__name__)


def _type_error(name: str, kind: Kind, value: object, loc: Location, example: str) -> ConfigError:
    got = _type_name(value)
    shown = "" if value is None else f" ({show_value(value)})"
    return ConfigError(f"{name!r} must be {_KIND_TEXT[kind]}, not {got}{shown}", location=loc,
                       hint=f"for example: {name} = {example}")


def _coerce(opt: Option, name: str, item: SourceValue, loc: Location,
            locations: list[tuple[str, Location]]) -> object:
    value = _plain(item.value)
    match opt.kind:
        case Kind.BOOL:
            if isinstance(value, bool):
                return value
            raise _type_error(name, opt.kind, value, loc, "true")
        case Kind.INT:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().isdigit():
                return int(value.strip())
            raise _type_error(name, opt.kind, value, loc, "4")
        case Kind.STR:
            if isinstance(value, str):
                return value
            raise _type_error(name, opt.kind, value, loc, '"…"')
        case Kind.DURATION:
            if isinstance(value, str):
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
            raise _type_error(name, opt.kind, value, loc, '"30m"')
        case Kind.STR_LIST:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise _type_error(name, opt.kind, value, loc, '["…"]')
        case Kind.ENV:
            return _coerce_env(name, item, loc, locations)


def _coerce_env(name: str, item: SourceValue, loc: Location,
                locations: list[tuple[str, Location]]) -> tuple[tuple[str, str], ...]:
    if not isinstance(item.value, dict):
        raise _type_error(name, Kind.ENV, _plain(item.value), loc, '{ OLLAMA_NUM_PARALLEL = "4" }')
    env: dict[str, str] = {}
    for var, raw in item.value.items():
        sv = raw if isinstance(raw, SourceValue) else SourceValue(raw)
        var_loc = sv.location or loc
        value = _plain(sv.value)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(
                f"environment variable {var} must be a string, not {_type_name(value)} ({show_value(value)})",
                location=var_loc, hint=f'quote it: {var} = "{_suggest_string(value)}"')
        env[var] = value if isinstance(value, str) else str(value)
        locations.append((f"environment.{var}", var_loc))
    return tuple(sorted(env.items()))


def _suggest_string(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
