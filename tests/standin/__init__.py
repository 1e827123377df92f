"""The stand-in Ollama server used by tests (NOT the real Ollama), and a helper to install it as `ollama`."""

from __future__ import annotations

import sys
from pathlib import Path

STANDIN = Path(__file__).resolve().parent / "ollama_standin.py"


def install_fake_ollama(folder: Path) -> Path:
    """Write an executable `ollama` in folder that runs the stand-in with this interpreter; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ollama"
    path.write_text(f'#!/bin/sh\n# stand-in for ollama (tests only)\nexec "{sys.executable}" "{STANDIN}" "$@"\n')
    path.chmod(0o755)
    return path
