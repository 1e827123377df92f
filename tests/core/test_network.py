"""Address kinds: loopback, Tailscale, LAN, link-local, public."""

from __future__ import annotations

import pytest

from ollama_sync.core.network import AddressKind, classify, has_public_address, is_tailscale_ip, make_address


@pytest.mark.parametrize(("ip", "interface", "kind"), [
    ("127.0.0.1", "lo", AddressKind.LOOPBACK), ("::1", "lo0", AddressKind.LOOPBACK),
    ("100.101.102.103", "utun3", AddressKind.TAILSCALE), ("fd7a:115c:a1e0::1234:5678", "utun3", AddressKind.TAILSCALE),
    ("192.168.1.20", "en0", AddressKind.LAN), ("10.0.0.5", "eth0", AddressKind.LAN),
    ("fd00::2", "eth0", AddressKind.LAN), ("fe80::1%en0", "en0", AddressKind.LINK_LOCAL),
    ("203.0.113.7", "en0", AddressKind.LAN),  # TEST-NET-3 is documentation space: Python calls it private
    ("8.8.8.8", "en0", AddressKind.PUBLIC), ("2001:4860::1", "en0", AddressKind.PUBLIC),
    ("192.168.5.1", "tailscale0", AddressKind.TAILSCALE),
])
def test_classify(ip: str, interface: str, kind: AddressKind) -> None:
    assert classify(ip, interface) is kind


def test_helpers() -> None:
    assert make_address("not-an-ip", "x") is None
    address = make_address("fe80::1%en0", "en0")
    assert address is not None and address.ip == "fe80::1"
    assert is_tailscale_ip("100.64.0.2") and not is_tailscale_ip("studio.tail1234.ts.net")
    public = make_address("8.8.8.8", "en0")
    assert public is not None and has_public_address((public,))
