"""Test-only entry point: the ollama-sync command line, paused when a transaction reaches STEP.

    python tests/e2e_supervisor/pause_at.py STEP FOLDER [ollama-sync arguments…]

At STEP it creates FOLDER/paused and waits (at most a minute) for FOLDER/resume, so a test can inject a
real fault (fill the state file system, remount it read-only) at that exact point. It uses the step hook
`Transaction` leaves for tests, like crash_at.py.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ollama_sync.app.transaction import Transaction
from ollama_sync.cli import main


def pause_at(step: str, folder: Path) -> None:
    """Install a hook that waits for folder/resume when the transaction reaches step."""
    def hook(reached: str) -> None:
        if reached != step:
            return
        (folder / "paused").touch()
        deadline = time.monotonic() + 60
        while not (folder / "resume").exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    Transaction.step_hooks.append(hook)


if __name__ == "__main__":
    pause_at(sys.argv[1], Path(sys.argv[2]))
    sys.argv = [sys.argv[0], *sys.argv[3:]]
    main()
