"""This machine's memory: psutil for RAM; on Apple Silicon the GPU's share of unified memory.

Metal lets the GPU use `recommendedMaxWorkingSetSize`, roughly 2/3 of RAM up to 36 GiB and 3/4 above,
unless the `iogpu.wired_limit_mb` sysctl raises or lowers it (0 = unset). On Linux, NVIDIA and AMD GPUs are
probed (system/gpus.py); their free memory is the budget. Without one, models run on the CPU from RAM.
"""

from __future__ import annotations

import platform
from typing import Final

from ollama_sync.core.memory.estimate import Device
from ollama_sync.core.memory.fit import HostMemory
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.runner import Runner

GIB: Final = 1024 ** 3
MIB: Final = 1024 ** 2
_APPLE_SMALL: Final = 36 * GIB


def apple_gpu_budget(total: int, wired_limit_mb: int) -> tuple[int, str]:
    """(bytes, source) the Apple GPU may use: the sysctl when set, else Metal's default share."""
    if wired_limit_mb > 0:
        return wired_limit_mb * MIB, "iogpu.wired_limit_mb"
    share = total * 2 // 3 if total <= _APPLE_SMALL else total * 3 // 4
    return share, "recommendedMaxWorkingSetSize (≈2/3 of RAM ≤ 36 GiB, 3/4 above)"


def read_host_memory(system: str, runner: Runner) -> HostMemory:
    """RAM from psutil; the GPU budget on Apple Silicon (sysctl via the runner); CPU only elsewhere."""
    import psutil  # noqa: PLC0415  # only the memory command needs it

    vm = psutil.virtual_memory()
    total, available = int(vm.total), int(vm.available)
    if system == "Darwin" and platform.machine() == "arm64":
        budget, source = apple_gpu_budget(total, _wired_limit_mb(runner))
        return HostMemory(total, available, Device.METAL, budget, "Apple Silicon GPU (Metal)", source, unified=True)
    if system == "Linux":
        from ollama_sync.system.gpus import probe_gpus  # noqa: PLC0415  # 25 ms: only the memory questions probe GPUs

        gpus = probe_gpus(runner)
        if gpus:
            names = ", ".join(f"{g.device} {g.name}" for g in gpus)
            sources = ", ".join(sorted({g.source for g in gpus}))
            return HostMemory(total, available, Device.GPU, sum(g.free for g in gpus), names,
                              f"free memory ({sources})", gpus=gpus)
    return HostMemory(total, available, Device.CPU, None, "", "no GPU detected (nvidia-smi, amdgpu sysfs, rocm-smi)")


def _wired_limit_mb(runner: Runner) -> int:
    try:
        done = runner.run(["sysctl", "-n", "iogpu.wired_limit_mb"], ok_codes=None, timeout=5.0)
    except OllamaSyncError:  # no sysctl, or it hung: Metal's default share applies
        return 0
    text = done.stdout.strip()
    return int(text) if done.returncode == 0 and text.isdigit() else 0
