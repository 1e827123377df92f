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


def _script(path: Path, *args: str) -> Path:
    """An executable Python script at path that runs the stand-in (so its command line names path itself)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n# stand-in for Ollama (tests only)\nimport runpy, sys\n"
                    f"sys.argv[1:1] = {list(args)!r}\n"
                    f"runpy.run_path({str(STANDIN)!r}, run_name='__main__')\n")
    path.chmod(0o755)
    return path


def install_fake_app(folder: Path) -> Path:
    """A stand-in `Ollama.app` in folder (its server `Contents/Resources/ollama`); returns the app's executable.

    Run it with STANDIN_REAP_ROOT=<folder or a parent> to let it kill competing stand-ins as the real app does.
    """
    bundle = folder / "Ollama.app" / "Contents"
    server = _script(bundle / "Resources" / "ollama")
    return _script(bundle / "MacOS" / "Ollama", "app", str(server))
