"""`ollama-sync memory` shows the compute buffer per device and the CPU's in system memory (llama-server era)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ollama_sync.cli import run
from ollama_sync.cli.memory import human
from tests.gguf_models import build_models_dir


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_models_dir(tmp_path_factory.mktemp("ollama"))


def _config(tmp_path: Path, models: Path) -> str:
    path = tmp_path / "ollama.toml"
    path.write_text(f'[ollama]\nmodelsPath = "{models}"\ncontextLength = 16384\n')
    return str(path)


def test_json_gives_every_device_its_compute_and_the_host_its_own(tmp_path: Path, models: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run(["--config", _config(tmp_path, models), "--json", "memory", "llama3.1", "--gpu-memory", "4G",
         "--ram", "64G"])
    (row,) = json.loads(capsys.readouterr().out)["models"]
    (device,) = row["devices"]
    assert row["era"] == "llama-server" and row["verdict"] == "spill"
    assert 0 < device["compute"] < device["bytes"] <= device["budget"]
    assert row["host_compute"]["name"] == "CPU" and row["host_compute"]["bytes"] > 0
    assert device["compute"] != row["graph"]  # its own buffer, not the one-backend figure


def test_text_names_each_devices_compute_and_the_hosts(tmp_path: Path, models: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, models)
    run(["--config", cfg, "--json", "memory", "llama3.1", "--gpu-memory", "24G", "--ram", "64G"])
    (row,) = json.loads(capsys.readouterr().out)["models"]
    run(["--config", cfg, "memory", "llama3.1", "--gpu-memory", "24G", "--ram", "64G"])
    out = capsys.readouterr().out
    (device,) = row["devices"]
    line = next(line for line in out.splitlines() if "per device:" in line)
    assert f"(compute {human(device['compute'])})" in line
    assert f"CPU compute buffer {human(row['host_compute']['bytes'])} in system memory" in line


def test_graph_and_total_are_the_buffers_as_placed(tmp_path: Path, models: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The GRAPH column sums every backend's compute buffer (each device's and the CPU's), and TOTAL is what the
    placement needs in GPU and system memory together: the table agrees with the per-device notes."""
    cfg = _config(tmp_path, models)
    for gpu in ("4G", "24G"):  # spilled, and every layer on the GPU
        run(["--config", cfg, "--json", "memory", "llama3.1", "--gpu-memory", gpu, "--ram", "64G"])
        (row,) = json.loads(capsys.readouterr().out)["models"]
        (device,) = row["devices"]
        assert row["graph"] == device["compute"] + row["host_compute"]["bytes"]
        assert row["graph"] != row["server"]["compute_buffer"]  # not the one-backend figure
        parts = row["weights"] + row["kv_cache"] + row["graph"] + row["overhead"] + row["projector"]
        assert row["total"] == parts + row["projector_compute"]
        run(["--config", cfg, "memory", "llama3.1", "--gpu-memory", gpu, "--ram", "64G"])
        line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("llama3.1"))
        assert f" {human(row['graph'])} " in line and f" {human(row['total'])} " in line
