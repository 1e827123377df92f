"""launchd: the LaunchAgent / LaunchDaemon property list, in plain XML (launchd.plist(5))."""

from __future__ import annotations

import plistlib
import re
from typing import Final

from ollama_sync.core.paths import Target

_XML_UNSAFE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff\ud800-\udfff]")


def unsafe_values(env: dict[str, str], target: Target) -> list[tuple[str, str]]:
    """Values an XML property list cannot carry exactly (control characters, CR, non-characters)."""
    items = [*env.items(), ("ProgramArguments", target.binary), ("StandardOutPath", target.log_path or "")]
    return [(name, "contains a character an XML property list cannot hold")
            for name, value in items if _XML_UNSAFE.search(value)]


def plist_dict(env: dict[str, str], target: Target) -> dict[str, object]:
    """The property list as a dict (keys sorted when written)."""
    plist: dict[str, object] = {
        "Label": target.name,
        "ProgramArguments": [target.binary, "serve"],
        "EnvironmentVariables": env,
        "RunAtLoad": True,
        "KeepAlive": True,
        "ProcessType": "Interactive" if target.scope.value == "user" else "Standard",
    }
    if target.log_path:
        plist["StandardOutPath"] = target.log_path
        plist["StandardErrorPath"] = target.log_path
    if target.user and target.scope.value == "system":
        plist["UserName"] = target.user
    return plist


def render_plist(env: dict[str, str], target: Target, source: str) -> bytes:
    """The XML plist, byte-stable: sorted keys, and a marker comment naming the declaration."""
    body = plistlib.dumps(plist_dict(env, target), fmt=plistlib.FMT_XML, sort_keys=True)
    head, sep, rest = body.partition(b"<plist")
    note = _comment(f"Managed by ollama-sync from {source}. Edit the declaration, then run: ollama-sync apply")
    return head + note.encode() + b"\n" + sep + rest


def _comment(text: str) -> str:
    """An XML comment; '--' cannot appear inside one."""
    return "<!-- " + text.replace("--", "- -") + " -->"
