"""status's cost against a running stand-in server (tests/standin, NOT the real Ollama) under a real supervisord.

1. whole-process `ollama-sync status` vs `python -c pass` in the same venv (budget ≤ 12×);
2. the same with one of this machine's addresses unreachable: a listener on [::1] at the declared port that
   accepts connections and never answers (a hung server), while the stand-in answers on 127.0.0.1
   (budget: ≤ 2 s absolute, and printed as a ratio to `python -c pass` too).

Run: .venv/bin/python bench/bench_status.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import VENV_BIN, interleaved, report, run_process
from tests.standin import install_fake_ollama
from tests.supervisor_harness import Supervisord, free_port, running_supervisord

ABSOLUTE_BUDGET = 2.0


def main() -> int:
    """Measure both figures; exit 1 when one is over budget."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        folder = Path(tmp)
        (folder / "home").mkdir()
        with running_supervisord(folder / "home") as sv:
            return measure(sv, folder, runs)


def measure(sv: Supervisord, folder: Path, runs: int) -> int:
    """Start the stand-in through supervisord, then time status with and without a hung address."""
    port = free_port()
    config = folder / "config.toml"
    config.write_text(sv.config_text(str(install_fake_ollama(folder / "bin")), port,
                                     extra_ollama="num_parallel = 2\n",
                                     backend_extra=f'log_path = "{folder}/logs/ollama.log"\n'))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder / "home"),
           "OLLAMA_SYNC_STATE_DIR": str(folder / "state"), **sv.environ()}
    start(sv, config, env, port)
    status = [str(VENV_BIN / "ollama-sync"), "--config", str(config), "status"]
    check_answer(status, env, expect_hung=False)
    python = run_process([sys.executable, "-c", "pass"])
    timings = interleaved({"status": run_in(status, env), "python": python}, runs=runs)
    ok = report("status (stand-in running)", timings["status"], timings["python"], 12,
                baseline_name="python -c pass")
    with HungListener(port):
        check_answer(status, env, expect_hung=True)
        timings = interleaved({"status": run_in(status, env), "python": python}, runs=runs, warmup=1)
    ok = report("status (one address hung)", timings["status"], timings["python"], None,
                baseline_name="python -c pass") and ok
    within = timings["status"] <= ABSOLUTE_BUDGET
    print(f"status (one address hung): {timings['status']:.2f} s absolute (budget ≤ {ABSOLUTE_BUDGET:g} s)"
          f"{' OK' if within else ' OVER BUDGET'}")
    return 0 if ok and within else 1


def start(sv: Supervisord, config: Path, env: dict[str, str], port: int) -> None:
    """Let ollama-sync apply the declaration (supervisord starts the stand-in), then wait for it."""
    done = subprocess.run([str(VENV_BIN / "ollama-sync"), "--config", str(config), "apply", "--yes"], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"apply failed:\n{done.stdout}\n{done.stderr}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (sv.info("ollama") or {}).get("statename") != "RUNNING":
        time.sleep(0.1)
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def run_in(argv: list[str], env: dict[str, str]) -> object:
    """An action running status to completion (exit 0 or 1: both are answers)."""
    def action() -> object:
        return subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return action


def check_answer(argv: list[str], env: dict[str, str], *, expect_hung: bool) -> None:
    """The measured command really reports what the scenario says (not a fast failure)."""
    done = subprocess.run([*argv[:-1], "--json", "status"], env=env, capture_output=True, text=True, check=False)
    doc = json.loads(done.stdout)
    probes = {p["address"]: p for p in doc["server"]["addresses"]}
    if not doc["healthy"] or not probes["127.0.0.1"]["answered"]:
        raise SystemExit(f"the stand-in is not healthy:\n{done.stdout}")
    if expect_hung and probes.get("::1", {}).get("error") != "timed out":
        raise SystemExit(f"[::1] did not hang as intended:\n{json.dumps(probes, indent=1)}")


class HungListener:
    """[::1]:port accepts connections (the kernel's backlog) but nothing ever answers."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET6)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.bind(("::1", port))

    def __enter__(self) -> socket.socket:
        self.sock.listen(128)
        return self.sock

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


if __name__ == "__main__":
    sys.exit(main())
