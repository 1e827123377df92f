"""Which Nix module consumes a declaration, and the environment that module gives the server (pure).

A `services.ollama` set means different things to different modules. Each module flavor below
reproduces its module's `environment` expression exactly, read from the module's own source:

- nixos: nixpkgs `nixos/modules/services/misc/ollama.nix` at commit
  071a30aead7675355a957e8a9f9295aa24c6d91c:
  `environment = cfg.environmentVariables // { HOME = cfg.home; OLLAMA_MODELS = cfg.models;
  OLLAMA_HOST = "${cfg.host}:${toString cfg.port}"; } // optionalAttrs (cfg.rocmOverrideGfx != null)
  { HSA_OVERRIDE_GFX_VERSION = cfg.rocmOverrideGfx; }`; home defaults to /var/lib/ollama, models to
  "${home}/models", host to 127.0.0.1, port to 11434; `acceleration` only picks the package build.
- home-manager: nix-community/home-manager `modules/services/ollama.nix` at commit
  313aabfb207cacdf30e6c0508b401893466889e4: `EnvironmentVariables = cfg.environmentVariables //
  { OLLAMA_HOST = "${cfg.host}:${toString cfg.port}"; }` (launchd), the same list with OLLAMA_HOST last
  (systemd, where the last assignment wins); no models, loadModels or home option.
- nix-darwin: nix-darwin has no `services.ollama` upstream; PR #972 (nix-darwin/nix-darwin, open,
  head as of 2024-06 by Velnbur) adds `modules/services/ollama.nix` with `EnvironmentVariables =
  cfg.environmentVariables // { OLLAMA_HOST = "${cfg.host}:${toString cfg.port}"; } //
  optionalAttrs (cfg.models != null) { OLLAMA_MODELS = cfg.models; }`.
- custom (a module like the reference setup's `custom.services.ollama`) and ollama-sync (this
  project's modules, nix/options.nix) are mapped by the option table (core/options.py) as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ollama_sync.core.findings import Finding, Location, Severity
from ollama_sync.core.options import SourceValue
from ollama_sync.errors import ConfigError


class Flavor(StrEnum):
    """The module that consumes a .nix declaration (`flavor = "…"` in the tool config)."""

    AUTO = "auto"
    NIXOS = "nixos"
    HOME_MANAGER = "home-manager"
    NIX_DARWIN = "nix-darwin"
    CUSTOM = "custom"
    OLLAMA_SYNC = "ollama-sync"


@dataclass(frozen=True)
class Module:
    """A `services.ollama` module: its name for messages, its options, their defaults and what it derives."""

    name: str
    options: frozenset[str]
    acceleration: tuple[object, ...]  # the values types.enum accepts (besides null)
    removed: Mapping[str, str]  # mkRemovedOptionModule: option → the module's message


NIXOS: Final = Module(
    "NixOS's services.ollama (nixpkgs nixos/modules/services/misc/ollama.nix)",
    frozenset({"enable", "package", "user", "group", "home", "models", "host", "port", "acceleration",
               "rocmOverrideGfx", "environmentVariables", "loadModels", "syncModels", "openFirewall"}),
    (False, "rocm", "cuda", "vulkan"),
    {"listenAddress": "Use `services.ollama.host` and `services.ollama.port` instead.",
     "sandbox": "Set `services.ollama.user` and `services.ollama.group` instead.",
     "writablePaths": "The `models` directory is now always writable."},
)
HOME_MANAGER: Final = Module(
    "home-manager's services.ollama (modules/services/ollama.nix)",
    frozenset({"enable", "package", "host", "port", "acceleration", "environmentVariables"}),
    (False, "rocm", "cuda"), {},
)
NIX_DARWIN: Final = Module(
    "nix-darwin's services.ollama (PR #972, not merged upstream)",
    frozenset({"enable", "package", "host", "port", "models", "environmentVariables"}),
    (), {},
)
MODULES: Final = {Flavor.NIXOS: NIXOS, Flavor.HOME_MANAGER: HOME_MANAGER, Flavor.NIX_DARWIN: NIX_DARWIN}

# Options of this project's modules (nix/options.nix), for flavor = "ollama-sync".
OLLAMA_SYNC_OPTIONS: Final = frozenset({
    "enable", "package", "host", "port", "modelsPath", "flashAttention", "kvCacheType", "extraEnvironment",
    "models", "service", "verifyOnActivation", "failOnVerifyError", "user", "configFile", "configPath",
    "checkedService"})

DEFAULT_HOME: Final = "/var/lib/ollama"
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 11434
# What each module sets after environmentVariables (so the same name there is ignored).
OVERRIDDEN: Final = {Flavor.NIXOS: ("HOME", "OLLAMA_MODELS", "OLLAMA_HOST", "HSA_OVERRIDE_GFX_VERSION"),
                     Flavor.HOME_MANAGER: ("OLLAMA_HOST",), Flavor.NIX_DARWIN: ("OLLAMA_HOST", "OLLAMA_MODELS")}
# Hosts/platform markers among a file's top-level attributes.
_HM_MARKERS: Final = frozenset({"home", "programs", "xdg", "gtk", "qt", "wayland", "accounts"})
_NIXOS_MARKERS: Final = frozenset({"boot", "fileSystems", "hardware", "swapDevices", "virtualisation", "i18n"})
_DARWIN_MARKERS: Final = frozenset({"homebrew"})
_NIXOS_ONLY: Final = frozenset({"home", "loadModels", "syncModels", "user", "group", "rocmOverrideGfx",
                                "openFirewall"})


def detect(attribute: tuple[str, ...], table: Mapping[str, SourceValue], top: frozenset[str]
           ) -> tuple[Flavor, Finding]:
    """flavor = "auto": the module from the attribute path, the options present and the file's other settings."""
    path = attribute[1:] if attribute[:1] == ("config",) else attribute
    names = set(table)
    if path[-2:] == ("services", "ollama-sync"):
        return _chosen(Flavor.OLLAMA_SYNC, "the set is services.ollama-sync, this project's module")
    if path != ("services", "ollama"):
        return _chosen(Flavor.CUSTOM, f"the set is {'.'.join(path)}, not services.ollama")
    if names & {"extraEnvironment", "modelsPath", "flashAttention", "kvCacheType"}:
        return _chosen(Flavor.CUSTOM, "it uses the reference module's option names (extraEnvironment, …)")
    if names & _NIXOS_ONLY:
        found = ", ".join(sorted(names & _NIXOS_ONLY))
        return _chosen(Flavor.NIXOS, f"only NixOS's services.ollama has {found}")
    if top & _HM_MARKERS:
        return _chosen(Flavor.HOME_MANAGER, f"the file also sets {', '.join(sorted(top & _HM_MARKERS))}")
    if top & _DARWIN_MARKERS or "models" in names:
        why = "homebrew" if top & _DARWIN_MARKERS else "models without NixOS-only options"
        return _chosen(Flavor.NIX_DARWIN, f"the file sets {why} (nix-darwin, PR #972's module)")
    if top & _NIXOS_MARKERS:
        return _chosen(Flavor.NIXOS, f"the file also sets {', '.join(sorted(top & _NIXOS_MARKERS))}")
    return Flavor.NIXOS, Finding(
        "nix-flavor", Severity.WARNING,
        "services.ollama could be NixOS's or home-manager's: read with NixOS's semantics "
        f"(HOME={DEFAULT_HOME}, OLLAMA_MODELS={DEFAULT_HOME}/models)",
        'say which module reads it: flavor = "nixos", "home-manager" or "nix-darwin" in the config')


def _chosen(flavor: Flavor, why: str) -> tuple[Flavor, Finding]:
    return flavor, Finding("nix-flavor", Severity.INFO, f"read as flavor {flavor.value!r}: {why}",
                           f'set flavor = "{flavor.value}" in the config to make it explicit')


def module_table(flavor: Flavor, table: Mapping[str, SourceValue], *, origin: Location,
                 unreadable: frozenset[str] = frozenset()) -> tuple[dict[str, SourceValue], tuple[Finding, ...]]:
    """The option table as ollama-sync's own (enable, environment, models), with the module's semantics.

    unreadable: options the static reader could not evaluate (a derived variable depending on one is
    left out, with an error). Custom and ollama-sync flavors pass through the option table unchanged.
    """
    if flavor is Flavor.OLLAMA_SYNC:
        for name, item in table.items():
            if name not in OLLAMA_SYNC_OPTIONS:
                raise _no_option("ollama-sync's services.ollama-sync (nix/options.nix)", name, item, origin)
        return dict(table), ()
    if flavor not in MODULES:
        return dict(table), ()
    module = MODULES[flavor]
    findings: list[Finding] = []
    for name, item in table.items():
        if name in module.removed:
            raise ConfigError(f"{module.name} removed the option {name!r}: {module.removed[name]}",
                              location=item.location or origin)
        if name not in module.options:
            raise _no_option(module.name, name, item, origin)
    env, locations = _module_env(flavor, module, table, origin, unreadable=unreadable, findings=findings)
    out: dict[str, SourceValue] = {
        "enable": table.get("enable", SourceValue(False)),  # mkEnableOption: false unless declared
        "environment": SourceValue({k: SourceValue(v, locations.get(k)) for k, v in env.items()}, origin),
    }
    if "loadModels" in table:
        out["models"] = table["loadModels"]
    if "acceleration" in table:
        value = table["acceleration"].value
        if value is not None and (value is True or value not in module.acceleration):
            allowed = ", ".join(repr(v).lower() if isinstance(v, bool) else f'"{v}"' for v in module.acceleration)
            raise ConfigError(f"acceleration = {value!r} is not accepted by {module.name}",
                              location=table["acceleration"].location or origin, hint=f"one of null, {allowed}")
        findings.append(Finding("nix-only-option", Severity.INFO,
                                "acceleration selects the ollama package build (package.override); it sets no "
                                "variable", "ollama-sync checks the server's environment, not the build",
                                table["acceleration"].location or origin))
    return out, tuple(findings)


def _no_option(module: str, name: str, item: SourceValue, origin: Location) -> ConfigError:
    return ConfigError(f"{module} has no option {name!r}: the module system rejects this file",
                       location=item.location or origin,
                       hint="remove it, put the variable in environmentVariables, or set `flavor` in the config "
                            "if another module reads this set")


def _module_env(flavor: Flavor, module: Module, table: Mapping[str, SourceValue], origin: Location, *,
                unreadable: frozenset[str], findings: list[Finding]) -> tuple[dict[str, str], dict[str, Location]]:
    """The module's environment expression, evaluated; each variable's declaring location."""
    env: dict[str, str] = {}
    locations: dict[str, Location] = {}
    free = table.get("environmentVariables")
    if free is not None:
        if not isinstance(free.value, dict):
            raise _type(module, "environmentVariables", "attribute set of string", free, origin)
        for var, item in free.value.items():
            sv = item if isinstance(item, SourceValue) else SourceValue(item)
            if not isinstance(sv.value, str):
                raise _type(module, f"environmentVariables.{var}", "string", sv, origin)
            if var in OVERRIDDEN[flavor] and _sets(flavor, var, table):
                findings.append(Finding(
                    "nix-ignored-variable", Severity.WARNING,
                    f"environmentVariables.{var} is ignored: {module.name} sets {var} after environmentVariables",
                    _override_hint(var), sv.location or origin, var))
                continue
            env[var], locations[var] = sv.value, sv.location or origin

    def string(name: str, default: str | None) -> str | None:
        item = table.get(name)
        if item is None:
            return default
        if item.value is None and default is None:
            return None
        if not isinstance(item.value, str):
            raise _type(module, name, "string" if default is not None else "null or string", item, origin)
        locations[name] = item.location or origin
        return item.value

    def derive(var: str, needs: tuple[str, ...], value: str | None, at: str) -> None:
        missing = [n for n in needs if n in unreadable]
        if missing:
            findings.append(Finding("nix-unevaluated-derived", Severity.ERROR,
                                    f"{var} is not known: it comes from {', '.join(missing)}, which is not read",
                                    "write a literal value, or evaluate with Nix: --eval nix", origin, var))
            return
        if value is not None:
            env[var] = value
            if at in locations:
                locations[var] = locations[at]

    host = string("host", DEFAULT_HOST)
    port = _port(module, table, origin, locations)
    derive("OLLAMA_HOST", ("host", "port"), f"{host}:{port}", "port" if "port" in table else "host")
    if flavor is Flavor.NIXOS:
        home = string("home", DEFAULT_HOME)
        derive("HOME", ("home",), home, "home")
        needs = ("models",) if "models" in table or "models" in unreadable else ("home",)
        derive("OLLAMA_MODELS", needs, string("models", f"{home}/models"), "models")
        derive("HSA_OVERRIDE_GFX_VERSION", ("rocmOverrideGfx",), string("rocmOverrideGfx", None), "rocmOverrideGfx")
    elif flavor is Flavor.NIX_DARWIN:
        derive("OLLAMA_MODELS", ("models",), string("models", None), "models")
    return dict(sorted(env.items())), locations


def _sets(flavor: Flavor, var: str, table: Mapping[str, SourceValue]) -> bool:
    """Whether the module's own attributes (after environmentVariables) include var for this table."""
    conditional = {"HSA_OVERRIDE_GFX_VERSION": "rocmOverrideGfx"}
    if flavor is Flavor.NIX_DARWIN:
        conditional["OLLAMA_MODELS"] = "models"
    option = conditional.get(var)
    return option is None or (option in table and table[option].value is not None)


def _port(module: Module, table: Mapping[str, SourceValue], origin: Location, locations: dict[str, Location]) -> int:
    item = table.get("port")
    if item is None:
        return DEFAULT_PORT
    value = item.value
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
        raise _type(module, "port", "16 bit unsigned integer; between 0 and 65535 (both inclusive)", item, origin)
    locations["port"] = item.location or origin
    return value


def _type(module: Module, name: str, wanted: str, item: SourceValue, origin: Location) -> ConfigError:
    return ConfigError(f"{name} = {item.value!r} is not of type `{wanted}' in {module.name}",
                       location=item.location or origin, hint="the module system rejects this value too")


def _override_hint(var: str) -> str:
    return {"OLLAMA_HOST": "set services.ollama.host and services.ollama.port instead",
            "OLLAMA_MODELS": "set services.ollama.models instead",
            "HOME": "set services.ollama.home instead",
            "HSA_OVERRIDE_GFX_VERSION": "set services.ollama.rocmOverrideGfx instead"}.get(var, "remove it")


def owned_options(flavor: Flavor) -> dict[str, str]:
    """ollama-sync key → the module's option holding it (host, port, models path, models to pull)."""
    if flavor is Flavor.NIXOS:
        return {"enable": "enable", "host": "host", "port": "port", "models_path": "models", "models": "loadModels"}
    if flavor is Flavor.HOME_MANAGER:
        return {"enable": "enable", "host": "host", "port": "port"}
    if flavor is Flavor.NIX_DARWIN:
        return {"enable": "enable", "host": "host", "port": "port", "models_path": "models"}
    return {}
