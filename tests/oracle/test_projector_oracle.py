"""A vision projector's compute buffer checked against the real mtmd/clip.cpp (llama-cpp-python 0.3.36 = llama.cpp
b11312, built with LLAVA_BUILD=ON so libmtmd ships): tiny random-weight projectors of each type the estimate counts
(gemma3, idefics3, llava "mlp", pixtral/mistral3, qwen2-vl/qwen2.5-vl/qwen3-vl, llama4, minicpm-v) over a grid of
warm-up image sizes, patch sizes, encoder widths, head counts and merge factors, each opened with flash attention on and
off as llama-server opens it (mtmd_init_from_file, warm-up on, CPU backend). clip.cpp logs the compute buffer it
reserved (MiB, two decimals); core/memory/projector.py must give the same figure: measured on this grid, the largest
relative error is 0 (every point equal to the printed two decimals), so there is no tolerance beyond that printing: our
figure, printed as clip.cpp prints it, must be the same text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest

from ollama_sync.core.memory.projector import ProjectorInfo, projector_compute, projector_info
from ollama_sync.system.gguf_header import read_header
from tests.conftest import REPO
from tests.oracle.requires import require_llama_cpp
from tests.oracle.tiny_mmproj import TinyProjector, write_projector, write_text_model

pytestmark = pytest.mark.oracle

MIB: Final = 1024 * 1024
PROJECTORS: Final = (
    TinyProjector("gemma3", scale=4),
    TinyProjector("gemma3", image=448, emb=192, heads=6, ff=768, scale=4),
    TinyProjector("gemma3", image=256, patch=16, emb=256, heads=8, ff=1024, blocks=3, scale=2, out=384),
    TinyProjector("idefics3", scale=4),
    TinyProjector("idefics3", image=280, scale=3),  # 20 patches a side: padded to 21 for the pixel shuffle
    TinyProjector("idefics3", image=384, patch=16, emb=192, heads=3, ff=640, scale=2),
    TinyProjector("mlp", blocks=3),
    TinyProjector("mlp", image=336, emb=256, heads=8, ff=1024, hidden=512, out=384),
    TinyProjector("mlp", image=192, patch=16, emb=96, heads=2, ff=384, blocks=4),
    TinyProjector("mlp", blocks=4, features=(1, 2, 4)),  # granite vision: feature layers stacked, the last = output
    TinyProjector("mlp", image=196, blocks=5, features=(0, 3)),
    TinyProjector("pixtral"),  # pixtral-12b's layout: no patch merger, warm-up 16×16 patches
    TinyProjector("pixtral", patch=16, emb=192, heads=6, ff=512, blocks=3, out=384),
    TinyProjector("pixtral", merge=2),  # mistral-small 3.1's layout: the patch merger, warm-up 32×32 patches
    TinyProjector("pixtral", patch=16, emb=256, heads=4, ff=768, merge=2, hidden=384, out=384),
    # qwen warm up at 46×46 merged patches (8464 patches whatever the patch size): small widths keep it light
    TinyProjector("qwen2vl_merger", patch=4, emb=64, heads=2, ff=128, hidden=256),
    TinyProjector("qwen2.5vl_merger", patch=4, emb=64, heads=2, ff=128, blocks=3, window=2, hidden=256),
    TinyProjector("qwen2.5vl_merger", patch=2, emb=32, heads=1, ff=96, blocks=4, window=4, hidden=128, out=128),
    TinyProjector("qwen3vl_merger", patch=4, emb=64, heads=2, ff=128, blocks=3, hidden=256, deepstack=(0, 1)),
    TinyProjector("qwen3vl_merger", patch=4, emb=64, heads=2, ff=128, blocks=2, hidden=256, pos_side=92),  # no resize
    TinyProjector("llama4", scale=2, blocks=2, ff=256),
    TinyProjector("resampler", blocks=2),  # minicpm-v 2.x: 96 queries
    TinyProjector("resampler", image=280, emb=192, heads=6, blocks=3, out=384, queries=64),
    TinyProjector("llama4", image=336, emb=192, heads=6, ff=512, blocks=3, scale=2, hidden=384, out=384),
)


def measure(text_model: Path, grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the mtmd probe in a subprocess (a clip.cpp abort must not end the test run) and parse its JSON lines."""
    done = subprocess.run([sys.executable, "-m", "tests.oracle.probe_mtmd", str(text_model)],
                          input=json.dumps(grid), capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and len(lines) == len(grid), done.stderr[-3000:]
    return lines


def measure_all(folder: Path) -> dict[str, tuple[ProjectorInfo, list[dict[str, Any]]]]:
    """Every tiny projector written, read by our header reader, and opened by mtmd with flash attention on and off."""
    out = {}
    for p in PROJECTORS:
        mmproj = write_projector(folder / f"{p.name}.gguf", p)
        text = write_text_model(folder / f"text-{p.text_width}.gguf", p)
        out[p.name] = (projector_info(read_header(mmproj)),
                       measure(text, [{"mmproj": str(mmproj), "flash": flash} for flash in (True, False)]))
    return out


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ProjectorInfo, list[dict[str, Any]]]]:
    """The grid, measured once for the module."""
    require_llama_cpp("libmtmd", "libmtmd (LLAVA_BUILD=ON)")
    return measure_all(tmp_path_factory.mktemp("projector-oracle"))


@pytest.mark.parametrize("p", PROJECTORS, ids=lambda p: p.name)
def test_the_header_is_read_as_clip_reads_it(measured: dict[str, tuple[ProjectorInfo, list[dict[str, Any]]]],
                                             p: TinyProjector) -> None:
    info, results = measured[p.name]
    assert (info.projector_type, info.image_size, info.patch_size, info.n_embd, info.n_layer, info.n_head) == \
        (p.ptype, p.image, p.patch, p.emb, p.blocks, p.heads)
    assert info.merge_size == p.merge
    for r in results:
        assert r["ok"], r.get("log")
        assert r["flash_attention"] == r["entry"]["flash"]  # the CPU backend supports it: no fallback
        assert projector_compute(info, r["entry"]["flash"]).warmup_image == r["warmup"]


@pytest.mark.parametrize("p", PROJECTORS, ids=lambda p: p.name)
def test_the_compute_buffer_equals_clip_cpp(measured: dict[str, tuple[ProjectorInfo, list[dict[str, Any]]]],
                                           p: TinyProjector) -> None:
    info, results = measured[p.name]
    for r in results:
        (theirs,) = [b["mib"] for b in r["compute"]]  # one backend: the CPU
        ours = projector_compute(info, r["entry"]["flash"])
        assert ours.note == ""
        assert f"{ours.bytes / MIB:.2f}" == theirs, (r["entry"], ours.bytes / MIB, theirs)  # printf's %.2f
