"""tailscale: `status --json` and `ip -4` on recorded output; failures become "not available"."""

from __future__ import annotations

from pathlib import Path

from ollama_sync.core.network import TailscaleSelf
from ollama_sync.system import tailscale
from ollama_sync.system.files import Files
from tests.conftest import require_shared
from tests.fakes import FakeRunner, completed, recorded


def fixture(name: str) -> Path:
    return require_shared() / "fixtures/macos" / name


def test_running_status() -> None:
    status = tailscale.parse_status(fixture("tailscale-status-json-running-RECONSTRUCTED.json").read_text())
    assert status == TailscaleSelf("Running", ("100.101.102.103", "fd7a:115c:a1e0::1234:5678"),
                                   "studio.tail1234.ts.net")
    assert status.running


def test_partial_needslogin_output_is_not_json() -> None:
    # VERBATIM-EXCERPT: the author cut it with `....`, so it is not JSON: read as "unknown", not a crash.
    assert tailscale.parse_status(fixture("tailscale-status-json-needslogin-PARTIAL.json").read_text()) is None


def test_logged_out_status_has_no_addresses() -> None:
    status = tailscale.parse_status('{"BackendState": "NeedsLogin", "TailscaleIPs": null, "Self": {"DNSName": ""}}')
    assert status == TailscaleSelf("NeedsLogin", (), None)
    assert not status.running


def test_ip_4() -> None:
    assert tailscale.parse_ip(fixture("tailscale-ip-4-RECONSTRUCTED.txt").read_text()) == ("100.101.102.103",)


def test_read_status_and_ip_through_the_runner() -> None:
    runner = FakeRunner()
    argv = ["/usr/bin/tailscale", "status", "--json"]
    runner.add(argv, recorded(argv, 0, fixture("tailscale-status-json-running-RECONSTRUCTED.json"), stream="stdout"))
    ip_argv = ["/usr/bin/tailscale", "ip", "-4"]
    runner.add(ip_argv, recorded(ip_argv, 0, fixture("tailscale-ip-4-RECONSTRUCTED.txt"), stream="stdout"))
    status = tailscale.read_status(runner, "/usr/bin/tailscale")
    assert status is not None and status.dns_name == "studio.tail1234.ts.net"
    assert tailscale.ipv4(runner, "/usr/bin/tailscale") == ("100.101.102.103",)


def test_daemon_not_running_and_no_ipv4() -> None:
    runner = FakeRunner()
    argv = ["tailscale", "status", "--json"]
    runner.add(argv, recorded(argv, 1, fixture("tailscale-not-running-macos-FROMSOURCE.stderr")))
    ip_argv = ["tailscale", "ip", "-4"]
    runner.add(ip_argv, recorded(ip_argv, 1, fixture("tailscale-ip-4-no-ipv4-FROMSOURCE.stderr")))
    assert tailscale.read_status(runner, "tailscale") is None
    assert tailscale.ipv4(runner, "tailscale") == ()


def test_cli_not_installed_and_found_on_path(tmp_path: Path) -> None:
    files = Files(str(tmp_path))
    assert tailscale.find_cli(files, {"PATH": "/usr/bin:/bin"}) is None
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/tailscale").write_text("")
    assert tailscale.find_cli(files, {"PATH": "/usr/bin:/bin"}) == "/usr/bin/tailscale"
    app = tmp_path / tailscale.MACOS_APP_CLI.lstrip("/")
    app.parent.mkdir(parents=True)
    app.write_text("")
    assert tailscale.find_cli(files, {"PATH": "/nowhere"}) == tailscale.MACOS_APP_CLI


def test_timeout_is_not_available() -> None:
    runner = FakeRunner()
    argv = ["tailscale", "status", "--json"]
    runner.add(argv, completed(argv, 0, stdout="not json"))
    assert tailscale.read_status(runner, "tailscale") is None
