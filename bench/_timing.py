"""Shared timing for bench/ scripts: medians measured in one run, printed as ratios against a baseline."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def compile_bytecode() -> None:
    """Write the package's .pyc files, as an installed package has them.

    An editable install compiles on first import, and not at all under PYTHONDONTWRITEBYTECODE=1:
    start-up figures would then include compiling the source on every run.
    """
    import compileall  # noqa: PLC0415

    compileall.compile_dir(str(REPO / "src" / "ollama_sync"), quiet=1)


compile_bytecode()  # every bench script imports this module first


def median_seconds(action: Callable[[], object], *, runs: int = 15, warmup: int = 2) -> float:
    """Median wall time of action over runs (after warmup runs)."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_process(argv: Sequence[str], *, check: bool = True) -> Callable[[], object]:
    """An action that runs argv to completion, output discarded."""
    def action() -> object:
        done = subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if check and done.returncode not in (0, 2):
            raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(argv)}")
        return done
    return action


def interleaved(actions: dict[str, Callable[[], object]], *, runs: int = 15, warmup: int = 2) -> dict[str, float]:
    """Median wall time of each action, runs interleaved so machine noise hits all of them alike."""
    for _ in range(warmup):
        for action in actions.values():
            action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(name: str, value: float, baseline: float, budget: float | None, *, baseline_name: str) -> bool:
    """Print `name: X ms = R× baseline (budget ≤ B×) OK|OVER`; True when within budget."""
    ratio = value / baseline if baseline > 0 else float("inf")
    verdict = "" if budget is None else (" OK" if ratio <= budget else " OVER BUDGET")
    limit = "" if budget is None else f" (budget ≤ {budget:g}×)"
    print(f"{name}: {value * 1000:.1f} ms = {ratio:.2f}× {baseline_name} ({baseline * 1000:.1f} ms){limit}{verdict}")
    return budget is None or ratio <= budget
