"""Memory arithmetic against Ollama's formulas, recomputed here from first principles on real GGUF headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.core.memory.estimate import Device, Era, allocated_kv, era_for, estimate, legacy_kv, predicted_kv
from ollama_sync.core.memory.fit import HostMemory, Verdict, fit, loaded_together
from ollama_sync.core.memory.model_info import ModelInfo, model_info
from ollama_sync.core.memory.rules import Requested, effective, requested_from_env
from ollama_sync.core.version import v
from ollama_sync.system.gguf_header import read_header
from tests.gguf_models import GEMMA3_12B, LLAMA3_8B, QWEN25_7B, Arch, write_gguf

GIB = 1024**3
MIB = 1024**2
LEGACY = v("0.12.10")
BPE_LEGACY = {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5}  # Ollama's kvCacheBytesPerElement


@pytest.fixture(scope="module")
def infos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelInfo]:
    """ModelInfo read from real GGUF files written for each architecture."""
    folder = tmp_path_factory.mktemp("gguf")
    out = {}
    for arch in (LLAMA3_8B, GEMMA3_12B, QWEN25_7B):
        path = folder / f"{arch.arch}.gguf"
        write_gguf(path, arch, vocab=1000)
        out[arch.arch] = model_info(read_header(path))
    return out


@pytest.mark.parametrize("kv_type", ["f16", "q8_0", "q4_0"])
@pytest.mark.parametrize("flash", [True, False])
@pytest.mark.parametrize("parallel", [1, 4])
def test_legacy_kv_is_ollamas_formula_to_the_byte(infos: dict[str, ModelInfo], kv_type: str, flash: bool,
                                                   parallel: int) -> None:
    a = LLAMA3_8B
    req = Requested(context_length=8192, num_parallel=parallel, kv_cache_type=kv_type, flash_attention=flash)
    eff = effective(infos["llama"], req, LEGACY, None)
    used = kv_type if flash else "f16"  # a quantized cache needs flash attention
    per_layer = int(8192 * parallel * (a.head_dim + a.head_dim) * a.heads_kv * BPE_LEGACY[used])
    assert eff.kv_type == used
    assert legacy_kv(infos["llama"], eff) == (per_layer,) * 32
    est = estimate(infos["llama"], eff, Era.LEGACY, Device.GPU)
    assert est.kv == 32 * per_layer
    if kv_type == "f16" and parallel == 4:
        assert est.kv == 4 * GIB  # the well-known figure: llama-3 8B, 8k × 4, f16


@pytest.mark.parametrize("parallel", [1, 4])
def test_legacy_gemma3_sliding_window_layers(infos: dict[str, ModelInfo], parallel: int) -> None:
    g = GEMMA3_12B
    eff = effective(infos["gemma3"], Requested(context_length=32768, num_parallel=parallel, kv_cache_type="q8_0",
                                               flash_attention=True), LEGACY, None)
    k_plus_v = 256 + 256
    full = 32768 * parallel * k_plus_v * g.heads_kv * 1
    window = (parallel * 1024 + min(32768, 512)) * k_plus_v * g.heads_kv * 1
    expected = tuple(full if (i + 1) % 6 == 0 else window for i in range(48))
    assert legacy_kv(infos["gemma3"], eff) == expected


def test_gemma3_key_length_is_used_not_embedding_over_heads(infos: dict[str, ModelInfo]) -> None:
    info = infos["gemma3"]
    assert info.key_length == 256 and info.embedding_length // info.head_count_min == 240


@pytest.mark.parametrize("kv_type", ["f16", "q8_0", "q4_0"])
def test_ollama_engine_kv_is_the_padded_allocation(infos: dict[str, ModelInfo], kv_type: str) -> None:
    a = QWEN25_7B
    eff = effective(infos["qwen2"], Requested(context_length=3000, num_parallel=4, kv_cache_type=kv_type,
                                              flash_attention=True), v("0.20.0"), None)
    cells = -(-3000 * 4 // 256) * 256  # rounded up to the cache padding, 256
    block, size = {"f16": (1, 2), "q8_0": (32, 34), "q4_0": (32, 18)}[kv_type]
    per_layer = cells * (a.head_dim * 2) * a.heads_kv * size // block
    assert allocated_kv(infos["qwen2"], eff) == (per_layer,) * 28


def test_llama_server_preflight_is_file_size_plus_f16_kv(infos: dict[str, ModelInfo]) -> None:
    info = infos["llama"]
    eff = effective(info, Requested(context_length=8192, num_parallel=4, kv_cache_type="q8_0",
                                    flash_attention=True), None, None)
    est = estimate(info, eff, Era.LLAMA_SERVER, Device.METAL)
    assert predicted_kv(info, eff) == 2 * 32 * 8 * (4096 // 32) * (8192 * 4) * 2
    assert est.preflight == info.file_size + predicted_kv(info, eff)  # Ollama's figure, shown beside
    assert est.weights == info.tensor_bytes  # llama.cpp's model buffers: every tensor
    assert est.kv == est.kv_allocated == 32 * 8192 * 4 * 256 * 8 * 34 // 32  # llama.cpp's q8_0 at real block size
    assert est.total == est.weights + est.kv + est.graph + est.overhead


def test_legacy_llama_graph_and_overhead_on_metal(infos: dict[str, ModelInfo]) -> None:
    info = infos["llama"]
    eff = effective(info, Requested(context_length=8192, num_parallel=1), LEGACY, None)
    est = estimate(info, eff, Era.LEGACY, Device.METAL)
    batch, ctx, emb, heads, vocab = 512, 8192, 4096, 32, 1000
    full = max(4 * batch * (1 + 4 * emb + ctx * (1 + heads)), 4 * batch * (emb + vocab))
    assert est.graph == full
    assert est.overhead == 512 * MIB + info.layer_bytes[0] + est.kv_per_layer[0]
    assert est.weights == sum(info.layer_bytes) + info.output_bytes


def test_context_is_clamped_to_the_models_limit(infos: dict[str, ModelInfo]) -> None:
    eff = effective(infos["qwen2"], Requested(context_length=65536), None, None)
    assert (eff.context, eff.clamped_from) == (32768, 65536)


@pytest.mark.parametrize(("version", "arch", "era"), [
    (None, "llama", Era.LLAMA_SERVER), ("0.30.0", "llama", Era.LLAMA_SERVER), ("0.24.0", "llama", Era.OLLAMA_ENGINE),
    ("0.12.11", "llama", Era.OLLAMA_ENGINE), ("0.12.10", "llama", Era.LEGACY), ("0.12.10", "gemma3", Era.OLLAMA_ENGINE),
    ("0.11.10", "gemma3", Era.LEGACY), ("0.5.7", "qwen2", Era.LEGACY)])
def test_era_by_release_and_architecture(version: str | None, arch: str, era: Era) -> None:
    assert era_for(None if version is None else v(version), arch) is era


def test_quantized_kv_needs_explicit_flash_attention_for_llama_engine_models_0_13_4_to_0_24(
        infos: dict[str, ModelInfo]) -> None:
    unset = effective(infos["llama"], Requested(kv_cache_type="q8_0"), v("0.15.0"), None)
    explicit = effective(infos["llama"], Requested(kv_cache_type="q8_0", flash_attention=True), v("0.15.0"), None)
    gemma = effective(infos["gemma3"], Requested(kv_cache_type="q4_0"), v("0.12.6"), None)  # FA on by default
    assert (unset.kv_type, unset.kv_type_ignored) == ("f16", "q8_0")
    assert explicit.kv_type == "q8_0"
    assert gemma.kv_type == "q4_0" and gemma.flash_attention


def test_default_context_by_release_and_vram_tier(infos: dict[str, ModelInfo]) -> None:
    info = infos["llama"]
    assert effective(info, Requested(), v("0.6.6"), None).context == 2048
    assert effective(info, Requested(), v("0.12.0"), None).context == 4096
    assert effective(info, Requested(), None, 24 * GIB).context == 32768
    assert effective(info, Requested(), None, 96 * GIB).context == 131072  # 256k tier, clamped to the model


def test_env_is_parsed_like_envconfig() -> None:
    req = requested_from_env({"OLLAMA_FLASH_ATTENTION": "yes", "OLLAMA_NUM_PARALLEL": "-1",
                              "OLLAMA_CONTEXT_LENGTH": "8192", "OLLAMA_KV_CACHE_TYPE": "Q8_0"})
    assert req == Requested(context_length=8192, num_parallel=None, kv_cache_type="q8_0", flash_attention=True)
    assert requested_from_env({"OLLAMA_FLASH_ATTENTION": "False"}).flash_attention is False


def _host(gpu: int | None, ram: int = 64 * GIB) -> HostMemory:
    return HostMemory(ram, ram, Device.METAL if gpu else Device.CPU, gpu, unified=gpu is not None)


def test_fit_verdicts(infos: dict[str, ModelInfo]) -> None:
    info = infos["llama"]
    eff = effective(info, Requested(context_length=32768, num_parallel=4), LEGACY, None)
    est = estimate(info, eff, Era.LEGACY, Device.METAL)
    assert fit(est, _host(est.total + 1)).verdict is Verdict.GPU
    spill = fit(est, _host(est.total // 2))
    assert spill.verdict is Verdict.SPILL and 0 < spill.gpu_layers < 33 and spill.cpu_bytes > 0
    assert fit(est, _host(est.total // 2, ram=est.total // 2)).verdict is Verdict.NO
    assert fit(est, _host(None, ram=est.total)).verdict is Verdict.CPU


def test_max_loaded_models_counts_the_largest_together() -> None:
    assert loaded_together([5 * GIB, 1 * GIB, 3 * GIB], 2, _host(10 * GIB)) == (2, 8 * GIB, True)
    assert loaded_together([5 * GIB, 4 * GIB, 3 * GIB], None, _host(10 * GIB)) == (3, 12 * GIB, False)


def test_recurrent_layers_count_state_not_context(tmp_path: Path) -> None:
    arch = Arch("mamba2", 4, 256, 8, 8, 4096, 512, 100, extra={"mamba2.ssm.conv_kernel": 4,
                "mamba2.ssm.inner_size": 512, "mamba2.ssm.state_size": 128, "mamba2.ssm.group_count": 1})
    path = tmp_path / "m.gguf"
    write_gguf(path, arch)
    info = model_info(read_header(path))
    info = ModelInfo(**{**info.__dict__, "head_count_kv": (0, 8, 0, 8)})
    eff = effective(info, Requested(context_length=1024), LEGACY, None)
    state = ((4 - 1) * (512 + 2 * 1 * 128) + 128 * 512) * 4
    attn = 1024 * (32 + 32) * 8 * 2
    assert legacy_kv(info, eff) == (state, attn, state, attn)
