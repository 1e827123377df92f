"""`ollama-sync memory` on installed hybrid models (granite4-like: mamba-2 + attention; LFM2-like: short
convolution + attention): the llama-server era counts a KV cache for the attention layers only and the recurrent
state for the others, in the table and under --json. The models are the oracle's tiny GGUFs (tests/oracle), which
llama.cpp b11312 loads; the expected figures are worked out by hand from its rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ollama_sync.cli import run
from ollama_sync.cli.memory import human
from tests.gguf_models import install
from tests.oracle.tiny_gguf import MODELS, write_tiny

CONTEXT, PARALLEL = 8192, 2


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """granitehybrid and lfm2 installed in Ollama's layout."""
    root = tmp_path_factory.mktemp("ollama")
    for m in MODELS:
        if m.arch in ("granitehybrid", "lfm2"):
            install(root / "models", m.arch, write_tiny(root / f"{m.arch}.gguf", m))
    return root / "models"


def _config(tmp_path: Path, models: Path) -> Path:
    path = tmp_path / "ollama.toml"
    path.write_text(f'[ollama]\nmodelsPath = "{models}"\nflashAttention = true\nkvCacheType = "f16"\n'
                    f'contextLength = {CONTEXT}\n[ollama.extraEnvironment]\nOLLAMA_NUM_PARALLEL = "{PARALLEL}"\n')
    return path


def _row(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path, name: str) -> dict[str, object]:
    rc = run(["--config", str(_config(tmp_path, models)), "--json", "memory", name, "--ollama-version", "0.32.15",
              "--gpu-memory", "8G", "--ram", "16G"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0, doc
    (row,) = doc["models"]
    assert isinstance(row, dict) and row["era"] == "llama-server"
    return row


def test_granitehybrid_kv_for_attention_layers_plus_mamba_state(tmp_path: Path, models: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    row = _row(capsys, tmp_path, models, "granitehybrid")
    server = row["server"]
    assert isinstance(server, dict)
    # 2 of 6 layers attend (head_count_kv [0, 0, 2, 0, 0, 2]): K and V of 2 heads × 64, f16, 8192 cells per stream
    kv_layer = 2 * 64 * 2 * CONTEXT * PARALLEL
    assert server["kv_caches"] == [{"name": "", "cells": CONTEXT, "layers": 2, "k": 2 * kv_layer, "v": 2 * kv_layer}]
    # 4 mamba-2 layers: conv (4 − 1) × (1024 + 2·64) and SSM 64 × 1024 f32 values per sequence
    state = 4 * ((4 - 1) * (1024 + 2 * 64) + 64 * 1024) * 4 * PARALLEL
    assert server["recurrent"] == state
    assert row["kv_cache"] == 4 * kv_layer + state


def test_lfm2_state_is_the_short_convolution_window(tmp_path: Path, models: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    server = _row(capsys, tmp_path, models, "lfm2")["server"]
    assert isinstance(server, dict)
    assert [c["layers"] for c in server["kv_caches"]] == [2]
    assert server["recurrent"] == 4 * (3 - 1) * 512 * 4 * PARALLEL  # (l_cache − 1) × n_embd f32, no SSM state


def test_the_table_names_the_attention_layers(tmp_path: Path, models: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["--config", str(_config(tmp_path, models)), "memory", "--ollama-version", "0.32.15",
              "--gpu-memory", "8G", "--ram", "16G"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = [line for line in out.splitlines() if line.startswith(("granitehybrid:latest", "lfm2:latest"))]
    assert len(lines) == 2 and all(line.endswith("fits on the GPU") for line in lines), out
    state = 4 * ((4 - 1) * (1024 + 2 * 64) + 64 * 1024) * 4 * PARALLEL
    assert (f"granitehybrid:latest: llama-server: KV {human(4 * 2 * 64 * 2 * CONTEXT * PARALLEL + state)} "
            f"({PARALLEL}×{CONTEXT} cells × 2 layers, recurrent state {human(state)})") in out
