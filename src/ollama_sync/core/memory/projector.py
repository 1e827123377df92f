"""A vision model's projector (mmproj blob): what it is, and what llama-server allocates for it.

Ollama ≥ v0.30.0 passes a vision model's projector blob to llama-server as `--mmproj`; llama-server opens an mtmd
context, whose clip.cpp loads the projector's weights (on the GPU when one is used) and, at start-up, reserves a
compute buffer for the image encoder's graph at its warm-up image size (it logs `clip … compute buffer size`).
Read from llama.cpp b11312 `tools/mtmd/clip.cpp` (`clip_model_loader::load_hparams`, `load_tensors`, `warmup`):

* hyper-parameters: `clip.projector_type` (else `clip.vision.projector_type`), `clip.vision.image_size`,
  `patch_size`, `embedding_length`, `feed_forward_length`, `block_count`, `attention.head_count`,
  `attention.head_count_kv` (default: head_count), `attention.head_dim` (default: width / heads),
  `projector.scale_factor`, `feature_layer`;
* warm-up image: `image_size` for the fixed-size projectors (gemma3, idefics3, llava "mlp", llama4, minicpm-v);
  dynamic-resolution projectors warm up at a token count instead (`set_warmup_n_tokens`: pixtral/mistral3 16×16
  merged patches, so 16 × patch × spatial_merge_size pixels a side; qwen2/2.5/3-vl 46×46 merged patches);
* flash attention: llama-server passes its `--flash-attn` setting to mtmd (`mparams.flash_attn_type`); clip.cpp
  builds the graph with it (auto: tries it, falls back when the backend lacks it);
* the buffer: core/memory/clip_graph.py describes the graph, core/memory/ggml_alloc.py sizes it as ggml does.

A projector type without a graph here counts its weights only, with a note saying so, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from math import isqrt

from ollama_sync.core.memory.clip_graph import (
    VitShape,
    compute_bytes,
    llama4,
    llava_mlp,
    minicpmv,
    pixtral,
    qwen2vl,
    qwen3vl,
    siglip_gemma3,
    siglip_idefics3,
)
from ollama_sync.core.memory.model_info import GgufHeader, MetaValue

F32, F16, BF16 = 0, 1, 30  # ggml type ids
QWEN = ("qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger")
COUNTED = ("gemma3", "idefics3", "mlp", "pixtral", "llama4", "resampler", *QWEN)  # compute estimated for these
# hparams.set_warmup_n_tokens(n*n): the warm-up image's side in merged patches
WARMUP_TOKENS_SIDE = {"pixtral": 16, "qwen2vl_merger": 46, "qwen2.5vl_merger": 46, "qwen3vl_merger": 46}
_DEEPSTACK = re.compile(r"v\.deepstack\.(\d+)\.fc1\.weight")


@dataclass(frozen=True)
class ProjectorInfo:
    """What the memory arithmetic needs about a projector blob."""

    projector_type: str
    weights: int  # every tensor's bytes (Ollama's mmprojMemoryRequirement)
    image_size: int = 0
    patch_size: int = 0
    n_embd: int = 0
    n_ff: int = 0
    n_layer: int = 0
    n_head: int = 0
    n_head_kv: int = 0
    head_dim: int = 0
    scale_factor: int = 0  # clip.vision.projector.scale_factor (0: absent)
    merge_size: int = 0  # clip.vision.spatial_merge_size (0: absent)
    img_break: bool = False  # v.token_embd.img_break (pixtral)
    window_every: int = 0  # clip.vision.n_wa_pattern (qwen2.5-vl's window attention)
    fused_qkv: bool = False  # v.blk.0.attn_qkv.weight (qwen3-vl)
    positions: int = 0  # rows of v.position_embd.weight (learned positions)
    position_type: int = F32  # its ggml type
    deepstack: tuple[tuple[int, int], ...] = ()  # qwen3-vl: (layer, fc1 width) of each v.deepstack.N merger
    minicpmv_version: int = 0  # clip.minicpmv_version
    query_num: int = 0  # clip.minicpmv_query_num (0: absent)
    feature_layers: tuple[int, ...] = ()
    class_embd: bool = False
    pre_ln: bool = False
    post_ln: bool = False
    gated_ffn: bool = False
    patch_type: int = F16
    tensors: tuple[tuple[str, tuple[int, ...], int], ...] = ()  # mm.*, resampler.*: (name, shape, ggml type)

    def mm(self, name: str) -> tuple[tuple[int, ...], int] | None:
        """(shape, ggml type) of a projector tensor (mm.0.weight, mm.input_projection.weight…), None if absent."""
        for tname, shape, ggml_type in self.tensors:
            if tname == name:
                return shape, ggml_type
        return None


@dataclass(frozen=True)
class ProjectorCompute:
    """The projector's compute buffer as llama-server reserves it at start-up (0 and a note when not estimated)."""

    bytes: int
    warmup_image: int = 0  # the warm-up image's side in pixels
    note: str = ""


def projector_info(header: GgufHeader) -> ProjectorInfo:
    """Read a projector blob's header: its type, the vision encoder's sizes, and the projector tensors' shapes."""
    meta = header.metadata
    names = {t.name for t in header.tensors}
    ptype = _text(meta, "clip.projector_type") or _text(meta, "clip.vision.projector_type")  # clip.cpp's order
    heads = _int(meta, "clip.vision.attention.head_count")
    width = _int(meta, "clip.vision.embedding_length")
    patch = next((t for t in header.tensors if t.name == "v.patch_embd.weight"), None)
    pos = next((t for t in header.tensors if t.name == "v.position_embd.weight"), None)
    return ProjectorInfo(
        projector_type=ptype, weights=sum(t.nbytes for t in header.tensors),
        image_size=_int(meta, "clip.vision.image_size"), patch_size=_int(meta, "clip.vision.patch_size"),
        n_embd=width, n_ff=_int(meta, "clip.vision.feed_forward_length"),
        n_layer=_int(meta, "clip.vision.block_count"), n_head=heads,
        n_head_kv=_int(meta, "clip.vision.attention.head_count_kv") or heads,
        head_dim=_int(meta, "clip.vision.attention.head_dim") or (width // heads if heads else 0),
        scale_factor=_int(meta, "clip.vision.projector.scale_factor"),
        merge_size=_int(meta, "clip.vision.spatial_merge_size"), img_break="v.token_embd.img_break" in names,
        window_every=_int(meta, "clip.vision.n_wa_pattern"), fused_qkv="v.blk.0.attn_qkv.weight" in names,
        minicpmv_version=_int(meta, "clip.minicpmv_version"), query_num=_int(meta, "clip.minicpmv_query_num"),
        positions=pos.shape[1] if pos is not None and len(pos.shape) > 1 else 0,
        position_type=pos.ggml_type if pos is not None else F32,
        deepstack=tuple(sorted((int(m[1]), t.shape[1]) for t in header.tensors
                               if (m := _DEEPSTACK.fullmatch(t.name)) is not None and len(t.shape) > 1)),
        feature_layers=_ints(meta.get("clip.vision.feature_layer")),
        class_embd="v.class_embd" in names, pre_ln="v.pre_ln.weight" in names, post_ln="v.post_ln.weight" in names,
        gated_ffn="v.blk.0.ffn_gate.weight" in names, patch_type=patch.ggml_type if patch is not None else F16,
        tensors=tuple((t.name, t.shape, t.ggml_type) for t in header.tensors
                      if t.name.startswith(("mm.", "resampler."))),
    )


def projector_compute(info: ProjectorInfo, flash_attention: bool) -> ProjectorCompute:
    """The compute buffer clip.cpp reserves for the warm-up image, or 0 with a note saying why it is not counted."""
    shape = vit_shape(info, flash_attention)
    if isinstance(shape, str):
        return ProjectorCompute(0, note=f"projector compute not estimated: {shape}")
    builder = {"gemma3": siglip_gemma3, "idefics3": siglip_idefics3, "mlp": llava_mlp, "pixtral": pixtral,
               "llama4": llama4, "resampler": minicpmv, "qwen2vl_merger": qwen2vl, "qwen2.5vl_merger": qwen2vl,
               "qwen3vl_merger": qwen3vl}[info.projector_type]
    return ProjectorCompute(compute_bytes(builder(shape)), shape.image)


def vit_shape(info: ProjectorInfo, flash_attention: bool) -> VitShape | str:
    """The warm-up graph's sizes for a counted projector type, or why there are none."""
    ptype = info.projector_type
    if ptype not in COUNTED:
        return f"projector type {ptype or '(none)'}"
    if min(info.image_size, info.patch_size, info.n_embd, info.n_layer, info.n_head) <= 0:
        return f"projector type {ptype} without the vision encoder's sizes"
    common = VitShape(info.image_size, info.patch_size, info.n_embd, info.n_ff, info.n_layer, info.n_head,
                      info.n_head_kv, info.head_dim, flash_attention, info.gated_ffn, info.class_embd, info.pre_ln,
                      info.post_ln, info.patch_type == BF16)
    match ptype:
        case "gemma3":
            proj = info.mm("mm.input_projection.weight")
            if proj is None:
                return "projector type gemma3 without mm.input_projection.weight"
            return _with(common, n_merge=info.scale_factor or 4, out=proj[0][0],
                         proj_weight_bytes=4 if proj[1] == F32 else 2)
        case "idefics3":
            fc = info.mm("mm.model.fc.weight")
            if fc is None or info.scale_factor < 2:
                return "projector type idefics3 without mm.model.fc.weight or its scale factor"
            return _with(common, n_merge=info.scale_factor, out=fc[0][1])
        case "pixtral":
            return _pixtral(info, common)
        case "qwen2vl_merger" | "qwen2.5vl_merger" | "qwen3vl_merger":
            return _qwen(info, common)
        case "llama4":
            return _llama4(info, common)
        case "resampler":
            return _minicpmv(info, common)
        case _:
            return _llava(info, common)


def _pixtral(info: ProjectorInfo, common: VitShape) -> VitShape | str:
    """pixtral / mistral3: warm-up at 16×16 merged patches, mm.1 → GELU → mm.2, mistral3's patch merger."""
    first, second = info.mm("mm.1.weight"), info.mm("mm.2.weight")
    if first is None or second is None:
        return "projector type pixtral without mm.1.weight and mm.2.weight"
    merge = info.merge_size or 1
    merger = info.mm("mm.patch_merger.weight") is not None
    return _with(common, image=WARMUP_TOKENS_SIDE["pixtral"] * info.patch_size * merge, n_merge=merge,
                 rms_norm=True, patch_merger=merger, img_break=info.img_break, hidden=first[0][1],
                 out=second[0][1])


def _qwen(info: ProjectorInfo, common: VitShape) -> VitShape | str:
    """qwen2-vl / qwen2.5-vl: warm-up at 46×46 merged patches; 2.5 has RMS norms and (n_wa_pattern) windows."""
    first, second = info.mm("mm.0.weight"), info.mm("mm.2.weight")
    if first is None or second is None:
        return f"projector type {info.projector_type} without mm.0.weight and mm.2.weight"
    qwen25 = info.projector_type == "qwen2.5vl_merger"
    shape = _with(common, image=WARMUP_TOKENS_SIDE[info.projector_type] * info.patch_size * (info.merge_size or 2),
                  rms_norm=qwen25, window_every=info.window_every, hidden=first[0][1], out=second[0][1])
    if info.projector_type != "qwen3vl_merger":
        return shape
    side = isqrt(info.positions)
    return replace(shape, fused_qkv=info.fused_qkv, pos_side=side, pos_dtype="f32" if info.position_type == F32
                   else "f16", deepstack=tuple(layer for layer, _ in info.deepstack),
                   deepstack_hidden=info.deepstack[0][1] if info.deepstack else 0)


def _minicpmv(info: ProjectorInfo, common: VitShape) -> VitShape | str:
    """minicpm-v: the fixed image size; the resampler's queries (64 for versions 3–6 and 100045, else 96)."""
    proj = info.mm("resampler.proj.weight")
    if proj is None or proj[0][0] % 128:
        return "projector type resampler without resampler.proj.weight in 128-wide heads"
    queries = info.query_num or (64 if info.minicpmv_version in (3, 4, 5, 6, 100045) else 96)
    return replace(common, queries=queries, out=proj[0][0], hidden=proj[0][1])


def _llama4(info: ProjectorInfo, common: VitShape) -> VitShape | str:
    """llama4: the fixed image size, pixel shuffle by the scale factor, mlp.1 → mlp.2 → the projection."""
    mlp1, mlp2, proj = info.mm("mm.model.mlp.1.weight"), info.mm("mm.model.mlp.2.weight"), info.mm("mm.model.fc.weight")
    if mlp1 is None or mlp2 is None or proj is None or info.scale_factor < 1:
        return "projector type llama4 without mm.model.mlp.1/2, mm.model.fc or its scale factor"
    return _with(common, n_merge=info.scale_factor, hidden=mlp1[0][1], hidden2=mlp2[0][1], out=proj[0][1])


def _llava(info: ProjectorInfo, common: VitShape) -> VitShape | str:
    """llava "mlp": the graph runs up to the second-to-last layer (or the deepest feature layer, whose inputs are
    stacked: granite vision), then mm.0 / mm.2."""
    first, second = info.mm("mm.0.weight"), info.mm("mm.2.weight")
    if first is None or info.mm("mm.3.weight") is not None:
        return "projector type mlp in a layout other than llava's (mm.0, mm.2)"
    layers = max(info.feature_layers) if info.feature_layers else info.n_layer - 1
    return replace(common, n_layer=layers, hidden=first[0][1], out=second[0][1] if second else first[0][1],
                   second_linear=second is not None, feature_layers=info.feature_layers)


def _with(shape: VitShape, **changes: int | bool) -> VitShape:
    return replace(shape, **changes)  # type: ignore[arg-type]  # the keys are VitShape fields


def _text(meta: Mapping[str, MetaValue], key: str) -> str:
    value = meta.get(key)
    return value if isinstance(value, str) else ""


def _int(meta: Mapping[str, MetaValue], key: str) -> int:
    value = meta.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _ints(value: MetaValue | None) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, tuple):
        return tuple(int(x) for x in value if isinstance(x, int))
    return ()

