"""This machine's memory: the Apple GPU share of unified memory, the sysctl override, no GPU on Linux."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from ollama_sync.core.memory.estimate import Device
from ollama_sync.system.gpus import NVIDIA_SMI, ROCM_SMI
from ollama_sync.system.host_memory import apple_gpu_budget, read_host_memory
from tests.fakes import FakeRunner, completed

GIB = 1024**3


@pytest.mark.parametrize(("ram", "share"), [(16 * GIB, 16 * GIB * 2 // 3), (36 * GIB, 24 * GIB),
                                            (64 * GIB, 48 * GIB), (128 * GIB, 96 * GIB)])
def test_metal_default_share(ram: int, share: int) -> None:
    assert apple_gpu_budget(ram, 0)[0] == share


def test_wired_limit_sysctl_wins() -> None:
    assert apple_gpu_budget(64 * GIB, 57344) == (56 * GIB, "iogpu.wired_limit_mb")


def test_apple_silicon_reads_the_sysctl_through_the_runner(monkeypatch: pytest.MonkeyPatch,
                                                          fake_runner: FakeRunner) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    argv = ["sysctl", "-n", "iogpu.wired_limit_mb"]
    fake_runner.add(argv, completed(argv, 0, "20480\n"))
    host = read_host_memory("Darwin", fake_runner)
    assert (host.device, host.gpu_budget, host.unified) == (Device.METAL, 20 * GIB, True)
    assert fake_runner.calls == [tuple(argv)]


def test_linux_without_a_gpu_says_so(fake_runner: FakeRunner, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    monkeypatch.setattr("ollama_sync.system.gpus.SYSFS_DRM", tmp_path / "no-drm")
    for argv in (NVIDIA_SMI, ROCM_SMI):
        fake_runner.add(argv, completed(argv, 127, "", "not found"))
    host = read_host_memory("Linux", fake_runner)
    assert host.device is Device.CPU and host.gpu_budget is None
    assert "no GPU detected" in host.gpu_source
    assert 0 < host.available <= host.total
    assert fake_runner.calls == [NVIDIA_SMI, ROCM_SMI]
