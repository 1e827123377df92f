"""Reading a .nix declaration: the static reader against `nix-instantiate --eval`, and `plan` on a .nix source.

    .venv/bin/python bench/bench_nix.py

1. In-process static read of examples/reference-setup.nix vs `nix-instantiate --eval --strict --json` of
   the same file (through the adapter: the process Nix mode would start). Budget: the reader ≥ 20× faster,
   i.e. its time ≤ 0.05× Nix's.
2. Whole process `ollama-sync plan` with examples/nix-source.toml vs `python -c pass`. Budget ≤ 8×.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import REPO, VENV_BIN, interleaved, report, run_process

sys.path.insert(0, str(REPO / "src"))

from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.system.nix import Nix
from ollama_sync.system.runner import SubprocessRunner

NIX_FILE = REPO / "examples" / "reference-setup.nix"
CONFIG = REPO / "examples" / "nix-source.toml"


def main() -> int:
    """Run both measurements; exit 1 when one is over budget."""
    ok = True
    text = NIX_FILE.read_text()
    read_nix_text(text, str(NIX_FILE))  # warm: the grammar is loaded once per process
    if shutil.which("nix-instantiate") is None:
        print("nix-instantiate not installed: static-vs-Nix ratio skipped")
    else:
        with tempfile.TemporaryDirectory() as state:  # keep Nix away from /nix/var and ~/.config/nix
            for name in ("NIX_STATE_DIR", "NIX_LOG_DIR", "NIX_CONF_DIR"):
                os.environ[name] = str(Path(state) / name.lower())
            nix = Nix(SubprocessRunner())
            paths = [("custom", "services", "ollama")]
            times = interleaved({"static": lambda: read_nix_text(text, str(NIX_FILE)),
                                 "nix": lambda: nix.eval_module(str(NIX_FILE), paths)}, runs=21)
        ok &= report("static read of reference-setup.nix", times["static"], times["nix"], 0.05,
                     baseline_name="nix-instantiate --eval")
        print(f"  (the static reader is {times['nix'] / times['static']:.0f}× faster; budget ≥ 20×)")
    with tempfile.TemporaryDirectory() as root:
        plan = run_process([str(VENV_BIN / "ollama-sync"), "--root", root, "--config", str(CONFIG), "plan"])
        times = interleaved({"plan": plan, "python": run_process([sys.executable, "-c", "pass"])}, runs=21)
    ok &= report("ollama-sync plan (.nix source)", times["plan"], times["python"], 8.0,
                 baseline_name="python -c pass")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
