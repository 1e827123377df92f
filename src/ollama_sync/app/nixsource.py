"""Reading a .nix declaration (issue #3): the static tree-sitter reader, or real Nix."""

from __future__ import annotations

from ollama_sync.app.context import Context
from ollama_sync.core.config import ToolConfig
from ollama_sync.core.findings import Finding
from ollama_sync.core.options import SourceValue
from ollama_sync.errors import ConfigError, Location


def read_nix(ctx: Context, config: ToolConfig, source: str, text: str
             ) -> tuple[dict[str, SourceValue], tuple[Finding, ...], tuple[str, ...]]:
    """The option table at the configured attribute path of a .nix file."""
    raise ConfigError("reading .nix declarations is not supported yet", location=Location(source),
                      hint="declare the settings in TOML for now (see examples/reference-setup.toml)")
