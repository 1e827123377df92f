"""The fleet's cost on the network-namespace bed (tests/fleet/netns_bed.py: real sshd, supervisord, stand-in).

1. a one-variable change (keep_alive, a new value each run) applied by `ansible-playbook` with the
   ollama_sync.fleet.service module to 1 host (--limit h1, forks 1) and to N hosts (forks N), interleaved;
   the figure is the ratio N-host wall time / 1-host wall time (budget ≤ 1.5 for N = 3);
2. the status summary (`ansible-playbook ollama_sync.fleet.summary`) for the N hosts, wall time.

Needs root (ip netns), Debian's openssh-server and ansible-core (the test extra).
Run: .venv/bin/python bench/bench_fleet.py [--hosts N] [--runs R]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import interleaved, median_seconds, report
from tests.fleet.netns_bed import Bed, namespace_bed

SITE = Path(__file__).resolve().parent.parent / "tests" / "fleet" / "playbooks" / "site.yml"


def main() -> int:
    """Build the bed, apply once everywhere, then time; exit 1 when the ratio is over budget."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with namespace_bed(args.hosts) as bed:
        return measure(bed, args.hosts, args.runs)


def measure(bed: Bed, hosts: int, runs: int) -> int:
    """The two figures."""
    inventory = bed.inventory()
    first = bed.playbook(inventory, SITE)
    if first.returncode != 0:
        raise SystemExit(f"the first apply failed:\n{first.stdout}\n{first.stderr}")
    minutes = itertools.count(10)

    def change(*limit: str, forks: int) -> Callable[[], object]:
        def action() -> object:
            extra = json.dumps({"fleet_settings": {"keep_alive": f"{next(minutes)}m"}})
            done = bed.playbook(inventory, SITE, "-e", extra, "--forks", str(forks), *limit)
            changed = done.stdout.count("changed: [")
            if done.returncode != 0 or changed != (1 if limit else hosts):
                raise SystemExit(f"the change did not apply ({done.returncode}, {changed} changed):\n{done.stdout}")
            return done
        return action

    times = interleaved({"one": change("--limit", "h1", forks=1), "all": change(forks=hosts)}, runs=runs, warmup=1)
    ok = report(f"change on {hosts} hosts (forks {hosts})", times["all"], times["one"], 1.5,
                baseline_name="the same change on 1 host")

    def summary() -> object:
        done = bed.playbook(inventory, "ollama_sync.fleet.summary")
        if done.returncode != 0 or f"{hosts} of {hosts} hosts reachable, in sync and healthy" not in done.stdout:
            raise SystemExit(f"the summary failed:\n{done.stdout}\n{done.stderr}")
        return done

    summary_time = median_seconds(summary, runs=runs, warmup=1)
    print(f"status summary of {hosts} hosts (ollama_sync.fleet.summary): {summary_time * 1000:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
