"""core/trust: the service file's mode follows its secrets, never loosens, and doctor judges by the same rule (#11)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ollama_sync.core.doctor.diagnose import diagnose
from ollama_sync.core.file_env import FileEnv
from ollama_sync.core.machine_facts import PathStat
from ollama_sync.core.render.launchd import render_plist
from ollama_sync.core.trust import service_file_mode, state_dir_problem
from tests.core.doctor_facts import TARGET, healthy

SECRET_ENVS = [
    {"HF_TOKEN": "hf_abc"},
    {"OPENAI_API_KEY": "sk-1"},
    {"MY_SECRET": "s"},
    {"DB_PASSWORD": "p"},
    {"HTTPS_PROXY": "http://bob:hunter2@proxy:3128"},
]


def plist(env: dict[str, str]) -> bytes:
    return render_plist({"OLLAMA_HOST": "127.0.0.1:11434", **env}, TARGET, "/decl.toml")


@pytest.mark.parametrize("env", SECRET_ENVS)
def test_a_file_with_credentials_is_written_0600(env: dict[str, str]) -> None:
    assert service_file_mode(TARGET.backend, plist(env), TARGET.path, TARGET.name, None) == 0o600
    assert service_file_mode(TARGET.backend, plist(env), TARGET.path, TARGET.name, 0o644) == 0o600


@pytest.mark.parametrize("env", [{}, {"HTTPS_PROXY": "http://proxy:3128"}, {"OLLAMA_KEEP_ALIVE": "5m"},
                                 {"HF_TOKEN": ""}])
def test_a_file_without_credentials_is_written_0644(env: dict[str, str]) -> None:
    assert service_file_mode(TARGET.backend, plist(env), TARGET.path, TARGET.name, None) == 0o644


@pytest.mark.parametrize("existing,secret,expected", [
    (0o600, False, 0o600), (0o640, False, 0o640), (0o640, True, 0o600), (0o400, False, 0o600),
    (0o666, False, 0o644), (0o755, False, 0o644),
])
def test_an_existing_stricter_mode_is_never_loosened(existing: int, secret: bool, expected: int) -> None:
    content = plist({"HF_TOKEN": "x"} if secret else {})
    assert service_file_mode(TARGET.backend, content, TARGET.path, TARGET.name, existing) == expected


@pytest.mark.parametrize("env", SECRET_ENVS)
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o600])
def test_doctor_flags_exactly_what_apply_would_tighten(env: dict[str, str], mode: int) -> None:
    content = plist(env)
    facts = healthy(file_env=FileEnv({"OLLAMA_HOST": "x", **env}), file_stat=PathStat(TARGET.path, 501, 20, mode,
                                                                                       False))
    flagged = "secrets-readable" in {f.code for f in diagnose(facts)}
    apply_mode = service_file_mode(TARGET.backend, content, TARGET.path, TARGET.name, mode)
    assert flagged == (apply_mode != mode)


def test_doctor_reports_an_unsafe_state_directory() -> None:
    unsafe = healthy(state_dir=PathStat("/s", 501, 20, 0o777, True))
    found = {f.code: f for f in diagnose(unsafe)}
    assert found["state-dir-unsafe"].message.startswith("the state directory /s is writable by every user (mode 0777)")
    assert found["state-dir-unsafe"].hint == "chmod 700 /s"
    assert "state-dir-unsafe" not in {f.code for f in diagnose(healthy(state_dir=PathStat("/s", 501, 20, 0o700,
                                                                                           True)))}
    other = replace(healthy(), state_dir=PathStat("/s", 0, 0, 0o700, True))
    assert state_dir_problem(PathStat("/s", 0, 0, 0o700, True), 501) is not None
    assert {f.code for f in diagnose(other)} == {"state-dir-unsafe"}
