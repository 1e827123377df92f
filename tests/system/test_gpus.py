"""GPUs on Linux: nvidia-smi and rocm-smi through the real runner (stand-in scripts printing outputs written from
the tools' documented formats, see tests/fixtures/gpus/README.md), the amdgpu sysfs files, and no GPU at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ollama_sync.core.memory.estimate import Device
from ollama_sync.system import host_memory
from ollama_sync.system.gpus import amd_from_sysfs, parse_nvidia_smi, parse_rocm_smi, probe_gpus
from ollama_sync.system.runner import SubprocessRunner
from tests.conftest import FIXTURES

GPUS = FIXTURES / "gpus"
MIB = 1024**2


def _tool(folder: Path, name: str, output: Path | None, rc: int = 0) -> None:
    """An executable stand-in printing a recorded output (or failing like a driver-less nvidia-smi)."""
    script = folder / name
    body = f"cat '{output}'\n" if output else "echo 'NVIDIA-SMI has failed because it couldn't communicate with " \
                                              "the NVIDIA driver.' >&2\n"
    script.write_text(f"#!/bin/sh\n{body}exit {rc}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An otherwise empty PATH (plus /bin for sh and cat)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/bin{os.pathsep}/usr/bin")
    return folder


def test_nvidia_smi_two_gpus_through_the_runner(bin_dir: Path, tmp_path: Path) -> None:
    _tool(bin_dir, "nvidia-smi", GPUS / "nvidia-smi-2gpus.csv")
    gpus = probe_gpus(SubprocessRunner(), sysfs=tmp_path / "no-drm")
    assert [(g.device, g.name, g.total // MIB, g.free // MIB) for g in gpus] == [
        ("CUDA0", "NVIDIA GeForce RTX 4090", 24564, 23940), ("CUDA1", "NVIDIA GeForce RTX 3090", 24576, 24161)]
    assert {g.source for g in gpus} == {"nvidia-smi"}


def test_driverless_nvidia_smi_and_missing_tools_mean_no_gpu(bin_dir: Path, tmp_path: Path) -> None:
    assert probe_gpus(SubprocessRunner(), sysfs=tmp_path / "no-drm") == ()  # neither tool installed
    _tool(bin_dir, "nvidia-smi", None, rc=9)
    assert probe_gpus(SubprocessRunner(), sysfs=tmp_path / "no-drm") == ()


def test_amd_sysfs_cards_skip_connectors_and_subtract_used_memory() -> None:
    gpus = amd_from_sysfs(GPUS / "sysfs-2cards")
    assert [(g.device, g.name, g.total, g.free) for g in gpus] == [
        ("ROCm0", "AMD Radeon RX 7900 XTX", 25753026560, 25753026560 - 1153433600),
        ("ROCm1", "AMD GPU (card1)", 536870912, 536870912 - 16777216)]


def test_rocm_smi_is_asked_when_sysfs_has_no_amdgpu_card(bin_dir: Path, tmp_path: Path) -> None:
    _tool(bin_dir, "rocm-smi", GPUS / "rocm-smi-meminfo-vram.json")
    gpus = probe_gpus(SubprocessRunner(), sysfs=tmp_path / "no-drm")
    assert [(g.device, g.total, g.free, g.source) for g in gpus] == [
        ("ROCm0", 25753026560, 25753026560 - 1153433600, "rocm-smi"),
        ("ROCm1", 17163091968, 17163091968 - 26214400, "rocm-smi")]


@pytest.mark.parametrize("text", ["", "garbage", "0, GPU, [N/A], [N/A]\n", "x, y\n"])
def test_malformed_nvidia_smi_lines_are_skipped(text: str) -> None:
    assert parse_nvidia_smi(text) == ()


@pytest.mark.parametrize("text", ["", "[]", "{\"card0\": 3}", "{\"card0\": {\"VRAM Total Memory (B)\": \"n/a\"}}"])
def test_malformed_rocm_smi_is_no_gpu(text: str) -> None:
    assert parse_rocm_smi(text) == ()


def test_linux_host_memory_uses_the_gpus_free_memory(bin_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    _tool(bin_dir, "nvidia-smi", GPUS / "nvidia-smi-2gpus.csv")
    monkeypatch.setattr("ollama_sync.system.gpus.SYSFS_DRM", tmp_path / "no-drm")
    host = host_memory.read_host_memory("Linux", SubprocessRunner())
    assert host.device is Device.GPU and len(host.gpus) == 2
    assert host.gpu_budget == (23940 + 24161) * MIB
    assert "CUDA0 NVIDIA GeForce RTX 4090" in host.gpu_name


def test_memory_json_lists_the_probed_gpus(bin_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import json  # noqa: PLC0415

    from ollama_sync.cli import run  # noqa: PLC0415

    _tool(bin_dir, "nvidia-smi", GPUS / "nvidia-smi-2gpus.csv")
    monkeypatch.setattr("ollama_sync.system.gpus.SYSFS_DRM", tmp_path / "no-drm")
    config = tmp_path / "ollama.toml"
    config.write_text(f'[ollama]\nmodelsPath = "{tmp_path / "models"}"\nhost = "127.0.0.1"\nport = 1\n')
    assert run(["--config", str(config), "--json", "memory"]) == 0
    host = json.loads(capsys.readouterr().out)["host"]
    assert [g["device"] for g in host["gpus"]] == ["CUDA0", "CUDA1"] and host["device"] == "gpu"
