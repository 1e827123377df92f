"""Loading the declaration: config file → source file (TOML or Nix) → `Declaration` + reading findings."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from ollama_sync.app.context import Context
from ollama_sync.core.config import ToolConfig, parse_config
from ollama_sync.core.findings import Finding, Location
from ollama_sync.core.options import SourceValue, build_settings
from ollama_sync.core.settings import Declaration
from ollama_sync.core.tomlread import parse_toml
from ollama_sync.errors import ConfigError
from ollama_sync.system.machine import default_config_path


@dataclass(frozen=True)
class Loaded:
    """The declaration as read, the config that pointed at it, and what reading it found."""

    config: ToolConfig
    declaration: Declaration
    findings: tuple[Finding, ...]
    source_files: tuple[str, ...]  # every file the declaration was read from (for watch)


def config_path(ctx: Context) -> str:
    """--config, else $OLLAMA_SYNC_CONFIG, else the platform config dir (under --root when given)."""
    if ctx.options.config:
        return ctx.options.config
    if ctx.environ.get("OLLAMA_SYNC_CONFIG"):
        return ctx.environ["OLLAMA_SYNC_CONFIG"]

    machine = ctx.machine
    return ctx.files.location(default_config_path(machine.system, machine.home, ctx.environ))


def read_config(ctx: Context) -> ToolConfig:
    """The tool's config file, parsed; a missing file is a ConfigError that says how to create one."""
    path = config_path(ctx)
    text = ctx.user_files.read_text(path)
    if text is None:
        raise ConfigError("config file not found", location=Location(str(path)),
                          hint="create it (see examples/reference-setup.toml), pass --config FILE, "
                          "or set OLLAMA_SYNC_CONFIG")
    return parse_config(text, path)


def load(ctx: Context) -> Loaded:
    """Read the config and its declaration into a Declaration."""
    config = read_config(ctx)
    findings: tuple[Finding, ...] = ()
    files: tuple[str, ...] = (config.path,)
    if config.inline is not None:
        table = config.inline
        source = os.path.abspath(config.path)
    else:
        assert config.source is not None  # parse_config guarantees one of the two
        source = resolve_source(config)
        table, findings, files = read_source(ctx, config, source)
    settings, locations, option_findings = build_settings(
        table, origin=Location(source), strict=not source.endswith(".nix"))
    decl = Declaration(settings=settings, service=config.service, source=source,
                       locations=locations + config.service_locations)
    return Loaded(config, decl, findings + option_findings, files)


def resolve_source(config: ToolConfig) -> str:
    """The declaration file's path: `~` expanded, relative paths taken from the config file's folder."""
    assert config.source is not None
    source = os.path.expanduser(config.source)
    if not os.path.isabs(source):
        source = os.path.join(os.path.dirname(os.path.abspath(config.path)), source)
    return os.path.normpath(source)


def read_source(ctx: Context, config: ToolConfig, source: str
                ) -> tuple[dict[str, SourceValue], tuple[Finding, ...], tuple[str, ...]]:
    """The option table from a declaration file, by its kind (.toml or .nix); the kind is checked before reading."""
    if not source.endswith((".nix", ".toml", ".json")):
        raise ConfigError(f"cannot read a declaration from {source}: expected a .toml, .json or .nix file",
                          location=_source_location(config), hint='source = "….nix", "….toml" or "….json"')
    text = ctx.user_files.read_text(source)
    if text is None:
        raise ConfigError(f"declaration not found: {source}", location=_source_location(config),
                          hint="fix `source` in the config file")
    if source.endswith(".nix"):
        from ollama_sync.app.nixsource import read_nix  # noqa: PLC0415  # tree-sitter is imported lazily

        return read_nix(ctx, config, source, text)
    if source.endswith(".toml"):
        doc = parse_toml(text, source)
    else:
        from ollama_sync.core.jsonread import parse_json  # noqa: PLC0415  # json only for .json

        doc = parse_json(text, source)
    table = doc.get("ollama")
    if table is None or not isinstance(table.value, dict):
        raise ConfigError(f"{source} has no [ollama] table", location=Location(source, 1),
                          hint="put the settings under [ollama] (JSON: {\"ollama\": {…}})")
    return dict(table.value), (), (config.path, source)


def _source_location(config: ToolConfig) -> Location:
    return config.source_location or Location(config.path)


def with_service(loaded: Loaded, **changes: object) -> Loaded:
    """The same loaded declaration with some service options replaced (e.g. --backend)."""
    service = replace(loaded.declaration.service, **changes)  # type: ignore[arg-type]
    return replace(loaded, declaration=replace(loaded.declaration, service=service))
