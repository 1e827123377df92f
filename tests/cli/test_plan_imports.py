"""`plan` loads only what it uses (its start-up budget: bench/bench_nix.py, bench/bench_startup.py).

None of apply's transaction code, and the state's record types only when a generation is kept. Each plan
runs in a fresh interpreter, as the command does, and reports the modules it imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ollama_sync.cli import run
from tests.conftest import REPO

NIX_CONFIG = REPO / "examples" / "nix-source.toml"
TOML_CONFIG = REPO / "examples" / "reference-setup.toml"
REPORT = """
import sys
from ollama_sync.cli import run
status = run(["--root", sys.argv[1], "--config", sys.argv[2], "plan"])
print("MODULES", status, *sorted(sys.modules))
"""


def plan_modules(root: Path, config: Path) -> tuple[int, set[str]]:
    """plan's exit status and every module imported by the process that ran it."""
    done = subprocess.run([sys.executable, "-c", REPORT, str(root), str(config)], capture_output=True, text=True,
                          check=True, timeout=120)
    line = next(text for text in reversed(done.stdout.splitlines()) if text.startswith("MODULES "))
    _, status, *modules = line.split()
    return int(status), set(modules)


@pytest.mark.parametrize("config", [NIX_CONFIG, TOML_CONFIG], ids=["nix", "toml"])
def test_plan_imports_no_transaction_code_and_no_records_when_none_is_kept(tmp_path: Path, config: Path) -> None:
    status, modules = plan_modules(tmp_path, config)
    assert status == 0
    loaded = modules & {"ollama_sync.app.apply", "ollama_sync.app.transaction", "ollama_sync.system.state_records"}
    assert not loaded
    assert "ollama_sync.app.look" in modules  # the same look at the file and the service as apply's


def test_plan_reads_the_kept_generation_after_an_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--root", str(tmp_path), "--config", str(TOML_CONFIG), "apply", "--yes"]) == 0
    capsys.readouterr()
    status, modules = plan_modules(tmp_path, TOML_CONFIG)
    assert status == 0
    assert "ollama_sync.system.state_records" in modules  # the newest record was read (previous_service)
    assert "ollama_sync.app.transaction" not in modules
