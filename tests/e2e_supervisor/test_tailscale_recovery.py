"""A server bound to a Tailscale address that appears only after it started comes up by itself (issue #10 item 9).

At boot `ollama serve` can start before tailscaled has put 100.x.y.z on an interface: the bind fails with
`bind: cannot assign requested address` and the server exits 1. Here, in a network namespace this test
creates, a real supervisord runs the rendered program section (the stand-in as `ollama`, NOT the real
server) on 100.101.102.103, which no interface has yet. Once the stand-in has failed at least once, an
interface named tailscale0 appears with that address; supervisord's retries must bring the server up.
All traffic stays inside the namespace.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ollama_sync.core.render.supervisord import TAILSCALE_START_RETRIES
from ollama_sync.system.server_log import LogEventKind, find_events
from tests.conftest import IN_CI, require_tool
from tests.core.render_cases import TARGETS, render_with
from tests.standin import install_fake_ollama
from tests.supervisor_harness import running_supervisord

ADDRESS = "100.101.102.103"
PORT = 11434
DEFAULT_START_RETRIES = 3  # supervisord.conf(5)

pytestmark = pytest.mark.slow


def _ip(*args: str) -> None:
    subprocess.run([require_tool("ip"), *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh network namespace with only `lo` up; deleted afterwards (which removes its interfaces)."""
    require_tool("ip")
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("creating a network namespace needs root; CI runs the suite as root")
        pytest.skip("creating a network namespace needs root")
    name = f"osync-ts-{uuid.uuid4().hex[:8]}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        _ip("netns", "delete", name)


def _answers(netns: str) -> str | None:
    """GET /api/version on the Tailscale address from inside the namespace; the body, or None."""
    probe = ("import sys, urllib.request\n"
             f"try: print(urllib.request.urlopen('http://{ADDRESS}:{PORT}/api/version', timeout=1).read().decode())\n"
             "except OSError: sys.exit(1)\n")
    done = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", probe], capture_output=True,
                          text=True, timeout=10, check=False)
    return done.stdout if done.returncode == 0 else None


def _wait(condition: str, deadline: float, check: Callable[[], bool]) -> None:
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {condition}")


def test_server_on_a_tailscale_address_comes_up_once_the_address_appears(netns: str, tmp_path: Path) -> None:
    ollama = install_fake_ollama(tmp_path / "bin")
    log = tmp_path / "logs" / "ollama.log"
    log.parent.mkdir()
    target = replace(TARGETS["supervisord"], binary=str(ollama), log_path=str(log), user=None)
    rendered = render_with(target, {"OLLAMA_HOST": f"{ADDRESS}:{PORT}"})
    assert rendered.content is not None, rendered.findings
    assert f"startretries={TAILSCALE_START_RETRIES}\n" in rendered.content.decode()
    with running_supervisord(tmp_path / "home", wrapper=("ip", "netns", "exec", netns)) as sv:
        (tmp_path / "home").mkdir(exist_ok=True)
        sv.write_program(target.name, rendered.content.decode())
        sv.ctl("update")

        def failed_to_bind_beyond_the_default_retries() -> bool:
            lines = log.read_text().splitlines() if log.exists() else []
            failures = [e for e in find_events(lines) if e.kind is LogEventKind.ADDRESS_NOT_AVAILABLE]
            return len(failures) > DEFAULT_START_RETRIES + 1  # supervisord's default would be FATAL by now

        _wait("more failed binds than supervisord's default retries allow", time.monotonic() + 40,
              failed_to_bind_beyond_the_default_retries)
        info = sv.info(target.name)
        assert info is not None and info["statename"] != "FATAL"
        assert _answers(netns) is None
        # tailscaled brings its interface up later: here a veth pair inside the namespace plays tailscale0.
        _ip("-n", netns, "link", "add", "tailscale0", "type", "veth", "peer", "name", "ts-peer")
        _ip("-n", netns, "addr", "add", f"{ADDRESS}/32", "dev", "tailscale0")
        _ip("-n", netns, "link", "set", "ts-peer", "up")
        _ip("-n", netns, "link", "set", "tailscale0", "up")
        appeared = time.monotonic()
        answer: list[str] = []

        def answering() -> bool:
            body = _answers(netns)
            if body:
                answer.append(body)
            return bool(body)

        _wait("the stand-in to answer on the new address", appeared + 60, answering)
        assert re.search(r'"version"\s*:', answer[0])

        def running() -> bool:
            info = sv.info(target.name)
            return info is not None and info["statename"] == "RUNNING"

        _wait("supervisord to count the start as RUNNING (startsecs=1)", time.monotonic() + 10, running)
        text = log.read_text()
        assert "bind: cannot assign requested address" in text  # the failures are in the log doctor reads
        assert f"Listening on {ADDRESS}:{PORT}" in text
