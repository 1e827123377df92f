"""The llama-server era checked against a real llama.cpp (llama-cpp-python 0.3.36 = llama.cpp b11312, built from
source by .ci/run): tiny random-weight GGUF models of each architecture are loaded over a grid of context sizes,
parallel sequences, KV cache types and flash attention on/off; the buffers llama.cpp logs are compared with
core/memory/llama_cpp.py. KV caches (cells, layers, K and V per cache) and the output buffer must equal what
llama.cpp prints (to its two decimals of MiB); the compute buffer must be within COMPUTE_TOLERANCE.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest

from ollama_sync.core.memory.llama_cpp import LLAMA_CPP_REVISION, ServerParams, allocation
from ollama_sync.core.memory.model_info import ModelInfo, model_info
from ollama_sync.system.gguf_header import read_header
from tests.conftest import REPO
from tests.oracle.requires import require_llama_cpp
from tests.oracle.tiny_gguf import MODELS, Tiny, write_tiny

pytestmark = pytest.mark.oracle

MIB: Final = 1024 * 1024
PINNED: Final = "0.3.36"  # pyproject's `oracle` extra
# Measured on this grid (bench/bench_memory_oracle.py prints it): the largest relative error of the compute buffer
# was 21 % (gpt-oss, flash attention, 8k cells: ggml-alloc kept the masks alive beside the logits); most points are
# within a few percent. The hybrids, whose mamba-2 / short-convolution blocks outweigh the logits on most points:
# lfm2 20 % (1000 cells × 3 sequences, flash attention), falcon-h1 14 %, granitehybrid 11 %, qwen35 10 %,
# nemotron_h 7 %.
# The tolerance is that measurement with a small margin, not a target.
COMPUTE_TOLERANCE: Final = 0.25
GRID: Final = tuple({"n_ctx": ctx, "n_seq": seq, "type": kv, "flash": fa}
                    for ctx in (1000, 8192) for seq in (1, 3)
                    for kv, fa in (("f16", True), ("f16", False), ("q8_0", True), ("q4_0", True)))


def _require_llama_cpp() -> None:
    require_llama_cpp()
    import llama_cpp  # noqa: PLC0415  # present: require_llama_cpp skipped or failed otherwise

    assert llama_cpp.__version__ == PINNED


def measure(path: Path, grid: tuple[dict[str, Any], ...] = GRID) -> list[dict[str, Any]]:
    """Run the probe in a subprocess (a llama.cpp abort must not end the test run) and parse its JSON lines."""
    done = subprocess.run([sys.executable, "-m", "tests.oracle.probe", str(path)], input=json.dumps(list(grid)),
                          capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and len(lines) == len(grid), done.stderr[-3000:]
    return lines


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ModelInfo, list[dict[str, Any]]]]:
    """Every tiny model written, read by our header reader, and measured by llama.cpp over the grid."""
    _require_llama_cpp()
    folder = tmp_path_factory.mktemp("oracle")
    out = {}
    for m in MODELS:
        path = write_tiny(folder / f"{m.arch}.gguf", m)
        out[m.arch] = (model_info(read_header(path)), measure(path))
    return out


def _mib(n: int) -> str:
    return f"{n / MIB:.2f}"


def _params(entry: dict[str, Any]) -> ServerParams:
    return ServerParams(entry["n_ctx"], entry["n_seq"], entry["type"], entry["flash"])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.arch)
def test_kv_caches_equal_llama_cpp(measured: dict[str, tuple[ModelInfo, list[dict[str, Any]]]], model: Tiny) -> None:
    info, results = measured[model.arch]
    for r in results:
        assert r["ok"], (r["entry"], r.get("log"))
        alloc = allocation(info, _params(r["entry"]))
        ours = [(p.cells, len(p.layers), p.streams, _mib(p.k_bytes), _mib(p.v_bytes), _mib(p.total))
                for p in alloc.kv_parts]
        theirs = [(k["cells"], k["layers"], k["streams"], k["k_mib"], k["v_mib"], k["mib"]) for k in r["kv_caches"]]
        # llama.cpp logs the non-SWA cache before the SWA one, as kv_parts lists them
        assert ours == theirs, r["entry"]
        kv_buffers = [b["mib"] for b in r["buffers"] if b["kind"] == "KV"]
        assert kv_buffers == [_mib(p.total) for p in alloc.kv_parts], r["entry"]
        rs_buffers = [b["mib"] for b in r["buffers"] if b["kind"] == "RS"]  # recurrent state (mamba2, hybrids)
        assert rs_buffers == ([_mib(alloc.recurrent)] if alloc.recurrent else []), r["entry"]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.arch)
def test_output_buffer_equals_llama_cpp(measured: dict[str, tuple[ModelInfo, list[dict[str, Any]]]],
                                        model: Tiny) -> None:
    info, results = measured[model.arch]
    for r in results:
        (output,) = [b["mib"] for b in r["buffers"] if b["kind"] == "output"]
        assert output == _mib(allocation(info, _params(r["entry"])).output), r["entry"]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.arch)
def test_compute_buffer_within_the_measured_tolerance(measured: dict[str, tuple[ModelInfo, list[dict[str, Any]]]],
                                                      model: Tiny) -> None:
    info, results = measured[model.arch]
    for r in results:
        (theirs,) = [float(b["mib"]) * MIB for b in r["buffers"] if b["kind"] == "compute"]
        ours = allocation(info, _params(r["entry"])).compute
        assert abs(ours - theirs) / theirs <= COMPUTE_TOLERANCE, (r["entry"], ours / MIB, theirs / MIB)


def test_the_revision_is_recorded() -> None:
    _require_llama_cpp()
    assert LLAMA_CPP_REVISION.startswith("b11312")
