"""Tailscale: this machine's tailnet addresses and MagicDNS name (`tailscale status --json`, `tailscale ip -4`).

`status --json` is `ipnstate.Status` (SEMANTICS.md §10): `BackendState`, `Self.TailscaleIPs`,
`Self.DNSName` (FQDN with a trailing dot). `TailscaleIPs` is null when logged out; the format is
"subject to change", so every field is read defensively.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Final

from ollama_sync.core.network import TailscaleSelf
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.files import Files
from ollama_sync.system.runner import Runner

MACOS_APP_CLI: Final = "/Applications/Tailscale.app/Contents/MacOS/Tailscale"


def parse_status(text: str) -> TailscaleSelf | None:
    """`tailscale status --json` → this machine's state, addresses and MagicDNS name; None if not JSON."""
    try:
        doc: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    me: dict[str, Any] = doc["Self"] if isinstance(doc.get("Self"), dict) else {}
    ips = me.get("TailscaleIPs") or doc.get("TailscaleIPs") or []
    dns = me.get("DNSName") or None
    return TailscaleSelf(str(doc.get("BackendState", "")), tuple(str(ip) for ip in ips if isinstance(ip, str)),
                         str(dns).rstrip(".") if dns else None)


def parse_ip(text: str) -> tuple[str, ...]:
    """`tailscale ip -4` / `-6`: one address per line."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def find_cli(files: Files, environ: Mapping[str, str]) -> str | None:
    """The tailscale CLI: on PATH, else the macOS app's bundled binary; None when not installed."""
    for folder in environ.get("PATH", "").split(os.pathsep):
        if folder and os.path.isabs(folder) and files.exists(os.path.join(folder, "tailscale")):
            return os.path.join(folder, "tailscale")
    return MACOS_APP_CLI if files.exists(MACOS_APP_CLI) else None


def read_status(runner: Runner, cli: str, timeout: float = 1.5) -> TailscaleSelf | None:
    """This machine's tailnet state, or None when the CLI fails (daemon not running, timed out)."""
    try:
        done = runner.run([cli, "status", "--json"], ok_codes=None, timeout=timeout)
    except OllamaSyncError:
        return None
    return parse_status(done.stdout)


def ipv4(runner: Runner, cli: str, timeout: float = 1.5) -> tuple[str, ...]:
    """`tailscale ip -4`: this machine's tailnet IPv4 addresses (empty when there are none)."""
    try:
        done = runner.run([cli, "ip", "-4"], ok_codes=(0,), timeout=timeout)
    except OllamaSyncError:
        return ()
    return parse_ip(done.stdout)
