"""A projector blob's facts and compute buffer (core/memory/projector.py) and the allocator it rests on
(core/memory/ggml_alloc.py). The byte figures against a real clip.cpp are in tests/oracle/test_projector_oracle.py;
here: the allocator's rules on graphs small enough to follow by hand, the header reading, the warm-up sizes,
unknown projector types, and that the figure reaches the estimate's total and the GPU under --fit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ollama_sync.core.memory.clip_graph import VitShape, compute_bytes, siglip_gemma3
from ollama_sync.core.memory.estimate import Device, Era, estimate
from ollama_sync.core.memory.fit import HostMemory, fit
from ollama_sync.core.memory.ggml_alloc import Graph, reserve
from ollama_sync.core.memory.model_info import GgufHeader, MetaValue, TensorInfo, model_info
from ollama_sync.core.memory.projector import projector_compute, projector_info
from ollama_sync.core.memory.rules import Requested, effective
from ollama_sync.system.gguf_header import read_header
from tests.gguf_models import LLAMA3_8B, write_gguf

GIB = 1024**3


def test_an_in_place_op_takes_over_its_parent_and_freed_memory_is_reused() -> None:
    g = Graph()
    raw = g.input((8,))  # 32 bytes at 0, allocated before every node
    a = g.op((16,), raw)  # 64 bytes at 32; raw is freed once a ran
    b = g.same(a, None)  # in place: a's memory, nothing new
    c = g.op((16,), b)  # 64 bytes: the 32 freed bytes are too small, so at 96
    d = g.op((4,), c)  # 16 bytes: best fit in the freed block at 0
    g.expand(d)
    assert reserve(g) == 160


def test_a_second_consumer_keeps_a_tensor_alive_and_stops_the_in_place_reuse() -> None:
    g = Graph()
    x = g.op((16,))  # 64 bytes
    y = g.same(x, None)  # x has a second consumer (z) still to run: y gets its own 64 bytes
    z = g.op((16,), x, y)  # 64 more while x and y are alive
    g.expand(z)
    assert reserve(g) == 192


def _gemma3_header(ptype: str = "gemma3", **meta: MetaValue) -> GgufHeader:
    metadata: dict[str, MetaValue] = {
        "general.architecture": "clip", "clip.projector_type": ptype, "clip.vision.image_size": 896,
        "clip.vision.patch_size": 14, "clip.vision.embedding_length": 1152, "clip.vision.feed_forward_length": 4304,
        "clip.vision.block_count": 27, "clip.vision.attention.head_count": 16, **meta}
    tensors = (TensorInfo("v.patch_embd.weight", 1, (14, 14, 3, 1152), 14 * 14 * 3 * 1152 * 2),
               TensorInfo("v.post_ln.weight", 0, (1152,), 1152 * 4),
               TensorInfo("mm.input_projection.weight", 1, (2560, 1152), 2560 * 1152 * 2))
    return GgufHeader(3, metadata, tensors, 10_000_000)


def test_the_header_gives_the_encoder_and_the_projector_tensors() -> None:
    info = projector_info(_gemma3_header())
    assert (info.projector_type, info.image_size, info.patch_size, info.n_embd, info.n_ff, info.n_layer) == \
        ("gemma3", 896, 14, 1152, 4304, 27)
    assert (info.n_head, info.n_head_kv, info.head_dim, info.post_ln, info.pre_ln) == (16, 16, 72, True, False)
    assert info.mm("mm.input_projection.weight") == ((2560, 1152), 1)
    assert info.weights == 14 * 14 * 3 * 1152 * 2 + 1152 * 4 + 2560 * 1152 * 2


def test_without_flash_attention_the_f32_scores_of_every_head_dominate() -> None:
    info = projector_info(_gemma3_header())
    on, off = projector_compute(info, True), projector_compute(info, False)
    patches = (896 // 14) ** 2
    assert on.warmup_image == off.warmup_image == 896  # gemma3 warms up at its fixed image size
    assert off.bytes >= patches * patches * 16 * 4 > 4 * on.bytes


def test_the_warmup_graph_grows_with_the_image() -> None:
    base = VitShape(224, 14, 128, 512, 2, 4, 4, 32, True, post_ln=True, n_merge=4, out=256)
    sizes = [compute_bytes(siglip_gemma3(replace(base, image=side))) for side in (224, 448, 896)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


@pytest.mark.parametrize(("ptype", "why"), [
    ("kimivl", "projector type kimivl"),
    ("", "projector type (none)"),
    ("cogvlm", "projector type cogvlm"),
])
def test_a_projector_type_without_a_graph_counts_its_weights_only(ptype: str, why: str) -> None:
    info = projector_info(_gemma3_header(ptype))
    result = projector_compute(info, True)
    assert (result.bytes, result.note) == (0, f"projector compute not estimated: {why}")
    assert info.weights > 0


def test_a_counted_type_missing_its_sizes_is_a_note_not_an_error() -> None:
    info = replace(projector_info(_gemma3_header()), image_size=0)
    assert projector_compute(info, True).note == \
        "projector compute not estimated: projector type gemma3 without the vision encoder's sizes"


def test_the_compute_buffer_is_in_the_total_and_on_the_gpu(tmp_path: Path) -> None:
    path = tmp_path / "llama.gguf"
    write_gguf(path, LLAMA3_8B, vocab=1000)
    model = model_info(read_header(path))
    eff = effective(model, Requested(context_length=8192), None, None)
    compute = projector_compute(projector_info(_gemma3_header()),
                                eff.flash_attention).bytes
    plain = estimate(model, eff, Era.LLAMA_SERVER, Device.GPU, projector=10 * 2**20)
    est = estimate(model, eff, Era.LLAMA_SERVER, Device.GPU, projector=10 * 2**20, projector_compute=compute)
    assert est.total == plain.total + compute
    host = HostMemory(64 * GIB, 64 * GIB, Device.GPU, 48 * GIB, "GPU")
    assert fit(est, host).gpu_bytes == fit(plain, host).gpu_bytes + compute
