"""Golden files: each renderer's output for the reference setup, compared byte for byte.

Regenerate after an intended change with:  UPDATE_GOLDEN=1 .venv/bin/pytest tests/core/test_render_golden.py
then review `git diff tests/fixtures/golden/`.
"""

from __future__ import annotations

import os
import plistlib

import pytest

from ollama_sync.core.render import MARKER, is_ours, render
from tests.conftest import FIXTURES
from tests.core import systemd_syntax
from tests.core.render_cases import GOLDEN_NAMES, TARGETS, declaration, expected_env

GOLDEN = FIXTURES / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("case", sorted(TARGETS))
def test_output_matches_golden_file(case: str) -> None:
    content = render(declaration(), TARGETS[case]).content
    assert content is not None
    path = GOLDEN / GOLDEN_NAMES[case]
    if UPDATE:
        path.write_bytes(content)
    assert path.exists(), f"{path} is missing; run UPDATE_GOLDEN=1 pytest {__file__}"
    assert content == path.read_bytes(), f"{case} output changed; if intended, run UPDATE_GOLDEN=1 pytest {__file__}"


@pytest.mark.parametrize("case", sorted(TARGETS))
def test_output_is_byte_stable_and_independent_of_input_order(case: str) -> None:
    decl = declaration()
    shuffled = declaration(env=dict(reversed(decl.settings.environment)))
    first = render(decl, TARGETS[case]).content
    assert first is not None
    assert render(decl, TARGETS[case]).content == first
    assert render(shuffled, TARGETS[case]).content == first


@pytest.mark.parametrize("case", sorted(TARGETS))
def test_marker_names_the_declaration_on_exactly_one_line(case: str) -> None:
    content = render(declaration(), TARGETS[case]).content
    assert content is not None and is_ours(content)
    marked = [line for line in content.decode().splitlines() if MARKER in line]
    assert len(marked) == 1 and declaration().source in marked[0]
    assert sum(declaration().source in line for line in content.decode().splitlines()) == 1


@pytest.mark.parametrize("case", ["launchd-agent", "launchd-daemon"])
def test_golden_plist_carries_the_declared_environment(case: str) -> None:
    plist = plistlib.loads((GOLDEN / GOLDEN_NAMES[case]).read_bytes())
    target = TARGETS[case]
    assert plist["EnvironmentVariables"] == expected_env(declaration())
    assert plist["ProgramArguments"] == [target.binary, "serve"]
    assert plist["Label"] == target.name
    assert plist["StandardOutPath"] == plist["StandardErrorPath"] == target.log_path
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] is True
    assert plist.get("UserName") == (target.user if case == "launchd-daemon" else None)


@pytest.mark.parametrize("case", ["systemd-user", "systemd-system", "systemd-dropin"])
def test_golden_unit_carries_the_declared_environment(case: str) -> None:
    text = (GOLDEN / GOLDEN_NAMES[case]).read_text()
    assert systemd_syntax.environment(text) == expected_env(declaration())
    if case == "systemd-dropin":
        assert systemd_syntax.assignments(text, "ExecStart") == []  # the installer's unit keeps its command
    else:
        assert systemd_syntax.exec_start(text) == [TARGETS[case].binary, "serve"]
