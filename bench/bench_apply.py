"""apply's cost on a real supervisord supervising the stand-in server (tests/standin), measured in one run.

1. `ollama-sync apply --yes` for a one-variable change (alternating keep_alive values) against a bare
   `supervisorctl restart ollama` followed by polling the port until it answers (budget ≤ 1.3×).
2. a no-op `ollama-sync apply --yes` against `python -c pass` (budget ≤ 10×, issue #13), and the number of restarts
   the no-op runs caused (must be 0); for information, the no-op against `plan` of the same config
   (apply's own cost on top of the shared load-validate-render path).

Run: .venv/bin/python bench/bench_apply.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import VENV_BIN, interleaved, report, run_process
from tests.standin import install_fake_ollama
from tests.supervisor_harness import Supervisord, free_port, running_supervisord, supervisor_tool

from ollama_sync.system.ollama_api import OllamaApi


def main() -> int:
    """Measure both figures; exit 1 when one is over budget."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        folder = Path(tmp)
        (folder / "home").mkdir()
        with running_supervisord(folder / "home") as sv:
            return measure(sv, folder, runs)


def measure(sv: Supervisord, folder: Path, runs: int) -> int:
    """Set up the service with one apply, then time the change, the baseline and the no-op."""
    ollama = install_fake_ollama(folder / "bin")
    port = free_port()
    config = folder / "config.toml"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder / "home"),
           "OLLAMA_SYNC_STATE_DIR": str(folder / "state"), **sv.environ()}
    apply_argv = [str(VENV_BIN / "ollama-sync"), "--config", str(config), "apply", "--yes"]  # as users run it
    values = iter(["10m", "20m"] * (runs + 10))

    def declare(keep_alive: str) -> None:
        config.write_text(sv.config_text(str(ollama), port, extra_ollama=f'keep_alive = "{keep_alive}"\n'))

    def change() -> object:
        declare(next(values))
        done = subprocess.run(apply_argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"apply failed:\n{done.stdout}\n{done.stderr}")
        return done

    declare("5m")
    change()
    api = OllamaApi(f"http://127.0.0.1:{port}", timeout=0.5)
    restart = restart_and_poll(sv, api)
    timings = interleaved({"apply": change, "restart": restart}, runs=runs, warmup=1)
    ok = report("apply (one-variable change)", timings["apply"], timings["restart"], 1.3,
                baseline_name="supervisorctl restart + poll")

    noop = run_noop(apply_argv, env)
    plan = run_process([*apply_argv[:-2], "plan"])
    pid_before = sv.pid("ollama")
    timings = interleaved({"noop": noop, "python": run_process([sys.executable, "-c", "pass"]), "plan": plan},
                          runs=runs)
    restarts = 0 if sv.pid("ollama") == pid_before else 1  # pids only change on a restart
    ok = report("apply (no-op)", timings["noop"], timings["python"], 10, baseline_name="python -c pass") and ok
    report("apply (no-op)", timings["noop"], timings["plan"], None, baseline_name="`plan` of the same config")
    print(f"restarts caused by {runs + 2} no-op applies: {restarts} (budget 0){' OK' if not restarts else ' OVER'}")
    return 0 if ok and not restarts else 1


def restart_and_poll(sv: Supervisord, api: OllamaApi) -> Callable[[], object]:
    """The baseline: what a person would do by hand."""
    ctl = [supervisor_tool("supervisorctl"), "-c", str(sv.conf), "restart", "ollama"]

    def action() -> object:
        subprocess.run(ctl, check=True, capture_output=True)
        while not api.ping():
            time.sleep(0.01)
        return None
    return action


def run_noop(argv: list[str], env: dict[str, str]) -> Callable[[], object]:
    """A no-op apply that must say "up to date"."""
    def action() -> object:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or "up to date" not in done.stdout:
            raise SystemExit(f"no-op apply did something:\n{done.stdout}\n{done.stderr}")
        return done
    return action


if __name__ == "__main__":
    sys.exit(main())
