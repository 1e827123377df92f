"""Reading a .nix declaration: the static tree-sitter reader, or real Nix (`--eval nix`), and both compared."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ollama_sync.app.context import Context
from ollama_sync.app.declaration import Loaded
from ollama_sync.core.config import EvalMode, ToolConfig
from ollama_sync.core.findings import Finding, Location, Severity
from ollama_sync.core.nix.flavor import Flavor, detect, module_table
from ollama_sync.core.nix.read import DEFAULT_ATTRIBUTES, NixRead, read_nix_text, split_attribute
from ollama_sync.core.options import IGNORED_NIX_OPTIONS, SourceValue
from ollama_sync.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from ollama_sync.system.nix import NixValue

Table = dict[str, SourceValue]


def eval_mode(ctx: Context, config: ToolConfig) -> EvalMode:
    """--eval wins over the config's `eval`."""
    return EvalMode(ctx.options.eval_mode) if ctx.options.eval_mode else config.eval_mode


def read_nix(ctx: Context, config: ToolConfig, source: str, text: str
             ) -> tuple[Table, tuple[Finding, ...], tuple[str, ...]]:
    """The option table at the configured attribute path of a .nix file, in ollama-sync's terms.

    The module the flavor names decides what the options mean (core/nix/flavor.py): NixOS's
    services.ollama derives HOME, OLLAMA_MODELS and OLLAMA_HOST, home-manager's only OLLAMA_HOST, …
    """
    files = (config.path, source)
    if eval_mode(ctx, config) is EvalMode.NIX:
        value = evaluate_with_nix(ctx, config, source)
        assert value.path is not None  # evaluate_with_nix raises when no path was found
        static = _static_or_none(text, source, value.path)
        table = _table(value.value, static.table if static else {}, Location(source))
        top = static.top if static is not None else frozenset()
        merged = () if not value.lib else (Finding(
            "nix-evaluated", Severity.INFO, f"evaluated with Nix; definitions merged by {_lib_name(value.lib)}",
            "set OLLAMA_SYNC_NIXPKGS_LIB to a nixpkgs lib folder to merge with nixpkgs' own lib"
            if value.lib == "stub" else "", Location(source)),)
        return (*flavored(config, source, value.path, table, top=top, unreadable=frozenset(), findings=merged),
                files)
    if is_flake(source):
        raise ConfigError(f"{source} is a flake: only Nix can evaluate it", location=Location(source),
                          hint="use --eval nix (or eval = \"nix\"), or point `source` at the host's module file")
    result = read_nix_text(text, source, config.attribute)
    return (*flavored(config, source, result.attribute, result.table, top=result.top,
                      unreadable=result.unreadable, findings=result.findings), files)


def _lib_name(lib: str) -> str:
    return "ollama-sync's stand-in for nixpkgs' lib (nixpkgs is not on NIX_PATH)" if lib == "stub" \
        else f"nixpkgs' lib ({lib})"


def flavored(config: ToolConfig, source: str, attribute: tuple[str, ...], table: Table, *, top: frozenset[str],
             unreadable: frozenset[str], findings: tuple[Finding, ...]) -> tuple[Table, tuple[Finding, ...]]:
    """The table read with its module's semantics; `auto` reports the flavor it chose."""
    flavor, chosen = resolve_flavor(config, attribute, table, top)
    out, more = module_table(flavor, table, origin=Location(source), unreadable=unreadable)
    return out, findings + chosen + more


def resolve_flavor(config: ToolConfig, attribute: tuple[str, ...], table: Table, top: frozenset[str]
                   ) -> tuple[Flavor, tuple[Finding, ...]]:
    """The configured flavor, or the one `auto` detects (with its info finding)."""
    if config.flavor is not Flavor.AUTO:
        return config.flavor, ()
    flavor, finding = detect(attribute, table, top)
    return flavor, (finding,)


def is_flake(source: str) -> bool:
    """True for a flake.nix (evaluated through its darwinConfigurations, never statically)."""
    return os.path.basename(source) == "flake.nix"


def candidate_paths(config: ToolConfig) -> list[tuple[str, ...]]:
    """The attribute paths to try, in order (a module may also nest them under `config`)."""
    names = [config.attribute] if config.attribute else list(DEFAULT_ATTRIBUTES)
    paths = [split_attribute(n) for n in names]
    return paths + [("config", *p) for p in paths]


def evaluate_with_nix(ctx: Context, config: ToolConfig, source: str) -> NixValue:
    """The set at the attribute path, evaluated by Nix; a missing path is the same ConfigError as statically."""
    from ollama_sync.system.nix import Nix  # noqa: PLC0415  # only Nix mode pays for the adapter

    nix = Nix(ctx.runner)
    if is_flake(source):
        configuration, paths = _flake_target(ctx, config)
        value = nix.eval_flake(os.path.dirname(source) or ".", configuration, paths)
    else:
        lib_path = ctx.environ.get("OLLAMA_SYNC_NIXPKGS_LIB", "")
        value = nix.eval_module(source, candidate_paths(config), lib_path=lib_path)
    if value.path is None:
        tried = " or ".join(".".join(p) for p in candidate_paths(config))
        raise ConfigError(f"no attribute {tried} in {source} (evaluated with Nix)", location=Location(source),
                          hint=f"top-level attributes here: {', '.join(value.top) or 'none'}; "
                          "set `attribute = \"…\"` in the config")
    if not isinstance(value.value, dict):
        raise ConfigError(f"{'.'.join(value.path)} is not an attribute set (evaluated with Nix)",
                          location=Location(source))
    return value


def _flake_target(ctx: Context, config: ToolConfig) -> tuple[str, list[tuple[str, ...]]]:
    """`darwinConfigurations.<host>` and the paths inside its config; the host is this machine's name."""
    if config.attribute and config.attribute.split(".")[0].endswith("Configurations"):
        parts = split_attribute(config.attribute)
        if len(parts) < 4 or parts[2] != "config":
            raise ConfigError(f"attribute {config.attribute!r} must read darwinConfigurations.<host>.config.<path>",
                              location=config.source_location)
        return ".".join(parts[:2]), [parts[3:]]
    host = ctx.environ.get("OLLAMA_SYNC_NIX_HOST") or _short_hostname()
    return f"darwinConfigurations.{host}", [p for p in candidate_paths(config) if p[0] != "config"]


def _short_hostname() -> str:
    import socket  # noqa: PLC0415  # only for flakes

    return socket.gethostname().split(".")[0]


def _static_or_none(text: str, source: str, path: tuple[str, ...] | None) -> NixRead | None:
    """The static reading at the same path, for its locations; None when it cannot be had."""
    if path is None:
        return None
    try:
        return read_nix_text(text, source, ".".join(path))
    except ConfigError:
        return None


def _table(value: object, located: Table, fallback: Location) -> Table:
    """Nix's JSON as SourceValues, located where the static reader found the same names."""
    assert isinstance(value, dict)
    table: Table = {}
    for name, item in value.items():
        known = located.get(name)
        loc = known.location if known is not None and known.location is not None else fallback
        if isinstance(item, dict):
            inner = known.value if known is not None and isinstance(known.value, dict) else {}
            table[name] = SourceValue(_table(item, inner, loc), loc)
        else:
            table[name] = SourceValue(item, loc)
    return table


def cross_check_loaded(ctx: Context, loaded: Loaded) -> tuple[Finding, ...]:
    """Cross-check a loaded declaration; only a .nix declaration (not a flake) can be cross-checked."""
    source = loaded.declaration.source
    if not source.endswith(".nix") or is_flake(source):
        raise UsageError("--cross-check compares the static reader with Nix: it needs a .nix module file "
                         f"as the declaration, not {source}")
    return cross_check(ctx, loaded.config, source)


def cross_check(ctx: Context, config: ToolConfig, source: str) -> tuple[Finding, ...]:
    """Read with both readers; an error for every value they disagree on, info for what only Nix evaluated."""
    text = ctx.user_files.read_text(source) or ""
    static = read_nix_text(text, source, config.attribute)
    nix = evaluate_with_nix(ctx, config, source)
    findings: list[Finding] = []
    _compare(static.table, nix.value, (), Location(source), findings)
    if nix.path != static.attribute:
        findings.append(Finding("nix-cross-check", Severity.ERROR,
                                f"Nix found the set at {'.'.join(nix.path or ())}, the static reader at "
                                f"{'.'.join(static.attribute)}", "set `attribute` in the config",
                                Location(source)))
    return tuple(findings)


def _compare(static: Table, nix: object, path: tuple[str, ...], where: Location, findings: list[Finding]) -> None:
    nix_table = nix if isinstance(nix, dict) else {}
    for name in sorted(set(static) | set(nix_table)):
        if not path and name in IGNORED_NIX_OPTIONS:
            continue
        dotted = ".".join((*path, name))
        item = static.get(name)
        loc = item.location if item is not None and item.location is not None else where
        if item is None:
            findings.append(Finding("nix-cross-check", Severity.INFO,
                                    f"{dotted}: only Nix evaluated it (= {nix_table[name]!r})",
                                    "the static reader leaves it out; use --eval nix to include it", loc))
        elif name not in nix_table:
            findings.append(Finding("nix-cross-check", Severity.ERROR,
                                    f"{dotted}: the static reader read {_plain(item)!r}, Nix has no such value",
                                    "use --eval nix, or report the difference", loc))
        elif isinstance(item.value, dict) and isinstance(nix_table[name], dict):
            _compare(item.value, nix_table[name], (*path, name), loc, findings)
        elif _plain(item) != nix_table[name]:
            findings.append(Finding("nix-cross-check", Severity.ERROR,
                                    f"{dotted}: the static reader read {_plain(item)!r}, Nix evaluates "
                                    f"{nix_table[name]!r}", "use --eval nix, or report the difference", loc))


def _plain(item: SourceValue) -> object:
    value = item.value
    if isinstance(value, list):
        return [_plain(v) if isinstance(v, SourceValue) else v for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
