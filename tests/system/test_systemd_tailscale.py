"""Bound to a Tailscale address: the unit waits for tailscaled and retries (issue #10 item 9).

Read back by the real systemd 252: `systemd-analyze verify` (no warning about any line) and systemd's own
test-mode dump of the loaded unit (the ordering and restart policy PID 1 would apply).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ollama_sync.core.render import binds_tailscale
from tests.core.render_cases import TARGETS, render_with
from tests.system.render_tools import INSTALLER_UNIT, fake_binary, systemd_test_mode_unit, systemd_verify

TAILNET = {"OLLAMA_HOST": "100.101.102.103:11434"}


@pytest.mark.parametrize(("host", "expected"), [
    ("100.101.102.103:11434", True),
    ("100.64.0.1", True),  # the first address of 100.64.0.0/10
    ("100.127.255.254:80", True),  # the last usable one
    ("100.63.255.255:11434", False),  # just below the range
    ("100.128.0.1:11434", False),  # just above it
    ("http://[fd7a:115c:a1e0::1]:11434", True),  # Tailscale's IPv6 ULA prefix
    ("[fd7a:115c:a1e1::1]:11434", False),
    ("mini.tail1234.ts.net:11434", True),  # MagicDNS: resolvable only through tailscaled
    ("'mini.tail1234.ts.net.'", True),
    ("0.0.0.0:11434", False),
    ("127.0.0.1", False),
    ("", False),
])
def test_which_hosts_count_as_tailscale(host: str, expected: bool) -> None:
    assert binds_tailscale({"OLLAMA_HOST": host}) is expected


def _unit(tmp_path: Path, content: bytes, name: str = "ollama.service") -> Path:
    unit = tmp_path / "units" / name
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_bytes(content)
    return unit


def test_system_unit_orders_after_tailscaled_and_restarts_on_failure(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    rendered = render_with(replace(TARGETS["systemd-system"], log_path=None), TAILNET, binary=str(binary))
    assert rendered.content is not None, rendered.findings
    text = rendered.content.decode()
    assert "After=network-online.target tailscaled.service\nWants=network-online.target tailscaled.service\n" in text
    assert "Restart=on-failure\nRestartSec=5\n" in text
    unit = _unit(tmp_path, rendered.content)
    assert systemd_verify(unit) == ""  # tailscaled.service need not exist: Wants= is soft
    dump = systemd_test_mode_unit(unit.parent, "ollama.service")
    assert "\tAfter: tailscaled.service" in dump and "\tWants: tailscaled.service" in dump
    assert "\tRestart: on-failure\n" in dump
    assert "\tRestartSec: 5s\n" in dump


def test_a_unit_on_another_address_does_not_mention_tailscaled(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    rendered = render_with(replace(TARGETS["systemd-system"], log_path=None), {"OLLAMA_HOST": "0.0.0.0:11434"},
                           binary=str(binary))
    assert rendered.content is not None
    assert b"tailscale" not in rendered.content
    dump = systemd_test_mode_unit(_unit(tmp_path, rendered.content).parent, "ollama.service")
    assert "tailscaled.service" not in dump and "\tRestart: on-failure\n" in dump


def test_user_unit_cannot_wait_for_a_system_unit_and_relies_on_restarts(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    rendered = render_with(replace(TARGETS["systemd-user"], log_path=None), TAILNET, binary=str(binary))
    assert rendered.content is not None
    text = rendered.content.decode()
    assert "tailscaled.service" in text and "After=network-online.target\n" in text  # only in the comment
    assert systemd_verify(_unit(tmp_path, rendered.content), user=True) == ""


def test_dropin_adds_the_ordering_to_the_installer_unit(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    unit = _unit(tmp_path, INSTALLER_UNIT.format(binary=binary).encode())
    rendered = render_with(TARGETS["systemd-dropin"], TAILNET)
    assert rendered.content is not None
    dropin = unit.parent / "ollama.service.d" / "ollama-sync.conf"
    dropin.parent.mkdir()
    dropin.write_bytes(rendered.content)
    assert systemd_verify(unit) == ""
    dump = systemd_test_mode_unit(unit.parent, "ollama.service")
    assert "\tAfter: tailscaled.service" in dump and "\tWants: tailscaled.service" in dump
    assert "\tRestart: always\n" in dump  # the installer's own policy stays
