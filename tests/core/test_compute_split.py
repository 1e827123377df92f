"""The compute buffer per device (core/memory/compute_split.py): the scheduler's rules, and `--fit` charging each
device its own buffer and system memory the CPU's (core/memory/fit.py). Real GGUF headers of llama 3 8B."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.core.memory.compute_split import (
    SCHED_MAX_COPIES,
    LayerSplit,
    compute_parts,
    compute_per_device,
    host_buffer_name,
    split_from_units,
)
from ollama_sync.core.memory.estimate import Device, Era, estimate
from ollama_sync.core.memory.fit import Gpu, HostMemory, Verdict, fit
from ollama_sync.core.memory.llama_cpp import ServerParams, compute_buffer
from ollama_sync.core.memory.model_info import ModelInfo, model_info
from ollama_sync.core.memory.rules import Requested, effective
from ollama_sync.system.gguf_header import read_header
from tests.gguf_models import GEMMA3_12B, LLAMA3_8B, write_gguf

GIB = 1024**3
MIB = 1024**2
P = ServerParams(8192, 1, "f16", True)


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> ModelInfo:
    path = tmp_path_factory.mktemp("split") / "llama3.gguf"
    write_gguf(path, LLAMA3_8B)
    return model_info(read_header(path))


def test_without_devices_the_cpu_holds_the_one_buffer(llama: ModelInfo) -> None:
    split = compute_per_device(compute_parts(llama, P), LayerSplit(()))
    assert split.devices == () and split.host == compute_buffer(llama, P) and split.copies == 1


def test_full_offload_on_one_gpu_leaves_the_inputs_in_system_memory(llama: ModelInfo) -> None:
    parts = compute_parts(llama, P)
    split = compute_per_device(parts, LayerSplit((32,), 0))
    assert split.devices == (parts.single,)  # the GPU computes everything, as the CPU alone would
    t = P.ubatch  # token ids, positions, the embeddings input and the token embedding's rows, the f16 mask,
    assert split.host == 4 * t + 4 * t + 2 * 4 * 4096 * t + 2 * 8192 * t + 8 * t * 2  # the cells' i64 indices
    old = compute_per_device(compute_parts(llama, P, embd_input=False, kv_indices=False), LayerSplit((32,), 0))
    assert split.host - old.host == 4 * 4096 * t + 8 * t * 2  # what builds before 2025/2026 did not have
    no_fa = compute_parts(llama, ServerParams(8192, 1, "f16", False))  # V transposed: an index per V element
    assert no_fa.inputs == 4 * t + 4 * t + 4 * 4096 * t + 4 * 8192 * t + 8 * t * (1 + 8 * 128)
    assert split.host < parts.single // 10


def test_pipeline_parallelism_only_with_every_layer_on_several_devices(llama: ModelInfo) -> None:
    parts = compute_parts(llama, P)
    two = compute_per_device(parts, LayerSplit((16, 16), 1))
    assert two.copies == SCHED_MAX_COPIES and two.host == SCHED_MAX_COPIES * parts.inputs + parts.hidden
    assert all(d > parts.masks + parts.layer for d in two.devices)  # the persistent copies come on top
    assert compute_per_device(parts, LayerSplit((15, 16), 1)).copies == 1  # a layer left on the CPU
    assert compute_per_device(parts, LayerSplit((16, 16), -1)).copies == 1  # the output layer on the CPU
    assert compute_per_device(parts, LayerSplit((32,), 0)).copies == 1  # one device


def test_op_offload_brings_the_cpu_layers_and_their_weights_to_the_first_gpu(llama: ModelInfo) -> None:
    parts = compute_parts(llama, ServerParams(32768, 1, "f16", False))  # the KQ scores outweigh the logits
    cuda = compute_per_device(parts, LayerSplit((20,), 0))
    assert cuda.devices[0] == parts.masks + parts.layer + llama.largest_layer_tensor
    assert cuda.host == parts.inputs + parts.hidden  # the CPU only prepares the inputs
    no_output = compute_per_device(parts, LayerSplit((20,), -1))
    assert no_output.devices[0] == max(parts.masks + parts.layer + parts.largest_weight,
                                       parts.output + parts.output_weight)
    rpc = compute_per_device(parts, LayerSplit((20,), 0, op_offload=False))
    assert rpc.devices[0] < cuda.devices[0] and rpc.host >= parts.masks + parts.layer  # the CPU computes its layers
    few = compute_parts(llama, ServerParams(8192, 1, "f16", True, 16, 16))  # batches below 32 rows stay on the CPU
    small = compute_per_device(few, LayerSplit((20,), 0))
    assert small.host == max(few.inputs + few.hidden, few.masks + few.layer)
    assert small.devices[0] < few.masks + few.layer + few.largest_weight  # no weight is copied


def test_a_device_with_only_sliding_window_layers_needs_their_smaller_scores(tmp_path: Path) -> None:
    path = tmp_path / "gemma3.gguf"
    write_gguf(path, GEMMA3_12B)
    info = model_info(read_header(path))
    p = ServerParams(32768, 1, "f16", False)
    parts = compute_parts(info, p)
    split = compute_per_device(parts, LayerSplit((5, 43), 1, op_offload=False))  # device 0: layers 0-4, all SWA
    persistent = 3 * parts.masks_swa + 4 * parts.hidden  # pipeline parallelism: 4 copies of what it receives
    assert split.devices[0] == parts.masks_swa + parts.layer_swa + persistent
    assert parts.masks_swa + parts.layer_swa < (parts.masks + parts.layer) // 5
    assert split.devices[1] >= parts.masks + parts.layer


def test_fit_units_become_a_split_with_the_output_on_the_last_device_used() -> None:
    assert split_from_units((5, 10), 32) == LayerSplit((5, 9), 1)
    assert split_from_units((7, 0), 32) == LayerSplit((6, 0), 0)
    assert split_from_units((0, 0), 32) == LayerSplit((0, 0), -1)
    assert host_buffer_name(("CUDA0", "CUDA1")) == "CUDA_Host" and host_buffer_name(("MTL0",)) == "CPU"


def _gpus(*free_gib: float) -> HostMemory:
    gpus = tuple(Gpu(f"CUDA{i}", "GPU", int(f * GIB), int(f * GIB)) for i, f in enumerate(free_gib))
    return HostMemory(64 * GIB, 64 * GIB, Device.GPU, sum(g.free for g in gpus), "GPUs", "test", gpus=gpus)


def test_fit_charges_each_device_its_own_buffer_and_system_memory_the_hosts(llama: ModelInfo) -> None:
    eff = effective(llama, Requested(context_length=16384), None, None)
    est = estimate(llama, eff, Era.LLAMA_SERVER, Device.GPU)
    assert est.compute_parts is not None
    roomy = fit(est, _gpus(24))
    assert roomy.verdict is Verdict.GPU and roomy.host_name == "CUDA_Host"
    (gpu,) = roomy.devices
    full = compute_per_device(est.compute_parts, LayerSplit((32,), 0))
    assert (gpu.compute, roomy.host_compute) == (full.devices[0], full.host)
    assert roomy.cpu_bytes == est.total - est.graph - (gpu.bytes - gpu.compute) + full.host
    two = fit(est, _gpus(3.5, 4))  # split over two GPUs and the CPU: the first GPU takes the CPU layers' batches
    assert two.verdict is Verdict.SPILL and all(d.layers for d in two.devices)
    cpu_layers = 33 - two.gpu_layers
    assert cpu_layers > 0
    parts = est.compute_parts
    assert two.devices[0].compute == parts.masks + parts.layer + llama.largest_layer_tensor
    assert two.devices[1].compute == max(parts.masks + parts.layer, parts.output + 2 * parts.hidden)
    for d in two.devices:  # each within its budget less --fit's 1 GiB margin, its own buffer included
        assert d.bytes <= d.budget - 1024 * MIB
