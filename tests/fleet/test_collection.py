"""The ollama_sync.fleet collection as Ansible's own tools see it: ansible-test sanity, galaxy build,
syntax checks of the example playbooks, and the fleet filters on registered results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.netns_bed import COLLECTIONS, REPO, ansible_tool

COLLECTION = COLLECTIONS / "ansible_collections" / "ollama_sync" / "fleet"
EXAMPLES = REPO / "ansible" / "examples"
# The sanity tests that run offline on the local Python (no docker): everything ansible-test has for modules
# and plugins except pylint (slow) and pslint/shellcheck (no PowerShell or shell code here).
SANITY = ("action-plugin-docs", "ansible-doc", "compile", "empty-init", "ignores", "import", "line-endings",
          "no-assert", "no-illegal-filenames", "no-smart-quotes", "pep8", "replace-urlopen", "runtime-metadata",
          "shebang", "symlinks", "use-argspec-type-path", "validate-modules", "yamllint")


def _env(home: Path) -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
            "LANG": "C.UTF-8", "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_NOCOLOR": "1",
            **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "http_", "https_", "HTTP", "NO_PROXY"))}}


@pytest.mark.slow
def test_ansible_test_sanity_passes(tmp_path: Path) -> None:
    # A copy outside git: ansible-test then checks every file of the collection (in a checkout it asks git).
    copy = tmp_path / "ansible_collections" / "ollama_sync" / "fleet"
    shutil.copytree(COLLECTION, copy, ignore=shutil.ignore_patterns("output", "__pycache__", "*.tar.gz"))
    # ansible-test keeps its per-test virtualenvs under ~/.ansible/test: one HOME in .venv, reused between runs,
    # with the offline stand-in for get-pip.py it would otherwise download (see get_pip_offline.py).
    home = Path(sys.prefix) / "ansible-test-home"
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).parent / "get_pip_offline.py", cache / "get_pip_23_1_2.py")
    argv = [ansible_tool("ansible-test"), "sanity", "--python", "3.11", "--local", "--color", "no"]
    for test in SANITY:
        argv += ["--test", test]
    done = subprocess.run(argv, cwd=copy, env=_env(home), capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    for test in SANITY:
        assert f'Running sanity test "{test}"' in done.stdout


def test_galaxy_builds_the_collection(tmp_path: Path) -> None:
    done = subprocess.run([ansible_tool("ansible-galaxy"), "collection", "build", str(COLLECTION), "--output-path",
                           str(tmp_path)], env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    built = tmp_path / "ollama_sync-fleet-0.1.0.tar.gz"
    with tarfile.open(built) as tar:
        names = set(tar.getnames())
    assert {"plugins/modules/service.py", "plugins/modules/status.py", "plugins/modules/doctor.py",
            "plugins/action/service.py", "plugins/filter/fleet.py", "plugins/module_utils/cli.py",
            "roles/install/tasks/main.yml", "playbooks/summary.yml", "playbooks/findings.yml",
            "MANIFEST.json"} <= names


@pytest.mark.parametrize("playbook", ["site.yml", "summary.yml"])
def test_example_playbooks_pass_ansible_syntax_check(tmp_path: Path, playbook: str) -> None:
    done = subprocess.run([ansible_tool("ansible-playbook"), "--syntax-check", "-i", "inventory.yml", playbook],
                          cwd=EXAMPLES, env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _resolved(tmp_path: Path, name: str) -> dict[str, Any]:
    """ollama_sync_service and the merged ollama_sync_ollama of one example host, as Ansible templates them
    (the debug action runs on the controller: nothing connects)."""
    env = {**_env(tmp_path), "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    out: dict[str, Any] = {}
    for var in ("ollama_sync_service", "ollama_sync_ollama"):
        done = subprocess.run([ansible_tool("ansible"), name, "-i", "inventory.yml", "-m", "ansible.builtin.debug",
                               "-a", f"var={var}", "--one-line"], cwd=EXAMPLES, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        out[var] = json.loads(done.stdout.split("=>", 1)[1])[var]  # `host | SUCCESS => {…}`
    return out


def test_example_inventory_gives_each_host_its_backend_and_merged_settings(tmp_path: Path) -> None:
    """group_vars + host_vars as Ansible resolves them: backend per group, models per group, a host override."""
    mac, gpu1, gpu2 = (_resolved(tmp_path, h) for h in ("mac-mini", "gpu-1", "gpu-2"))
    assert mac["ollama_sync_service"] == {"backend": "launchd", "scope": "user", "label": "com.github.ollama",
                                          "binary": "/opt/homebrew/bin/ollama"}
    assert gpu1["ollama_sync_service"]["backend"] == "systemd"
    assert mac["ollama_sync_ollama"]["models"] == ["llama3.1:8b"]
    assert mac["ollama_sync_ollama"]["host"] == "100.64.0.7"
    assert gpu1["ollama_sync_ollama"]["models"] == ["qwen2.5:32b", "llama3.1:8b"]
    assert gpu1["ollama_sync_ollama"]["num_parallel"] == 4 and gpu2["ollama_sync_ollama"]["num_parallel"] == 2
    assert gpu2["ollama_sync_ollama"]["models_path"] == "/data/ollama/models"
    assert gpu2["ollama_sync_ollama"]["flash_attention"] is True  # from group_vars/all.yml
