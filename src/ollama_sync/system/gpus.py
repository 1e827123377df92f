"""GPUs on Linux, where the Ollama server runs: NVIDIA through `nvidia-smi`, AMD through the amdgpu sysfs files
or `rocm-smi`.

* NVIDIA: `nvidia-smi --query-gpu=index,name,memory.total,memory.free --format=csv,noheader,nounits` prints
  one line per GPU, `0, NVIDIA GeForce RTX 4090, 24564, 24082` (MiB; nvidia-smi's documented CSV query
  format). Parsed with the csv module.
* AMD: the amdgpu driver's `/sys/class/drm/card*/device/mem_info_vram_total` and `mem_info_vram_used` (bytes;
  the files Ollama's own `discover/amd_linux.go` reads), so no tool is needed; when sysfs has no amdgpu card,
  `rocm-smi --showmeminfo vram --json` (`{"card0": {"VRAM Total Memory (B)": "…",
  "VRAM Total Used Memory (B)": "…"}}`) is asked. Parsed with the json module.
Every command goes through the runner; a missing tool means "no GPU of that kind", never an error.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Final

from ollama_sync.core.memory.fit import Gpu
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.runner import Runner

MIB: Final = 1024 * 1024
NVIDIA_SMI: Final = ("nvidia-smi", "--query-gpu=index,name,memory.total,memory.free",
                     "--format=csv,noheader,nounits")
ROCM_SMI: Final = ("rocm-smi", "--showmeminfo", "vram", "--json")
SYSFS_DRM: Final = Path("/sys/class/drm")


def probe_gpus(runner: Runner, sysfs: Path | None = None) -> tuple[Gpu, ...]:
    """Every NVIDIA and AMD GPU this Linux machine reports, in device order (NVIDIA first, as CUDA0…)."""
    found = list(_nvidia(runner))
    amd = amd_from_sysfs(SYSFS_DRM if sysfs is None else sysfs)
    found.extend(amd if amd else _rocm_smi(runner))
    return tuple(found)


def _nvidia(runner: Runner) -> tuple[Gpu, ...]:
    try:
        done = runner.run(list(NVIDIA_SMI), ok_codes=None, timeout=10.0)
    except OllamaSyncError:  # not installed, or hung: no NVIDIA GPU to plan for
        return ()
    return parse_nvidia_smi(done.stdout) if done.returncode == 0 else ()


def parse_nvidia_smi(text: str) -> tuple[Gpu, ...]:
    """nvidia-smi's CSV (no header, no units: MiB) → GPUs; malformed lines are skipped."""
    gpus = []
    for row in csv.reader(io.StringIO(text), skipinitialspace=True):
        if len(row) != 4 or not row[0].strip().isdigit():
            continue
        try:
            total, free = int(float(row[2])) * MIB, int(float(row[3])) * MIB
        except ValueError:  # "[N/A]" on some virtual GPUs
            continue
        gpus.append(Gpu(f"CUDA{row[0].strip()}", row[1].strip(), total, free, "nvidia-smi"))
    return tuple(gpus)


def _rocm_smi(runner: Runner) -> tuple[Gpu, ...]:
    try:
        done = runner.run(list(ROCM_SMI), ok_codes=None, timeout=10.0)
    except OllamaSyncError:
        return ()
    return parse_rocm_smi(done.stdout) if done.returncode == 0 else ()


def parse_rocm_smi(text: str) -> tuple[Gpu, ...]:
    """rocm-smi's `--showmeminfo vram --json` → GPUs (cards in their numeric order)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(doc, dict):
        return ()
    gpus = []
    for n, card in enumerate(sorted((k for k in doc if k.startswith("card")), key=_card_number)):
        fields = doc[card]
        if not isinstance(fields, dict):
            continue
        total, used = _int(fields.get("VRAM Total Memory (B)")), _int(fields.get("VRAM Total Used Memory (B)"))
        if total:
            gpus.append(Gpu(f"ROCm{n}", card, total, max(total - (used or 0), 0), "rocm-smi"))
    return tuple(gpus)


def amd_from_sysfs(root: Path) -> tuple[Gpu, ...]:
    """amdgpu cards from sysfs: VRAM total and used per card; () when there is none."""
    gpus: list[Gpu] = []
    cards = sorted((p for p in root.glob("card*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:]))
    for card in cards:
        device = card / "device"
        total = _int(_read(device / "mem_info_vram_total"))
        if not total:
            continue
        used = _int(_read(device / "mem_info_vram_used")) or 0
        name = _read(device / "product_name") or f"AMD GPU ({card.name})"
        gpus.append(Gpu(f"ROCm{len(gpus)}", name, total, max(total - used, 0), "sysfs mem_info_vram"))
    return tuple(gpus)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return None


def _int(text: object) -> int | None:
    value = str(text).strip() if text is not None else ""
    return int(value) if value.isdigit() else None


def _card_number(name: str) -> int:
    digits = name[4:]
    return int(digits) if digits.isdigit() else 1 << 30
