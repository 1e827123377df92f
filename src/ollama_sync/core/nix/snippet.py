"""An imported declaration → a Nix module (an attribute set) for this project's nix-darwin/home-manager module.

The text is a complete module, `{ services.ollama-sync = { … }; }`, so it can be added to `imports`
as a file or pasted into a configuration. Names follow the reference module (`modelsPath`,
`flashAttention`, `kvCacheType`, `extraEnvironment`). Pure: the declaration in, text out.
"""

from __future__ import annotations

import re
from typing import Final

from ollama_sync.core.importing import Imported
from ollama_sync.core.options import option_by_key

_IDENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")
_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_KEYWORDS: Final = frozenset({"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"})


def nix_string(text: str) -> str:
    """A double-quoted Nix string that evaluates to exactly text (`${` is escaped)."""
    body = "".join(_ESCAPES.get(ch, ch) for ch in text).replace("${", "\\${")
    return f'"{body}"'


def nix_name(name: str) -> str:
    """An attribute name, quoted unless it is a plain identifier."""
    return name if _IDENT.match(name) and name not in _KEYWORDS else nix_string(name)


def nix_value(value: object) -> str:
    """A literal for a setting's value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[ " + " ".join(nix_value(v) for v in value) + " ]" if value else "[ ]"
    return nix_string(str(value))


def render_nix_module(imported: Imported, comment: str) -> str:
    """The module text; comment lines go on top."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += ["{", "  services.ollama-sync = {", "    enable = true;"]
    lines += [f"    {option_by_key(key).nix_name} = {nix_value(value)};" for key, value in imported.settings]
    if imported.environment:
        lines.append("    extraEnvironment = {")
        lines += [f"      {nix_name(k)} = {nix_string(v)};" for k, v in imported.environment]
        lines.append("    };")
    service = imported.service
    # No backend: the modules install through the platform's own mechanism (launchd on macOS, systemd on Linux).
    entries = [("label", service.label), ("binary", service.binary), ("logPath", service.log_path)]
    lines.append("    service = {")
    lines += [f"      {name} = {nix_string(value)};" for name, value in entries if value is not None]
    lines += ["    };", "  };", "}"]
    return "\n".join(lines) + "\n"
