"""OLLAMA_HOST as the server parses it (envconfig.Host), and what the address exposes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ollama_sync.core.settings import DEFAULT_PORT


@dataclass(frozen=True)
class HostPort:
    """The server's view of OLLAMA_HOST: scheme, host, port and path; warnings it would log."""

    scheme: str
    host: str
    port: int
    path: str = ""
    port_fallback: bool = False  # the port was invalid and the server used the default

    @property
    def url(self) -> str:
        """The URL the way the server prints it (`http://127.0.0.1:11434`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def listen(self) -> str:
        """The host:port the server binds (`net.Listen("tcp", …)`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def strip_value(raw: str) -> str:
    """envconfig.Var: surrounding spaces, then surrounding single/double quotes, are removed."""
    return raw.strip().strip("\"'")


def parse_host(raw: str) -> HostPort:
    """Parse OLLAMA_HOST exactly as `envconfig.Host()` does (see the catalog's sources)."""
    value = strip_value(raw).strip()  # Host() trims again after Var()
    scheme, default_port = "http", DEFAULT_PORT
    if value == "ollama.com":
        return HostPort("https", "ollama.com", 443)
    if "://" in value:
        scheme, value = value.split("://", 1)
        default_port = {"http": 80, "https": 443}.get(scheme, DEFAULT_PORT)
    path = ""
    if "/" in value:
        value, rest = value.split("/", 1)
        path = "/" + rest
    host, port_text = _split_host_port(value)
    if port_text is None:
        return HostPort(scheme, host, default_port, path)
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        return HostPort(scheme, host, default_port, path, port_fallback=True)
    return HostPort(scheme, host, port, path)


def _split_host_port(value: str) -> tuple[str, str | None]:
    """net.SplitHostPort, with Ollama's fallback when it fails (bare host or bare IPv6)."""
    if value.startswith("["):
        end = value.find("]")
        if end != -1 and value[end + 1:end + 2] == ":" and ":" not in value[end + 2:]:
            return value[1:end], value[end + 2:]
        return _bare_host(value), None
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, port
    return _bare_host(value), None


def _bare_host(value: str) -> str:
    stripped = value.strip("[]")
    try:
        return str(ipaddress.ip_address(stripped))
    except ValueError:
        return value or "127.0.0.1"


def binds_all_interfaces(hp: HostPort) -> bool:
    """True when the server listens on every interface (`0.0.0.0`, `::`, or an empty host)."""
    return hp.host in ("", "0.0.0.0", "::")  # detecting it, not binding


def is_loopback(hp: HostPort) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if hp.host == "localhost":
        return True
    try:
        return ipaddress.ip_address(hp.host).is_loopback
    except ValueError:
        return False
