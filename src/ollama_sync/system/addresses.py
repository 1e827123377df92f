"""This machine's interface addresses (psutil), each classified: loopback, Tailscale, LAN, link-local, public."""

from __future__ import annotations

import socket

from ollama_sync.core.network import Address, make_address


def local_addresses() -> tuple[Address, ...]:
    """Every IPv4/IPv6 address on this machine's interfaces, loopback first, without duplicates."""
    import psutil  # noqa: PLC0415  # imported only when addresses are needed

    found: dict[str, Address] = {}
    for interface, entries in psutil.net_if_addrs().items():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = make_address(entry.address, interface)
            if address is not None:
                found.setdefault(address.ip, address)
    order = {"loopback": 0, "tailscale": 1, "lan": 2, "public": 3, "link-local": 4}
    return tuple(sorted(found.values(), key=lambda a: (order[a.kind.value], ":" in a.ip, a.ip)))
