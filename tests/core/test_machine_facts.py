"""Which processes are Ollama servers, and who started them; launchd job labels."""

from __future__ import annotations

import pytest

from ollama_sync.core.machine_facts import ServerKind, classify_process, job_kind


@pytest.mark.parametrize(("args", "exe", "expected"), [
    (("/opt/homebrew/opt/ollama/bin/ollama", "serve"), "/opt/homebrew/Cellar/ollama/0.12.3/bin/ollama",
     (True, False, ServerKind.HOMEBREW)),  # brew services (ps-eww fixture's command line)
    (("/Applications/Ollama.app/Contents/Resources/ollama", "serve"), "", (True, False, ServerKind.DESKTOP_APP)),
    (("/Applications/Ollama.app/Contents/MacOS/Ollama",), "", (False, True, ServerKind.DESKTOP_APP)),
    (("/usr/local/bin/ollama", "serve"), "/usr/local/bin/ollama", (True, False, ServerKind.OTHER)),
    (("/usr/bin/python3", "/work/tests/standin/ollama_standin.py", "serve"), "/usr/bin/python3.11",
     (True, False, ServerKind.OTHER)),  # the tests' stand-in
    (("/usr/local/bin/ollama", "run", "llama3"), "", (False, False, ServerKind.OTHER)),  # a client, not a server
    (("python3", "-m", "http.server", "11434"), "", (False, False, ServerKind.OTHER)),
    (("vim", "ollama", "serve"), "", (False, False, ServerKind.OTHER)),
])
def test_classify_process(args: tuple[str, ...], exe: str, expected: tuple[bool, bool, ServerKind]) -> None:
    assert classify_process(args, exe) == expected


def test_job_kind() -> None:
    assert job_kind("homebrew.mxcl.ollama") is ServerKind.HOMEBREW
    assert job_kind("application.com.electron.ollama.61282955.61282961") is ServerKind.DESKTOP_APP
    assert job_kind("com.example.ollama-proxy") is ServerKind.OTHER
