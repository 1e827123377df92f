"""The `ollama-sync` program's entry point: garbage collection is paused before the CLI is imported.

Start-up creates only long-lived objects (modules, classes, click's tables); a collection during it finds
nothing. `cli.main` freezes them and turns collection back on once the command module is loaded. Kept
apart from `ollama_sync.cli` so that importing the library never changes the collector's state.
"""

from __future__ import annotations

import gc


def main() -> None:
    """Run the command line."""
    gc.disable()
    from ollama_sync.cli import main as cli_main  # noqa: PLC0415  # imported with collection paused

    cli_main()
