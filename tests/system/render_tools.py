"""The real readers of rendered files: plistutil, systemd-analyze verify, systemd's test mode, supervisord's parser.

Each helper writes the rendered bytes where the tool expects them and returns what the tool read back,
so a test can compare it with the declared environment.
"""

from __future__ import annotations

import os
import plistlib
import pwd
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from ollama_sync.core.target import Target
from ollama_sync.system.runner import SubprocessRunner
from tests.conftest import IN_CI, require_tool

RUNNER = SubprocessRunner()
SYSTEMD_BINARIES = ("/usr/lib/systemd/systemd", "/lib/systemd/systemd")

# Ollama's install.sh writes this unit (with its own paths); drop-in mode adds to it.
INSTALLER_UNIT = """[Unit]
Description=Ollama Service
After=network-online.target

[Service]
ExecStart={binary} serve
User=ollama
Group=ollama
Restart=always
RestartSec=3
Environment="PATH=/usr/local/bin:/usr/bin:/bin"

[Install]
WantedBy=default.target
"""


def fake_binary(folder: Path, name: str = "ollama") -> Path:
    """An executable stand-in for the ollama binary (systemd-analyze checks that ExecStart exists)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def plistutil_read(content: bytes, tmp: Path) -> dict[str, object]:
    """Convert the XML plist to binary and back with plistutil; the dict the final XML holds."""
    plistutil = require_tool("plistutil")
    tmp.mkdir(parents=True, exist_ok=True)
    xml, binary, again = tmp / "in.plist", tmp / "out.bplist", tmp / "again.plist"
    xml.write_bytes(content)
    RUNNER.run([plistutil, "-i", str(xml), "-f", "bin", "-o", str(binary)])
    assert binary.read_bytes().startswith(b"bplist00")
    RUNNER.run([plistutil, "-i", str(binary), "-f", "xml", "-o", str(again)])
    parsed = plistlib.loads(again.read_bytes())
    assert isinstance(parsed, dict)
    return parsed


def systemd_verify(unit: Path, *, user: bool = False) -> str:
    """Run `systemd-analyze verify` on a unit file (its drop-in folder beside it); return what it printed.

    It exits 0 even for ignored lines ("Invalid environment assignment, ignoring"), so callers assert
    the output is empty.
    """
    tool = require_tool("systemd-analyze")
    runtime = unit.parent / ".runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SYSTEMD_LOG_LEVEL": "info",
           "XDG_RUNTIME_DIR": str(runtime)}
    argv = [tool, "verify", "--man=no", *(["--user"] if user else []), str(unit)]
    done = RUNNER.run(argv, ok_codes=None, env=env)
    return f"rc={done.returncode}\n{done.output}" if done.returncode else done.output


def systemd_test_mode_unit(unit_dir: Path, name: str) -> str:
    """systemd's own dump of a unit loaded from unit_dir (`systemd --test`): how PID 1 would read it.

    Test mode refuses to run as root, so as root it runs as nobody (setpriv) on a world-readable copy.
    """
    systemd = next((p for p in SYSTEMD_BINARIES if os.access(p, os.X_OK)), None)
    if systemd is None:
        if IN_CI:
            pytest.fail("the systemd package is required in CI; .ci/run must install it")
        pytest.skip("systemd is not installed")
    argv = [systemd, "--test", "--system", f"--unit={name}", "--no-pager", "--log-target=console"]
    with tempfile.TemporaryDirectory() as scratch:
        if os.geteuid() == 0:
            argv = [require_tool("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
            unit_dir = Path(shutil.copytree(unit_dir, Path(scratch) / "units"))
            for path in [Path(scratch), unit_dir, *unit_dir.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o005)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SYSTEMD_UNIT_PATH": f"{unit_dir}:",
               "HOME": "/nonexistent"}
        done = RUNNER.run(argv, ok_codes=None, env=env)
    start = done.stdout.find(f"\t-> Unit {name}:\n")
    assert start >= 0, f"systemd --test did not load {name}:\n{done.stderr}"
    end = done.stdout.find("\n\t-> Unit ", start + 1)
    section = done.stdout[start:] if end < 0 else done.stdout[start:end + 1]
    assert "\t\tUnit Load State: loaded\n" in section, section[:400] + done.stderr
    return section


def dump_environment_block(env: dict[str, str]) -> str:
    """The lines `systemd --test` prints for these Environment= assignments, in file order."""
    return "".join(f"\t\tEnvironment: {k}={v}\n" for k, v in env.items())


def supervisord_target(target: Target, tmp: Path) -> Target:
    """target adjusted so supervisord's parser can check it here: an existing user and log folder."""
    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    me = pwd.getpwuid(os.getuid()).pw_name
    return replace(target, user=me, log_path=str(logs / "ollama.log"))


def supervisord_read(content: bytes, tmp: Path) -> list[object]:
    """supervisord's own reading (supervisor.options.ServerOptions) of a main config that [include]s
    the rendered section; the process configs it builds."""
    from supervisor.options import ServerOptions  # noqa: PLC0415  # only the supervisord tests need it

    conf_d = tmp / "conf.d"
    if conf_d.exists():
        shutil.rmtree(conf_d)
    conf_d.mkdir(parents=True)
    (conf_d / "ollama.conf").write_bytes(content)
    main = tmp / "supervisord.conf"
    main.write_text(f"[supervisord]\nlogfile={tmp}/supervisord.log\npidfile={tmp}/supervisord.pid\n"
                    "[include]\nfiles = conf.d/*.conf\n")
    options = ServerOptions()
    options.here = str(tmp)
    section = options.read_config(str(main))
    return [proc for group in section.process_group_configs for proc in group.process_configs]
