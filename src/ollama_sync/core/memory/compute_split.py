"""The compute buffer per device when llama-server splits a model between devices (GPUs and the CPU).

llama.cpp b11312 (the oracle's revision, core/memory/llama_cpp.py names it) reserves one compute buffer per backend
in use and logs each (`CUDA0 compute buffer size = …`, `CUDA_Host compute buffer size = …`). The rules, read from:

* `src/llama-context.cpp` (constructor, `sched_reserve`): the backends are the model's GPU devices in order, then
  the CPU, whose buffer is the first device's host (pinned) buffer type when it has one (CUDA_Host; RPC and Metal
  have none: "CPU"). The worst-case graph is one micro-batch of `n_ubatch` tokens; every backend's buffer is what
  ggml-alloc needed on it. Pipeline parallelism (several devices, every layer and the output layer on them, layer
  split, devices with async compute and events: CUDA, RPC) makes the scheduler keep 4 copies
  (`GGML_SCHED_MAX_COPIES`) of every graph input and every tensor that crosses devices, never freed.
* `ggml/src/ggml-backend.cpp` (`ggml_backend_sched_split_graph`, `..._backend_id_from_cur`): graph inputs go to
  the CPU (the last backend); an op goes to the backend holding its weight, except that with `op_offload` (on by
  default) a device whose `offload_op` accepts the batch takes ops whose weight is in system memory — CUDA and
  Vulkan for batches of at least 32 rows (`GGML_OP_OFFLOAD_MIN_BATCH`), never GET_ROWS; RPC never. Ops without
  weights follow their neighbours. A tensor used on another backend is copied into that backend's buffer
  (a split input), weights included: an offloaded CPU layer's weights are copied to the GPU one at a time.
* `src/llama-model.cpp` (`load_tensors`): the token embedding (dev_input) always stays in system memory; the first
  `n_layer + 1 − n_gpu_layers` layers run on the CPU, the rest go to the devices in order by the tensor split, the
  output layer (dev_output) with the last.
* `src/llama-graph.cpp`: the inputs — token ids, the embeddings input (both the token and the vector path are in
  the graph), positions, the KQ mask(s) (f16 with flash attention, f32 without; one more for sliding windows).
* `common/fit.cpp` measures every candidate placement with a no-alloc dry run and charges each device its model,
  context and compute memory; core/memory/llama_cpp.py `fit_layers` takes `device_compute` for that.

So for each backend (the "moments" of `compute_moments`: masks, one layer, the output):
* a GPU holding layers: masks + one layer (its copy of the hidden state and the masks); holding the output layer
  too: at least the output (logits); with pipeline parallelism plus the 4 persistent copies of the masks and of
  the hidden state it receives;
* the first GPU, when CPU layers exist and the device offloads large batches: their work too, plus a copy of the
  largest weight of a CPU layer; when the output layer stays on the CPU, the output weight's copy and the logits;
* the CPU: the inputs (and the token embedding's rows); when it computes layers itself (no op offload, or batches
  below 32) one layer more; when it computes the output, the logits.
Measured against a real llama.cpp split over RPC devices (tests/oracle/test_compute_split_oracle.py: every device
within 15 %, the CPU within 10 %) and against recorded CUDA logs (tests/core/test_compute_split_logs.py: the GPU
within 8.5 %, CUDA_Host within 0.1 %). The CPU's inputs and the first GPU's weight copies are read from the source;
the "hidden state arrives from another backend" allowance (2 × n_embd × n_ubatch f32 beside the logits) is measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ollama_sync.core.memory.llama_cpp import (
    DeviceCompute,
    ServerParams,
    attention_layers,
    compute_moments,
    swa_layers,
)
from ollama_sync.core.memory.model_info import ModelInfo

SCHED_MAX_COPIES: Final = 4  # ggml-backend.cpp GGML_SCHED_MAX_COPIES, with pipeline parallelism
OP_OFFLOAD_MIN_BATCH: Final = 32  # ggml-cuda / ggml-vulkan op_offload_min_batch_size default


@dataclass(frozen=True)
class ComputeParts:
    """A model's compute figures at given parameters, from which every placement's buffers follow."""

    masks: int  # the KQ mask(s), alive through every layer
    layer: int  # one layer's activations at their peak (without the masks)
    output: int  # the output layer: logits and its input
    inputs: int  # graph inputs on the CPU: token ids, embeddings input, positions, masks
    hidden: int  # the hidden state (f32 n_embd × n_ubatch): the token embedding's rows, every device's input
    largest_weight: int  # the largest tensor of a layer (copied to the GPU when a CPU layer's batch is offloaded)
    output_weight: int  # the output layer's weights (copied likewise when the output stays on the CPU)
    block_count: int
    ubatch: int
    swa: tuple[bool, ...] = ()  # per layer: sliding window (its smaller mask and KQ scores)
    masks_swa: int = 0
    layer_swa: int = 0  # one sliding-window layer's peak

    @property
    def single(self) -> int:
        """The buffer of one backend computing everything (CPU only): core/memory/llama_cpp.py compute_buffer."""
        return max(self.masks + self.layer, self.output)


@dataclass(frozen=True)
class LayerSplit:
    """Where llama.cpp placed the layers: repeating layers per GPU device (device order; the CPU holds the first
    ones, the rest), the device holding the output layer (-1: the CPU), and whether the devices take the CPU's
    large batches (op_offload: CUDA, ROCm, Vulkan; not RPC)."""

    device_layers: tuple[int, ...]
    output_device: int = -1
    op_offload: bool = True

    @property
    def output_offloaded(self) -> bool:
        """The output layer is on a device."""
        return 0 <= self.output_device < len(self.device_layers)


@dataclass(frozen=True)
class ComputeSplit:
    """The compute buffer of every backend: each GPU device (device order) and the CPU (host)."""

    devices: tuple[int, ...]
    host: int
    copies: int  # 4 with pipeline parallelism, else 1

    @property
    def total(self) -> int:
        """All compute buffers together."""
        return sum(self.devices) + self.host


def compute_parts(info: ModelInfo, p: ServerParams, *, embd_input: bool = True,
                  kv_indices: bool = True) -> ComputeParts:
    """The figures compute_per_device needs, from the model and the server's parameters.

    The CPU's inputs (llama-graph.cpp, llama-kv-cache.cpp at b11312): token ids and positions (i32 per token), the
    embeddings input (f32 n_embd per token; both input paths are in the graph since llama.cpp PR #18550, Jan 2026 —
    `embd_input=False` describes older builds), the KQ mask(s), and per KV cache the i64 indices of the cells the
    batch writes (`k_idxs`, `v_idxs`; without flash attention V is transposed and `v_idxs` has one per element of a
    V row; `kv_indices=False` describes builds before they existed, mid-2025).
    """
    m = compute_moments(info, p)
    t = p.ubatch
    hidden = 4 * info.embedding_length * t
    inputs = 4 * t + 4 * t + m.masks + (hidden if embd_input else 0)
    if kv_indices and any(attention_layers(info)):
        caches = 2 if any(swa_layers(info)) else 1
        v_width = 1 if p.flash_attention else info.value_length * info.head_count_kv_max
        inputs += caches * 8 * t * (1 + v_width)
    output_weight = info.output_bytes if not info.output_tied else info.token_embd_bytes
    return ComputeParts(m.masks, m.layer, m.output, inputs, hidden, info.largest_layer_tensor, output_weight,
                        info.block_count, t, swa_layers(info), m.masks_swa, max(m.layer - m.kq_swa_saving, m.ffn))


def _device_layer(parts: ComputeParts, first: int, count: int) -> tuple[int, int]:
    """(masks, one layer's peak) on a device holding layers first … first + count − 1: a device holding only
    sliding-window layers needs only their mask and their smaller KQ scores."""
    kinds = {parts.swa[i] if i < len(parts.swa) else False for i in range(first, first + count)}
    masks = (parts.masks - parts.masks_swa if False in kinds else 0) + (parts.masks_swa if True in kinds else 0)
    return masks, parts.layer if False in kinds else parts.layer_swa


def compute_per_device(parts: ComputeParts, split: LayerSplit) -> ComputeSplit:
    """Each backend's compute buffer for this placement (see the module docstring for the rules)."""
    n = len(split.device_layers)
    if n == 0:
        return ComputeSplit((), parts.single, 1)
    cpu_layers = max(parts.block_count - sum(split.device_layers), 0)
    # every layer and the output on the devices: llama_context enables pipeline parallelism with several devices
    copies = SCHED_MAX_COPIES if n > 1 and cpu_layers == 0 and split.output_offloaded else 1
    offload = split.op_offload and parts.ubatch >= OP_OFFLOAD_MIN_BATCH
    first_used = next((d for d in range(n) if split.device_layers[d] or d == split.output_device), n)
    devices = []
    start = cpu_layers  # the CPU holds the first layers, then each device its run
    for d in range(n):
        peak = masks = 0
        if split.device_layers[d]:
            masks, layer = _device_layer(parts, start, split.device_layers[d])
            peak = masks + layer
        start += split.device_layers[d]
        if d == 0 and offload and cpu_layers:  # the CPU layers' batches, one weight copied at a time
            masks, peak = parts.masks, parts.masks + parts.layer + parts.largest_weight
        if d == split.output_device:
            # the hidden state arrives from another backend: its copies stay beside the logits
            received = split.device_layers[d] > 0 and (d > first_used or cpu_layers > 0)
            peak = max(peak, parts.output + (2 * parts.hidden if received else 0))
        if d == 0 and offload and not split.output_offloaded:  # the CPU's output layer: weight copy + logits
            peak = max(peak, parts.output + parts.output_weight)
        if peak and copies > 1:  # the 4 persistent copies of its masks and of the hidden state it receives
            peak += (copies - 1) * masks + copies * parts.hidden
        devices.append(peak)
    host = copies * parts.inputs + parts.hidden
    if cpu_layers and not offload:
        host = max(host, parts.masks + parts.layer)
    if not split.output_offloaded and not offload:
        host = max(host, parts.output)
    return ComputeSplit(tuple(devices), host, copies)


def split_from_units(units: tuple[int, ...], block_count: int, *, op_offload: bool = True) -> LayerSplit:
    """A `--fit` placement (units per device, the output layer the first unit on the last device used) as a split."""
    holders = [d for d, u in enumerate(units) if u]
    output = holders[-1] if holders else -1
    layers = tuple(min(u - 1 if d == output else u, block_count) for d, u in enumerate(units))
    return LayerSplit(layers, output, op_offload)


def device_compute(parts: ComputeParts, *, op_offload: bool = True) -> DeviceCompute:
    """fit_layers' per-device compute: the buffers of every GPU device for a placement in units."""
    def per_device(units: tuple[int, ...]) -> tuple[int, ...]:
        return compute_per_device(parts, split_from_units(units, parts.block_count, op_offload=op_offload)).devices
    return per_device


def host_compute(parts: ComputeParts, units: tuple[int, ...], *, op_offload: bool = True) -> int:
    """The CPU's compute buffer for a placement in units."""
    return compute_per_device(parts, split_from_units(units, parts.block_count, op_offload=op_offload)).host


def host_buffer_name(device_names: tuple[str, ...]) -> str:
    """How llama.cpp names the CPU's compute buffer: the first device's host buffer type, else CPU."""
    first = device_names[0] if device_names else ""
    for prefix in ("CUDA", "ROCm", "Vulkan"):
        if first.startswith(prefix):
            return f"{prefix}_Host"
    return "CPU"
