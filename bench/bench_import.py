"""Import, JSON declarations and models sync start-up, as ratios against a baseline measured in the same run.

- `import` of the reference plist (a real process) vs `ollama-sync --version` (the CLI's own start-up).
- reading the Nix module's JSON declaration vs reading the same settings as TOML (both in process).
- `models sync --help` vs `render --help`: the official client (httpx, pydantic) must not load before a pull.
"""

from __future__ import annotations

import json
import sys
import tomllib

from _timing import REPO, VENV_BIN, interleaved, report, run_process

from ollama_sync.core.jsonread import parse_json
from ollama_sync.core.tomlread import parse_toml

CLI = str(VENV_BIN / "ollama-sync")
PLIST = str(REPO / "tests" / "fixtures" / "import" / "com.github.ollama.plist")


def main() -> int:
    """Print every figure; exit 1 when one is over its budget."""
    procs = interleaved({
        "version": run_process([CLI, "--version"]),
        "import": run_process([CLI, "import", PLIST]),
        "models-help": run_process([CLI, "models", "sync", "--help"]),
        "render-help": run_process([CLI, "render", "--help"]),
    }, runs=9)
    toml_text = (REPO / "examples" / "reference-setup.toml").read_text()
    json_text = json.dumps(tomllib.loads(toml_text))
    reads = interleaved({
        "toml": lambda: parse_toml(toml_text, "r.toml"),
        "json": lambda: parse_json(json_text, "r.json"),
    }, runs=200)
    ok = report("import reference plist (process)", procs["import"], procs["version"], 2.5,
                baseline_name="--version")
    ok &= report("models sync --help (process)", procs["models-help"], procs["render-help"], 1.2,
                 baseline_name="render --help")
    ok &= report("read JSON declaration", reads["json"], reads["toml"], 1.5, baseline_name="read TOML")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
