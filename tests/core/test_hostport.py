"""OLLAMA_HOST parsing against every example of Ollama's own `TestHost` (envconfig/config_test.go)."""

from __future__ import annotations

import pytest

from ollama_sync.core.hostport import (
    binds_all_interfaces,
    go_parse_ip,
    is_loopback,
    parse_host,
    split_host_port,
    strip_value,
)

# envconfig/config_test.go TestHost at v0.33.0-rc2 (fb307609), every case, verbatim.
OLLAMA_TEST_HOST = {
    "empty": ("", "http://127.0.0.1:11434"),
    "only address": ("1.2.3.4", "http://1.2.3.4:11434"),
    "only port": (":1234", "http://:1234"),
    "address and port": ("1.2.3.4:1234", "http://1.2.3.4:1234"),
    "hostname": ("example.com", "http://example.com:11434"),
    "hostname and port": ("example.com:1234", "http://example.com:1234"),
    "zero port": (":0", "http://:0"),
    "too large port": (":66000", "http://:11434"),
    "too small port": (":-1", "http://:11434"),
    "ipv6 localhost": ("[::1]", "http://[::1]:11434"),
    "ipv6 world open": ("[::]", "http://[::]:11434"),
    "ipv6 no brackets": ("::1", "http://[::1]:11434"),
    "ipv6 + port": ("[::1]:1337", "http://[::1]:1337"),
    "extra space": (" 1.2.3.4 ", "http://1.2.3.4:11434"),
    "extra quotes": ('"1.2.3.4"', "http://1.2.3.4:11434"),
    "extra space+quotes": (' " 1.2.3.4 " ', "http://1.2.3.4:11434"),
    "extra single quotes": ("'1.2.3.4'", "http://1.2.3.4:11434"),
    "http": ("http://1.2.3.4", "http://1.2.3.4:80"),
    "http port": ("http://1.2.3.4:4321", "http://1.2.3.4:4321"),
    "https": ("https://1.2.3.4", "https://1.2.3.4:443"),
    "https port": ("https://1.2.3.4:4321", "https://1.2.3.4:4321"),
    "proxy path": ("https://example.com/ollama", "https://example.com:443/ollama"),
    "ollama.com": ("ollama.com", "https://ollama.com:443"),
}


@pytest.mark.parametrize(("value", "expected"), list(OLLAMA_TEST_HOST.values()), ids=list(OLLAMA_TEST_HOST))
def test_parse_host_matches_ollamas_test_host(value: str, expected: str) -> None:
    assert parse_host(value).url == expected


@pytest.mark.parametrize(("value", "listen"), [
    (":66000", ":11434"),
    (":-1", ":11434"),
    ("1.2.3.4:99999", "1.2.3.4:11434"),
    ("1.2.3.4:abc", "1.2.3.4:11434"),
    ("1.2.3.4:", "1.2.3.4:11434"),  # an empty port is not a number either
    ("1.2.3.4:0x50", "1.2.3.4:11434"),  # ParseInt base 10: no hex
    ("1.2.3.4:1_000", "1.2.3.4:11434"),  # ...and no underscores, unlike Python's int()
    ("http://1.2.3.4:70000", "1.2.3.4:80"),  # falls back to the scheme's default, not 11434
    ("[::1]:65536", "[::1]:11434"),
])
def test_invalid_ports_fall_back_to_the_default_with_a_warning(value: str, listen: str) -> None:
    hp = parse_host(value)
    assert hp.listen == listen
    assert hp.port_fallback


@pytest.mark.parametrize(("value", "port"), [("1.2.3.4:+80", 80), (":65535", 65535), (":-0", 0)])
def test_ports_go_accepts(value: str, port: int) -> None:
    hp = parse_host(value)
    assert (hp.port, hp.port_fallback, hp.port_defaulted) == (port, False, False)


@pytest.mark.parametrize(("value", "port", "defaulted"), [
    ("http://x", 80, True),
    ("https://x", 443, True),
    ("tcp://x", 11434, True),  # any other scheme keeps 11434
    ("x", 11434, True),
    ("http://x:11434", 11434, False),
])
def test_scheme_decides_the_default_port(value: str, port: int, defaulted: bool) -> None:
    hp = parse_host(value)
    assert (hp.port, hp.port_defaulted) == (port, defaulted)


def test_path_is_kept_as_url_path_and_a_trailing_slash_is_dropped() -> None:
    assert parse_host("http://x/").url == "http://x:80"
    assert parse_host("x:1/a/b").path == "/a/b"


def test_ipv4_mapped_and_zoned_addresses_print_the_way_go_does() -> None:
    assert parse_host("::ffff:1.2.3.4").host == "1.2.3.4"
    assert parse_host("fe80::1%eth0").host == "fe80::1%eth0"  # not an IP for Go: kept raw
    assert go_parse_ip("01.2.3.4") is None  # Go 1.17+ rejects leading zeros, as Python does


@pytest.mark.parametrize(("text", "expected"), [
    ("a:1", ("a", "1")),
    ("[::1]:2", ("::1", "2")),
    (":3", ("", "3")),
    ("a", None),
    ("::1", None),
    ("[::1]", None),
    ("[::1]x:1", None),
    ("a]:1", None),
    ("[a:1", None),
])
def test_split_host_port_mirrors_go(text: str, expected: tuple[str, str] | None) -> None:
    assert split_host_port(text) == expected


@pytest.mark.parametrize(("value", "exposed"), [
    ("0.0.0.0", True), ("0.0.0.0:11434", True), ("[::]:11434", True), ("::", True), (":11434", True),
    ("", False), ("127.0.0.1", False), ("100.64.0.1:11434", False), ("example.com", False),
])
def test_binds_all_interfaces(value: str, exposed: bool) -> None:
    assert binds_all_interfaces(parse_host(value)) is exposed


def test_loopback_and_strip_value() -> None:
    assert is_loopback(parse_host("localhost:1"))
    assert is_loopback(parse_host("[::1]"))
    assert is_loopback(parse_host("127.3.4.5"))
    assert not is_loopback(parse_host("0.0.0.0"))
    assert strip_value(" 'v' ") == "v"
    assert strip_value(" ' v ' ") == " v "  # envconfig TestVar
