"""OLLAMA_HOST as the server parses it (envconfig.Host), and what the address exposes.

Mirrors ollama/ollama `envconfig/config.go` `Host()` step by step, including Go's `net.SplitHostPort`,
`net.ParseIP` and `strconv.ParseInt(port, 10, 32)` rules; `tests/core/test_hostport.py` runs every
example of Ollama's own `TestHost` against it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.settings import DEFAULT_PORT

GO_INT: Final = r"[+-]?[0-9]+\Z"  # strconv.ParseInt base 10: optional sign, ASCII digits (compiled on use)
_SCHEME_PORTS: Final = {"http": 80, "https": 443}


@dataclass(frozen=True)
class HostPort:
    """The server's view of OLLAMA_HOST: scheme, host, port and path; warnings it would log."""

    scheme: str
    host: str
    port: int
    path: str = ""  # as url.URL prints it: "" or "/…"
    port_fallback: bool = False  # the port was invalid: the server logged a warning and used the default
    port_defaulted: bool = False  # no port was written: the scheme's default (80, 443) or 11434 applies

    @property
    def url(self) -> str:
        """The URL the way the server prints it (`http://127.0.0.1:11434`)."""
        return f"{self.scheme}://{self.listen}{self.path}"

    @property
    def listen(self) -> str:
        """The host:port the server binds (`net.Listen("tcp", Host().Host)`), as net.JoinHostPort writes it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def strip_value(raw: str) -> str:
    """envconfig.Var: surrounding spaces, then surrounding single/double quotes, are removed."""
    return raw.strip().strip("\"'")


def parse_host(raw: str) -> HostPort:
    """Parse OLLAMA_HOST exactly as `envconfig.Host()` does."""
    value = strip_value(raw).strip()  # Host() trims spaces again after Var()
    scheme, sep, hostport = value.partition("://")
    default_port = DEFAULT_PORT
    if not sep:
        scheme, hostport = "http", value
        if value == "ollama.com":
            scheme, hostport = "https", "ollama.com:443"
    else:
        default_port = _SCHEME_PORTS.get(scheme, DEFAULT_PORT)
    hostport, _, path = hostport.partition("/")
    split = split_host_port(hostport)
    if split is None:
        host, port_text = _fallback_host(hostport), None
    else:
        host, port_text = split
    if port_text is None:
        return HostPort(scheme, host, default_port, _url_path(path), port_defaulted=True)
    port = int(port_text) if re.match(GO_INT, port_text) else -1
    if not 0 <= port <= 65535:
        return HostPort(scheme, host, default_port, _url_path(path), port_fallback=True)
    return HostPort(scheme, host, port, _url_path(path))


def split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go's net.SplitHostPort: (host, port), or None where Go returns an error."""
    last = hostport.rfind(":")
    if last < 0:
        return None  # missing port
    low, high = 0, 0  # no '[' may follow position low, no ']' position high
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != last:
            return None  # missing ']', missing port, or too many colons
        host = hostport[1:end]
        low, high = 1, end + 1
    else:
        host = hostport[:last]
        if ":" in host:
            return None  # too many colons (a bare IPv6 address)
    if "[" in hostport[low:] or "]" in hostport[high:]:
        return None
    return host, hostport[last + 1:]


def _fallback_host(hostport: str) -> str:
    """Host() when SplitHostPort fails: the IP without brackets if it is one, else the raw text, else 127.0.0.1."""
    ip = go_parse_ip(hostport.strip("[]"))
    if ip is not None:
        return ip
    return hostport or "127.0.0.1"


def go_parse_ip(text: str) -> str | None:
    """net.ParseIP(text).String(): the canonical address, or None when Go would not parse it."""
    if "%" in text:  # Go's ParseIP takes no IPv6 zone
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)  # Go prints an IPv4-mapped address as plain IPv4
    return str(ip)


def _url_path(path: str) -> str:
    """url.URL.String(): a path without a leading slash gets one; an empty path prints nothing."""
    if not path:
        return ""
    return path if path.startswith("/") else "/" + path


def binds_all_interfaces(hp: HostPort) -> bool:
    """True when the server listens on every interface (`0.0.0.0`, `::`, or an empty host)."""
    if hp.host == "":
        return True
    ip = go_parse_ip(hp.host)
    return ip in ("0.0.0.0", "::")  # detecting it, not binding


def is_loopback(hp: HostPort) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if hp.host == "localhost":
        return True
    ip = go_parse_ip(hp.host)
    return ip is not None and ipaddress.ip_address(ip).is_loopback
