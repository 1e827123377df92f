"""Test-only entry point: the ollama-sync command line, killed with SIGKILL when a transaction reaches STEP.

    python tests/e2e_supervisor/crash_at.py STEP [ollama-sync arguments…]

It adds a step hook to `Transaction` (the seam the shipped program leaves empty), then runs the CLI as
`python -m ollama_sync` would. SIGKILL is what `kill -9` sends: no handler, no cleanup, no flushed buffers.
"""

from __future__ import annotations

import os
import signal
import sys

from ollama_sync.app.transaction import Transaction
from ollama_sync.cli import main


def kill_at(step: str) -> None:
    """Install a hook that kills this process when the transaction reaches step."""
    def hook(reached: str) -> None:
        if reached == step:
            os.kill(os.getpid(), signal.SIGKILL)

    Transaction.step_hooks.append(hook)


if __name__ == "__main__":
    kill_at(sys.argv[1])
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    main()
