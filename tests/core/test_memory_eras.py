"""Releases the estimator must match as Ollama logged them, the context's precedence, and placement over GPUs.

gpt-oss on v0.11.x: ollama/ollama issue #11711 (v0.11.2, gpt-oss:20b, RTX 4060 Ti, OLLAMA_KV_CACHE_TYPE=q4_0 with
flash attention requested) logged
  msg=offload … memory.required.kv="300.0 MiB" … memory.graph.full="2.0 GiB" memory.graph.partial="4.0 GiB"
  msg="flash attention enabled but not supported by model"
  msg="quantized kv cache requested but flash attention disabled" type=q4_0
and issue #11982 (v0.11.5, gpt-oss:120b, KvSize 75000, FlashAttention:true) logged
  memory.required.kv="2.7 GiB" … memory.graph.full="13.7 GiB" memory.graph.partial="13.7 GiB".
The rules (fs/ggml/ggml.go at v0.11.0–v0.11.10): SupportsFlashAttention excludes gptoss in v0.11.2–v0.11.4
(8253ad4d2); GraphSize's gptoss case is full = 4·heads/kv_min·kvTotal/6 with partial = 2·full (v0.11.0–v0.11.2) or
= full (v0.11.3–v0.11.4), and from v0.11.5 partial = 2·heads/kv_min·kvTotal/6 only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.cli.memory import human
from ollama_sync.core.memory.estimate import Device, Era, estimate
from ollama_sync.core.memory.fit import Gpu, HostMemory, Verdict, fit
from ollama_sync.core.memory.model_info import ModelInfo, model_info
from ollama_sync.core.memory.rules import Requested, effective
from ollama_sync.core.version import v
from ollama_sync.system.gguf_header import read_header
from tests.gguf_models import LLAMA3_8B, Arch, Q, write_gguf

GIB = 1024**3
MIB = 1024**2
GPTOSS_20B = Arch("gptoss", 24, 2880, 64, 8, 131072, 2880, 201088, key_length=64, value_length=64,
                  sliding_window=128)
GPTOSS_120B = Arch("gptoss", 36, 2880, 64, 8, 131072, 2880, 201088, key_length=64, value_length=64,
                   sliding_window=128)


def _info(tmp_path: Path, arch: Arch) -> ModelInfo:
    path = tmp_path / f"{arch.arch}-{arch.blocks}.gguf"
    write_gguf(path, arch, vocab=1000, weight_type=Q.Q8_0 if arch.emb % 256 else Q.Q4_K)
    return model_info(read_header(path))


def test_gpt_oss_20b_on_0_11_2_as_issue_11711_logged_it(tmp_path: Path) -> None:
    info = _info(tmp_path, GPTOSS_20B)
    req = Requested(context_length=4096, kv_cache_type="q4_0", flash_attention=True)
    eff = effective(info, req, v("0.11.2"), 16 * GIB)
    assert eff.context == 8192  # gpt-oss's num_ctx raised to 8192 (before low-VRAM mode existed, v0.11.4)
    assert not eff.flash_attention and eff.kv_type == "f16" and eff.kv_type_ignored == "q4_0"
    est = estimate(info, eff, Era.LEGACY, Device.GPU, version=v("0.11.2"))
    assert human(est.kv) == "300.0 MiB"
    assert (human(est.graph), human(est.graph_partial)) == ("2.0 GiB", "4.0 GiB")


def test_gpt_oss_graph_partial_equals_full_in_0_11_3_and_0_11_4(tmp_path: Path) -> None:
    info = _info(tmp_path, GPTOSS_20B)
    eff = effective(info, Requested(context_length=8192), v("0.11.4"), 24 * GIB)
    est = estimate(info, eff, Era.LEGACY, Device.GPU, version=v("0.11.4"))
    assert human(est.graph) == human(est.graph_partial) == "2.0 GiB"


def test_gpt_oss_120b_on_0_11_5_as_issue_11982_logged_it(tmp_path: Path) -> None:
    info = _info(tmp_path, GPTOSS_120B)
    eff = effective(info, Requested(context_length=75000, flash_attention=True), v("0.11.5"), 80 * GIB)
    assert eff.flash_attention  # supported again from v0.11.5
    est = estimate(info, eff, Era.LEGACY, Device.GPU, version=v("0.11.5"))
    assert human(est.kv) == "2.7 GiB"
    assert human(est.graph) == human(est.graph_partial) == "13.7 GiB"


def test_low_vram_mode_keeps_gpt_oss_context_from_0_11_4(tmp_path: Path) -> None:
    info = _info(tmp_path, GPTOSS_20B)
    assert effective(info, Requested(context_length=4096), v("0.11.4"), 16 * GIB).context == 4096
    assert effective(info, Requested(context_length=4096), v("0.11.4"), 24 * GIB).context == 8192
    assert effective(info, Requested(context_length=4096), v("0.15.5"), 24 * GIB).context == 4096


@pytest.mark.parametrize(("request_ctx", "modelfile", "env", "context", "source"), [
    (16384, 4096, 8192, 16384, "request (--context)"),
    (None, 4096, 8192, 4096, "Modelfile num_ctx"),  # issue #10829: mistral-small3.1's num_ctx beats the env
    (None, None, 8192, 8192, "OLLAMA_CONTEXT_LENGTH"),
    (None, None, None, 4096, "default")])
def test_context_precedence_request_modelfile_env_default(tmp_path: Path, request_ctx: int | None,
                                                          modelfile: int | None, env: int | None, context: int,
                                                          source: str) -> None:
    info = _info(tmp_path, LLAMA3_8B)
    eff = effective(info, Requested(context_length=env, request_context=request_ctx), v("0.32.15"), 8 * GIB,
                    modelfile)
    assert (eff.context, eff.context_source) == (context, source)


def _gpus(*free_gib: float) -> HostMemory:
    gpus = tuple(Gpu(f"CUDA{i}", "GPU", int(f * GIB), int(f * GIB)) for i, f in enumerate(free_gib))
    budget = sum(g.free for g in gpus)
    return HostMemory(256 * GIB, 256 * GIB, Device.GPU, budget, "GPUs", "test", gpus=gpus)


def test_legacy_uses_one_gpu_when_it_holds_everything(tmp_path: Path) -> None:
    info = _info(tmp_path, LLAMA3_8B)
    est = estimate(info, effective(info, Requested(context_length=8192), v("0.12.10"), None), Era.LEGACY,
                   Device.GPU)
    placed = fit(est, _gpus(24, 24))
    assert placed.verdict is Verdict.GPU
    assert [d.layers for d in placed.devices] == [33]  # the scheduler's fewest GPUs: one


def test_legacy_splits_round_robin_over_two_gpus(tmp_path: Path) -> None:
    info = _info(tmp_path, LLAMA3_8B)
    eff = effective(info, Requested(context_length=32768, num_parallel=4), v("0.12.10"), None)
    est = estimate(info, eff, Era.LEGACY, Device.GPU)
    placed = fit(est, _gpus(12, 12))
    layers = [d.layers for d in placed.devices]
    assert sum(layers) == placed.gpu_layers and len(layers) == 2 and min(layers) > 0
    for d in placed.devices:  # every GPU holds its layers, minimum reserve, one-layer buffer and partial graph
        assert d.bytes <= d.budget and d.bytes >= 457 * MIB + est.layer_buffer + est.graph_partial
    assert placed.gpu_bytes == sum(d.bytes for d in placed.devices)


def test_llama_server_fit_fills_the_last_gpu_first_and_keeps_1_gib_free(tmp_path: Path) -> None:
    info = _info(tmp_path, LLAMA3_8B)
    eff = effective(info, Requested(context_length=8192, num_parallel=4, kv_cache_type="q8_0"), None, None)
    est = estimate(info, eff, Era.LLAMA_SERVER, Device.GPU)
    placed = fit(est, _gpus(4, 4))
    assert placed.verdict is Verdict.SPILL and 0 < placed.gpu_layers < 33
    assert placed.gpu_layers == sum(d.layers for d in placed.devices) and all(d.layers for d in placed.devices)
    unit = est.layer_weights[0] + est.kv_per_layer[0]
    for d in placed.devices:
        assert d.bytes <= d.budget - 1024 * MIB < d.bytes + unit  # as full as --fit's 1 GiB margin allows
    roomy = fit(est, _gpus(40))
    assert roomy.verdict is Verdict.GPU and roomy.devices[0].layers == 33
