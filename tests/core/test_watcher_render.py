"""The watcher's plist and units: pure rendering, checked with the real plistutil and systemd-analyze."""

from __future__ import annotations

import os
import plistlib
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ollama_sync.core.render import is_ours
from ollama_sync.core.render.watcher import (
    Watcher,
    render_watcher,
    watcher_environment,
    watcher_files,
    watcher_name,
)
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine
from tests.conftest import require_tool

MACHINE = Machine("Darwin", "/Users/alice", 501, "alice", "/Users/alice/Library/Application Support/ollama-sync")
PATHS = ("/Users/alice/.config/ollama-sync/config.toml", "/Users/alice/nix/hosts/mini/default.nix")


def watcher(backend: Backend, command: tuple[str, ...] = ("/usr/bin/ollama-sync",), scope: Scope = Scope.USER
            ) -> Watcher:
    name = watcher_name(backend, "com.github.ollama" if backend is Backend.LAUNCHD else "ollama")
    return Watcher(backend, name, watcher_files(backend, name, scope, MACHINE), scope,
                   (*command, "--config", PATHS[0], "watch", "--once"), PATHS,
                   MACHINE.state_dir + "/logs/watch-output.log", (("PATH", "/usr/bin:/bin"),))


def test_names_and_paths() -> None:
    assert watcher(Backend.LAUNCHD).files == ("/Users/alice/Library/LaunchAgents/com.github.ollama.watch.plist",)
    assert watcher(Backend.SYSTEMD).files == ("/Users/alice/.config/systemd/user/ollama-sync-watch.path",
                                              "/Users/alice/.config/systemd/user/ollama-sync-watch.service")
    assert watcher(Backend.SYSTEMD, scope=Scope.SYSTEM).files[0] == "/etc/systemd/system/ollama-sync-watch.path"


def test_plist_watches_the_declaration_and_is_valid(tmp_path: Path) -> None:
    tool = require_tool("plistutil")
    (data,) = render_watcher(watcher(Backend.LAUNCHD), PATHS[0])
    assert is_ours(data)
    plist = plistlib.loads(data)
    assert plist["WatchPaths"] == list(PATHS)
    assert plist["ProgramArguments"][-2:] == ["watch", "--once"]
    assert plist["RunAtLoad"] is False
    assert plist["StandardErrorPath"].endswith("/logs/watch-output.log")
    source = tmp_path / "w.plist"
    source.write_bytes(data)
    done = subprocess.run([tool, "-i", str(source), "-o", str(tmp_path / "w.bin")], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert plistlib.loads((tmp_path / "w.bin").read_bytes()) == plist  # plistutil read every key back


def test_xml_comment_never_holds_a_double_dash() -> None:
    (data,) = render_watcher(watcher(Backend.LAUNCHD), "/tmp/a--b.toml")
    comment = data.split(b"<!--", 1)[1].split(b"-->", 1)[0]
    assert b"--" not in comment
    plistlib.loads(data)


@pytest.mark.parametrize("source", ["/tmp/a---b.toml", "/tmp/ends-with-", "/tmp/-", "/tmp/x\x01y\nz.toml",
                                    "/tmp/\ud800.toml", "/tmp/]]>&<.toml", "/tmp/\ufffe\x7f.nix"])
def test_marker_comment_is_valid_xml_for_awkward_paths(source: str) -> None:
    (data,) = render_watcher(watcher(Backend.LAUNCHD), source)
    assert plistlib.loads(data)["Label"] == "com.github.ollama.watch"
    comment = data.split(b"<!--", 1)[1].split(b"-->", 1)[0].decode()
    assert "\n" not in comment and comment.isprintable()


@settings(max_examples=300)
@given(st.text())
def test_marker_comment_is_valid_xml_for_any_path(source: str) -> None:
    (data,) = render_watcher(watcher(Backend.LAUNCHD), source)
    document = ElementTree.fromstring(data)  # expat: a '--' or a control character in a comment is an error
    assert document.tag == "plist"
    assert is_ours(data)
    path_unit, service_unit = render_watcher(watcher(Backend.SYSTEMD), source)
    assert path_unit.decode().split("\n", 1)[0].startswith("# Managed by ollama-sync")
    assert service_unit.decode().count("\n[Unit]\n") == 1


def test_agent_loads_in_background_sessions_too() -> None:
    (data,) = render_watcher(watcher(Backend.LAUNCHD), PATHS[0])
    assert "Background" in plistlib.loads(data)["LimitLoadToSessionType"]
    (daemon,) = render_watcher(watcher(Backend.LAUNCHD, scope=Scope.SYSTEM), PATHS[0])
    assert "LimitLoadToSessionType" not in plistlib.loads(daemon)


def test_units_verify(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze")
    quoted = tmp_path / "bin dir" / "ollama-sync"
    quoted.parent.mkdir()
    quoted.write_text("#!/bin/sh\n")
    quoted.chmod(0o755)
    w = watcher(Backend.SYSTEMD, command=(str(quoted),))
    path_unit, service_unit = render_watcher(w, PATHS[0])
    text = path_unit.decode()
    assert f"PathChanged={PATHS[0]}\nPathChanged={PATHS[1]}\n" in text
    assert "Unit=ollama-sync-watch.service" in text and "WantedBy=default.target" in text
    assert "Type=oneshot" in service_unit.decode()
    assert f"ExecStart='{quoted}' --config" in service_unit.decode()
    for name, data in zip(("ollama-sync-watch.path", "ollama-sync-watch.service"), (path_unit, service_unit),
                          strict=True):
        (tmp_path / name).write_bytes(data)
    done = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / "ollama-sync-watch.path"),
                           str(tmp_path / "ollama-sync-watch.service")], capture_output=True, text=True, check=False,
                          env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    assert done.returncode == 0, done.stderr
    assert "ollama-sync-watch" not in done.stderr, done.stderr


def test_environment_keeps_path_order_and_own_variables() -> None:
    env = watcher_environment({"PATH": "/a:/usr/bin", "OLLAMA_SYNC_STATE_DIR": "/s", "OLLAMA_SYNC_CONFIG": "/c",
                               "SECRET": "x"}, ("/usr/bin", "/bin"))
    assert env == (("OLLAMA_SYNC_STATE_DIR", "/s"), ("PATH", "/a:/usr/bin:/bin"))
