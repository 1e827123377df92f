"""Hybrid models (attention layers beside recurrent ones) in the llama-server estimate: which layer holds what.

The rules are llama.cpp b11312's (src/models/<arch>.cpp load_arch_hparams, llama_model::create_memory,
llama_hparams::n_embd_r/n_embd_s); tests/oracle checks the same models against the real llama.cpp. Here the
headers are written with gguf-py (tests/oracle/tiny_gguf.py, the oracle's own models) and read back by our
reader, and the expected figures are worked out by hand from the rules.
"""

from __future__ import annotations

import dataclasses

import pytest

from ollama_sync.core.memory.llama_cpp import (
    ServerParams,
    allocation,
    attention_layers,
    kv_parts,
    recurrent_bytes,
    recurrent_layers,
    recurrent_state_widths,
)
from ollama_sync.core.memory.model_info import ModelInfo, model_info
from ollama_sync.system.gguf_header import read_header
from tests.oracle.tiny_gguf import MODELS, write_tiny


@pytest.fixture(scope="module")
def infos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelInfo]:
    """The oracle's tiny models of these architectures, written once and read back by our header reader."""
    folder = tmp_path_factory.mktemp("hybrid")
    return {m.arch: model_info(read_header(write_tiny(folder / f"{m.arch}.gguf", m))) for m in MODELS
            if m.arch in ("granitehybrid", "lfm2", "nemotron_h", "falcon-h1", "qwen35", "mamba2", "llama")}


def _letters(info: ModelInfo) -> str:
    """Each layer as R (recurrent only), A (attention only), B (both) or - (neither: an MLP-only layer)."""
    return "".join({(True, False): "R", (False, True): "A", (True, True): "B", (False, False): "-"}[pair]
                   for pair in zip(recurrent_layers(info), attention_layers(info), strict=True))


@pytest.mark.parametrize(("arch", "expected"), [
    ("granitehybrid", "RRARRA"),  # head_count_kv 0 = mamba-2
    ("lfm2", "RRARRA"),  # head_count_kv 0 = short convolution
    ("nemotron_h", "R-RAR-"),  # head_count_kv 0 and feed_forward_length 0 = mamba-2; ff > 0 = MLP only
    ("falcon-h1", "BBBB"),  # attention and mamba-2 in every layer
    ("qwen35", "RRRARRRA"),  # no full_attention_interval in the file: every 4th layer attends
    ("mamba2", "RRRR"),
    ("llama", "AAAA"),
])
def test_each_layer_holds_what_llama_cpp_gives_it(infos: dict[str, ModelInfo], arch: str, expected: str) -> None:
    assert _letters(infos[arch]) == expected


def test_the_per_layer_metadata_is_read(infos: dict[str, ModelInfo]) -> None:
    nemotron = infos["nemotron_h"]
    assert nemotron.head_count_kv == (0, 0, 0, 2, 0, 0)
    assert nemotron.feed_forward_per_layer == (0, 1024, 0, 0, 0, 1024)
    assert nemotron.feed_forward_length == 0  # Ollama's KV.Uint on an array: the legacy eras keep reading 0
    lfm2 = infos["lfm2"]
    assert lfm2.shortconv_l_cache == 3 and lfm2.head_count_kv == (0, 0, 2, 0, 0, 2)


def test_state_widths_follow_n_embd_r_and_n_embd_s(infos: dict[str, ModelInfo]) -> None:
    # mamba-2 (d_conv 4, d_inner 1024, d_state 64, 1 group): R = 3 × (1024 + 2·64), S = 64 × 1024
    assert recurrent_state_widths(infos["granitehybrid"]) == (3 * 1152, 64 * 1024)
    # lfm2 (l_cache 3, n_embd 512): R = 2 × 512, no S state
    assert recurrent_state_widths(infos["lfm2"]) == (2 * 512, 0)
    # qwen35's gated delta net (d_conv 4, 2 k heads and 8 v heads of 64): R = 3 × (2·2·64 + 8·64), S = 64 × 512
    assert recurrent_state_widths(infos["qwen35"]) == (3 * 768, 64 * 512)


def test_a_granitehybrid_keeps_kv_for_attention_layers_only_and_state_for_the_rest(infos: dict[str, ModelInfo]) -> None:
    info = infos["granitehybrid"]
    p = ServerParams(8192 * 2, 2, "f16", True)
    (part,) = kv_parts(info, p)
    row = 2 * 64 * 2  # two KV heads of 64, f16
    assert part.layers == (2, 5) and part.cells == 8192 and part.streams == 2
    assert part.k_bytes == part.v_bytes == 2 * row * 8192 * 2
    state = (3 * 1152 + 64 * 1024) * 4 * 2  # f32, one row per sequence
    assert recurrent_bytes(info, p) == (state, state, 0, state, state, 0)
    alloc = allocation(info, p)
    assert alloc.kv == part.total + 4 * state
    assert alloc.kv_per_layer == (state, state, part.total // 2, state, state, part.total // 2)


def test_recurrent_state_does_not_grow_with_the_context(infos: dict[str, ModelInfo]) -> None:
    info = infos["falcon-h1"]
    short, long = (allocation(info, ServerParams(n, 1, "f16", True)) for n in (1024, 65536))
    assert short.recurrent == long.recurrent > 0
    assert sum(p.total for p in long.kv_parts) == 64 * sum(p.total for p in short.kv_parts)


def _qwen3next(**changes: object) -> ModelInfo:
    """A qwen3next-shaped ModelInfo (8 layers); only the fields the layer rules read matter."""
    base = ModelInfo(architecture="qwen3next", block_count=8, embedding_length=2048, head_count=(16,) * 8,
                     head_count_kv=(2,) * 8, key_length=256, value_length=256, context_length=262144,
                     vocab_size=151936, sliding_window=0, is_embedding=False, ssm=(4, 4096, 128, 16),
                     feed_forward_length=5120, layer_bytes=(0,) * 8, output_bytes=0, vision_bytes=0, file_size=0)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]  # test-only field overrides


def test_qwen3next_attends_every_fourth_layer_unless_the_file_says_otherwise() -> None:
    assert _letters(_qwen3next()) == "RRRARRRA"  # full_attention_interval defaults to 4
    assert _letters(_qwen3next(full_attention_interval=2)) == "RARARARA"
    flags = (1, 0, 1, 1, 0, 1, 1, 1)
    assert _letters(_qwen3next(recurrent_layer_flags=flags)) == "RARRARRR"  # attention.recurrent_layers wins
    # the gated delta net's state: conv over q, k (16 groups × 128) and v (4096), and a 128 × 4096 state
    assert recurrent_state_widths(_qwen3next()) == (3 * (4096 + 2 * 16 * 128), 128 * 4096)


def test_rwkv_state_is_token_shifts_and_the_wkv_state() -> None:
    # an RWKV-7 shaped header (n_embd 2560, wkv.head_size 64, token_shift_count absent: llama.cpp's default 2)
    rwkv = _qwen3next(architecture="rwkv7", embedding_length=2560, ssm=(0, 0, 0, 0), wkv_head_size=64)
    assert recurrent_state_widths(rwkv) == (2 * 2560, 2560 * 64)
    assert _letters(rwkv) == "RRRRRRRR"
    p = ServerParams(4096, 2, "f16", True)
    assert kv_parts(rwkv, p) == ()
    assert sum(recurrent_bytes(rwkv, p)) == 8 * (2 * 2560 + 2560 * 64) * 4 * 2
