"""The `ollama` program on this machine: where it is and which release it is."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ollama_sync.core.version import Version, parse_version
from ollama_sync.errors import OllamaSyncError

if TYPE_CHECKING:  # annotations only: finding the binary must not import the subprocess machinery
    from ollama_sync.system.files import Files
    from ollama_sync.system.runner import Runner

CANDIDATES = ("/opt/homebrew/bin/ollama", "/usr/local/bin/ollama", "/usr/bin/ollama")


def find_binary(files: Files, environ: Mapping[str, str], system: str) -> tuple[str, bool]:
    """The ollama binary's path and whether it was found; else the platform's usual path and False.

    Homebrew's prefixes first (the reference setup runs Homebrew's build), then PATH.
    """
    for candidate in CANDIDATES:
        if files.exists(candidate):
            return candidate, True
    for folder in environ.get("PATH", "").split(os.pathsep):
        if folder and os.path.isabs(folder):
            candidate = os.path.join(folder, "ollama")
            if files.exists(candidate):
                return candidate, True
    return ("/opt/homebrew/bin/ollama" if system == "Darwin" else "/usr/local/bin/ollama"), False


def installed_version(runner: Runner, binary: str) -> Version | None:
    """`ollama --version` → the client's release ("ollama version is 0.5.7"), or None when it cannot say."""
    try:
        done = runner.run([binary, "--version"], ok_codes=None, timeout=10)
    except OllamaSyncError:
        return None
    # With no server running it prints "Warning: client version is X" on stderr: take the client's.
    for line in reversed(done.output.splitlines()):
        if "version" in line:
            found = parse_version(line)
            if found is not None:
                return found
    return None
