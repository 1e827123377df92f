"""This machine's network as status and doctor see it: its addresses, what holds a port, Tailscale (types + rules).

Pure: the adapters (system/addresses.py, ports.py, lsof.py, tailscale.py) fill these types in.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# Tailscale hands out addresses from the CGNAT range and its own IPv6 ULA prefix.
_TAILSCALE_V4: Final = ipaddress.ip_network("100.64.0.0/10")
_TAILSCALE_V6: Final = ipaddress.ip_network("fd7a:115c:a1e0::/48")


class AddressKind(StrEnum):
    """Who can reach an address."""

    LOOPBACK = "loopback"  # this machine only
    TAILSCALE = "tailscale"  # members of the tailnet
    LAN = "lan"  # the local network (private ranges)
    LINK_LOCAL = "link-local"  # the same link; not probed (needs a zone id)
    PUBLIC = "public"  # anyone who can route to it


@dataclass(frozen=True)
class Address:
    """One address of this machine, the interface it is on, and its kind."""

    ip: str
    interface: str
    kind: AddressKind


@dataclass(frozen=True)
class Listener:
    """A process listening on a TCP port."""

    pid: int | None
    command: str  # the command line when known, else the process name
    address: str  # e.g. "127.0.0.1:11434", "*:11434", "[::1]:11434"


@dataclass(frozen=True)
class TailscaleSelf:
    """This machine on its tailnet, from `tailscale status --json`."""

    backend_state: str  # "Running", "NeedsLogin", "Stopped", …
    ips: tuple[str, ...]
    dns_name: str | None  # MagicDNS name without the trailing dot

    @property
    def running(self) -> bool:
        """True when Tailscale is up and this machine has tailnet addresses."""
        return self.backend_state == "Running" and bool(self.ips)


@dataclass(frozen=True)
class Probe:
    """One of this machine's addresses asked for the server's version on the declared port."""

    address: Address
    url: str
    answered: bool
    version: str | None = None
    error: str | None = None
    elapsed: float = 0.0


def classify(ip: str, interface: str = "") -> AddressKind:
    """The kind of an address (Tailscale by its ranges or its interface name)."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if addr.is_loopback:
        return AddressKind.LOOPBACK
    if addr in _TAILSCALE_V4 or addr in _TAILSCALE_V6 or interface.startswith("tailscale"):
        return AddressKind.TAILSCALE
    if addr.is_link_local:
        return AddressKind.LINK_LOCAL
    if addr.is_private:
        return AddressKind.LAN
    return AddressKind.PUBLIC


def is_tailscale_ip(ip: str) -> bool:
    """True for an address in Tailscale's ranges."""
    try:
        return classify(ip) is AddressKind.TAILSCALE
    except ValueError:
        return False


def make_address(ip: str, interface: str) -> Address | None:
    """An Address for an interface address, or None when the text is not an IP address."""
    try:
        return Address(ip.split("%", 1)[0], interface, classify(ip, interface))
    except ValueError:
        return None


def url_host(ip: str) -> str:
    """An address as it appears in a URL (IPv6 in brackets)."""
    return f"[{ip}]" if ":" in ip else ip


def has_public_address(addresses: tuple[Address, ...]) -> bool:
    """True when any of this machine's addresses is publicly routable."""
    return any(a.kind is AddressKind.PUBLIC for a in addresses)
