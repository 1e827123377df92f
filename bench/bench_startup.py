"""Startup cost of the CLI: whole-process median wall time against `python -c pass` in the same venv.

    .venv/bin/python bench/bench_startup.py [--runs N]

Figures (budgets from issue #2, revised in issue #13):
  * `ollama-sync plan` on examples/reference-setup.toml, under a temporary --root   ≤ 8× python -c pass
  * `ollama-sync --help`                                                             ≤ 5× python -c pass

Every command runs as a fresh process, interleaved with the baseline so machine noise hits all alike.
Bytecode caching is on for the children (PYTHONDONTWRITEBYTECODE is dropped), as after a normal install;
the warm-up runs write the caches. The budgets apply to wall time; the CPU time (user + system) of the
same runs is printed too, as a cross-check that is steadier on a busy machine. Exit status 1 when a
wall-time figure is over its budget.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import REPO, VENV_BIN, interleaved, report, run_process

_CPU: dict[str, list[float]] = {}


def _with_cpu(name: str, action: Callable[[], object]) -> Callable[[], object]:
    """action, also recording the child's CPU time (user + system) under name."""
    def timed() -> object:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = action()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        _CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return result
    return timed

EXAMPLE = REPO / "examples" / "reference-setup.toml"
PLAN_BUDGET = 8.0
HELP_BUDGET = 5.0


def main() -> int:
    """Measure, print the ratios, and return 1 when one is over budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="measured runs per command (default 21)")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # children cache bytecode, as an installed tool does
    python = str(VENV_BIN / "python")
    tool = str(VENV_BIN / "ollama-sync")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as root:
        os.environ["HOME"] = root  # nothing of the user's is read
        medians = interleaved({
            "baseline": _with_cpu("baseline", run_process([python, "-c", "pass"])),
            "plan": _with_cpu("plan", run_process([tool, "--root", root, "--config", str(EXAMPLE), "plan"])),
            "help": _with_cpu("help", run_process([tool, "--help"])),
        }, runs=args.runs, warmup=2)
    base = medians["baseline"]
    print(f"startup, median of {args.runs} interleaved runs ({sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    ok = report("ollama-sync plan (reference setup)", medians["plan"], base, PLAN_BUDGET,
                baseline_name="python -c pass")
    ok = report("ollama-sync --help", medians["help"], base, HELP_BUDGET, baseline_name="python -c pass") and ok
    cpu = {name: statistics.median(values) for name, values in _CPU.items()}  # warm-up runs included
    print(f"cross-check, CPU time: plan {cpu['plan'] / cpu['baseline']:.2f}×, --help "
          f"{cpu['help'] / cpu['baseline']:.2f}× python -c pass ({cpu['baseline'] * 1000:.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
