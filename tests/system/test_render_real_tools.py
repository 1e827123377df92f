"""Rendered files read by the real tools: plistutil, systemd-analyze verify, systemd itself, supervisord's parser."""

from __future__ import annotations

import plistlib
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

from ollama_sync.core.render import render, systemd
from tests.core.render_cases import TARGETS, declaration, expected_env, render_with
from tests.system.render_tools import (
    INSTALLER_UNIT,
    dump_environment_block,
    fake_binary,
    plistutil_read,
    supervisord_read,
    supervisord_target,
    systemd_test_mode_unit,
    systemd_verify,
)

# Values that are hard for at least one format, all of which every backend must carry exactly.
TRICKY = {
    "A_PERCENT": "100% %h %% %n%",
    "B_DOLLAR": "$HOME ${USER} $$",
    "C_BACKSLASH": "C:\\path\\ end\\",
    "D_QUOTE": "it's inside",
    "D_DQUOTE": 'say "hi" now',
    "E_SPACES": "  leading and trailing  ",
    "F_UNICODE": "naïve ☃ 日本 😀",
    "G_EMPTY": "",
    "H_XML": "<a href='x'>&amp;</a> ]]>",
    "I_EQUALS": "a=b=c,d",
    "J_HASH": "a#b;c",
    "L_TAB": "a\tb",
}
# Harder still: carried by launchd and systemd; supervisord's parser cannot hold them (see test_render_rules).
HARDER = {"K_NEWLINE": "line one\nline two\n", "M_BOTH": "it's \"both\"", "N_EDGE": "'quoted'",
          "O_COMMENT": "a ;b #c", "P_HERE": "%(here)s"}


@pytest.mark.parametrize("case", ["launchd-agent", "launchd-daemon"])
def test_plist_passes_plistutil_and_keeps_the_environment(case: str, tmp_path: Path) -> None:
    decl = declaration()
    content = render(decl, TARGETS[case]).content
    assert content is not None
    parsed = plistutil_read(content, tmp_path)
    assert parsed == plistlib.loads(content)
    assert parsed["EnvironmentVariables"] == expected_env(decl)


def test_plist_with_tricky_values_passes_plistutil(tmp_path: Path) -> None:
    env = TRICKY | HARDER
    rendered = render_with(TARGETS["launchd-agent"], env)
    assert rendered.content is not None, rendered.findings
    parsed = plistutil_read(rendered.content, tmp_path)
    assert parsed["EnvironmentVariables"] == env


def _write_unit(tmp_path: Path, content: bytes, name: str = "ollama.service") -> Path:
    unit = tmp_path / "units" / name
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_bytes(content)
    return unit


@pytest.mark.parametrize("case", ["systemd-user", "systemd-system"])
def test_full_unit_passes_systemd_analyze_verify(case: str, tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    target = replace(TARGETS[case], binary=str(binary))
    if target.log_path:
        target = replace(target, log_path=str(tmp_path / "logs" / "ollama.log"))
    content = render(declaration(), target).content
    assert content is not None
    unit = _write_unit(tmp_path, content)
    assert systemd_verify(unit, user=target.scope.value == "user") == ""


def test_dropin_verifies_together_with_the_installer_unit(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    unit = _write_unit(tmp_path, INSTALLER_UNIT.format(binary=binary).encode())
    content = render(declaration(), TARGETS["systemd-dropin"]).content
    assert content is not None
    dropin = unit.parent / "ollama.service.d" / "ollama-sync.conf"
    dropin.parent.mkdir()
    dropin.write_bytes(content)
    assert systemd_verify(unit) == ""
    dropin.write_bytes(content + b'Environment="=broken"\n')  # the check does see the drop-in
    assert "Invalid environment assignment" in systemd_verify(unit)


def test_verify_reports_what_it_ignores(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    unit = _write_unit(tmp_path, f'[Service]\nExecStart={binary} serve\nEnvironment="X\n'.encode())
    assert systemd_verify(unit) != ""


def test_systemd_reads_tricky_values_exactly(tmp_path: Path) -> None:
    env = TRICKY | HARDER
    binary = fake_binary(tmp_path / "my bin dir" / "50%", "ollama")
    log_path = f"{tmp_path}/log dir 'q' \\ ;#/100%.log"
    rendered = render_with(TARGETS["systemd-system"], env, binary=str(binary), log_path=log_path)
    assert rendered.content is not None, rendered.findings
    unit = _write_unit(tmp_path, rendered.content)
    assert systemd_verify(unit) == ""
    dump = systemd_test_mode_unit(unit.parent, "ollama.service")
    assert dump_environment_block(dict(sorted(env.items()))) in dump
    assert f"\t\t\tCommand Line: {binary} serve\n" in dump.replace(f'"{binary}"', str(binary))
    assert f"\t\tStandardOutputFileToAppend: {log_path}\n" in dump


def test_systemd_merges_the_dropin_into_the_installer_unit(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    unit = _write_unit(tmp_path, INSTALLER_UNIT.format(binary=binary).encode())
    env = TRICKY | HARDER
    rendered = render_with(TARGETS["systemd-dropin"], env)
    assert rendered.content is not None
    dropin = unit.parent / "ollama.service.d" / "ollama-sync.conf"
    dropin.parent.mkdir()
    dropin.write_bytes(rendered.content)
    dump = systemd_test_mode_unit(unit.parent, "ollama.service")
    assert dump_environment_block({"PATH": "/usr/local/bin:/usr/bin:/bin"} | dict(sorted(env.items()))) in dump


def test_supervisord_parser_returns_the_declared_environment(tmp_path: Path) -> None:
    target = supervisord_target(TARGETS["supervisord"], tmp_path)
    decl = declaration()
    content = render(decl, target).content
    assert content is not None
    (proc,) = supervisord_read(content, tmp_path)
    assert proc.name == "ollama"  # type: ignore[attr-defined]
    assert proc.environment == expected_env(decl)  # type: ignore[attr-defined]
    assert proc.command == f"{target.binary} serve"  # type: ignore[attr-defined]
    assert proc.stdout_logfile == target.log_path  # type: ignore[attr-defined]


def test_supervisord_parser_reads_tricky_values_exactly(tmp_path: Path) -> None:
    target = supervisord_target(TARGETS["supervisord"], tmp_path)
    binary = fake_binary(tmp_path / "my bin's dir" / "50%")
    rendered = render_with(target, TRICKY, binary=str(binary))
    assert rendered.content is not None, rendered.findings
    (proc,) = supervisord_read(rendered.content, tmp_path)
    assert proc.environment == TRICKY  # type: ignore[attr-defined]
    assert shlex.split(proc.command) == [str(binary), "serve"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["\ufffe", "\ufdd0", "\U0001ffff"])
def test_systemd_really_refuses_the_non_characters_the_renderer_rejects(value: str, tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "bin")
    target = replace(TARGETS["systemd-system"], binary=str(binary), log_path=None)
    assert render_with(target, {"OLLAMA_X": value}).content is None
    unit = _write_unit(tmp_path, systemd.render_unit({"OLLAMA_X": value}, target, "test"))
    assert "not UTF-8 clean" in systemd_verify(unit)
