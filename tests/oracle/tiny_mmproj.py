"""Tiny random-weight projector (mmproj) GGUF files that llama.cpp's clip.cpp loads, written with gguf-py.

Each projector type gets the metadata `clip_model_loader::load_hparams` requires and the tensors `load_tensors` asks for
(llama.cpp b11312 `tools/mtmd/clip.cpp`, names from `clip-impl.h`): the patch embedding, the encoder's layers and the
projector's own tensors — gemma3 (`mm.input_projection`, `mm.soft_emb_norm`), idefics3 (`mm.model.fc`), llava "mlp"
(`mm.0`, `mm.2`, with a class token and a pre-norm), pixtral (RMS norms, a gated SiLU FFN without biases or learned
positions, `mm.1`, `mm.2`, the [IMG_BREAK] embedding; with `merge` > 1 mistral3's patch merger), qwen2-vl / qwen2.5-vl
(two patch kernels, the 2×2 merger; 2.5 with window attention), qwen3-vl (fused QKV, learned positions resized to the
image, deepstack mergers) llama4 (a linear patch embedding, pixel shuffle, a three-layer projector) and minicpm-v's
resampler (learned queries, one cross-attention). A matching text model (tests/oracle/tiny_gguf.py, its width the
projector's output) is written beside it, since mtmd checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from tests.oracle.tiny_gguf import Tiny, write_tiny

F16 = np.float16
F32 = np.float32


@dataclass(frozen=True)
class TinyProjector:
    """One tiny projector: type, warm-up image, encoder sizes and the text model's width."""

    ptype: str
    image: int = 224
    patch: int = 14
    emb: int = 128
    ff: int = 512
    blocks: int = 2
    heads: int = 4
    out: int = 256  # the text model's embedding width
    hidden: int = 256  # llava mlp: mm.0's width
    scale: int = 0  # clip.vision.projector.scale_factor (0: not written)
    merge: int = 0  # pixtral: clip.vision.spatial_merge_size (> 1: mistral3's patch merger)
    window: int = 0  # qwen2.5-vl: clip.vision.n_wa_pattern (every n-th layer attends fully)
    deepstack: tuple[int, ...] = ()  # qwen3-vl: layers with a deepstack merger
    pos_side: int = 16  # qwen3-vl: the learned position grid's side (resized to the warm-up image)
    features: tuple[int, ...] = ()  # llava (granite vision): clip.vision.feature_layer
    queries: int = 0  # minicpm-v: clip.minicpmv_query_num (0: not written, the version's default)

    @property
    def name(self) -> str:
        """A label for test ids and the bench table."""
        merge = f"-m{self.merge or self.scale}" if self.merge or self.scale else ""
        window = f"-wa{self.window}" if self.window else f"-ds{len(self.deepstack)}" if self.deepstack else ""
        window += f"-f{'.'.join(map(str, self.features))}" if self.features else ""
        if self.ptype == "qwen3vl_merger":
            window += f"-pos{self.pos_side}"
        fixed = ("gemma3", "idefics3", "mlp", "llama4", "resampler")
        size = f"-{self.image}px" if self.ptype in fixed else ""  # the others warm up at a token count
        return f"{self.ptype}{size}-p{self.patch}-w{self.emb}-h{self.heads}-l{self.blocks}{merge}{window}"

    @property
    def text_width(self) -> int:
        """The text model's embedding width mtmd requires: qwen3-vl appends each deepstack merger's output."""
        return self.out * (1 + len(self.deepstack))

    @property
    def positions(self) -> int:
        """Learned position embeddings: one per patch (+ the class token for llava)."""
        return (self.image // self.patch) ** 2 + (self.ptype in ("mlp", "llama4"))


def write_projector(path: Path, p: TinyProjector, seed: int = 0) -> Path:
    """Write the projector as a complete GGUF file (header and random tensor data)."""
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "clip")
    w.add_string("clip.projector_type", p.ptype)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.use_silu" if p.ptype in ("pixtral", "qwen2.5vl_merger") else "clip.use_gelu", True)
    for key, value in (("image_size", p.image), ("patch_size", p.patch), ("embedding_length", p.emb),
                       ("feed_forward_length", p.ff), ("block_count", p.blocks), ("attention.head_count", p.heads),
                       ("projection_dim", p.out)):
        w.add_uint32(f"clip.vision.{key}", value)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    w.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
    w.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
    if p.scale:
        w.add_uint32("clip.vision.projector.scale_factor", p.scale)
    if p.merge:
        w.add_uint32("clip.vision.spatial_merge_size", p.merge)
    if p.window:
        w.add_uint32("clip.vision.n_wa_pattern", p.window)
    if p.features:
        w.add_array("clip.vision.feature_layer", list(p.features))
    if p.ptype == "resampler":
        w.add_int32("clip.minicpmv_version", 2)
        if p.queries:
            w.add_uint32("clip.minicpmv_query_num", p.queries)

    def tensor(name: str, *shape: int, dtype: type[np.floating[Any]] = F16) -> None:
        # gguf-py takes numpy order (slowest dimension first); llama.cpp's shapes are fastest first
        w.add_tensor(name, (rng.standard_normal(tuple(reversed(shape))) * 0.02).astype(dtype))

    if p.ptype == "llama4":  # a linear layer over the flattened patch
        tensor("v.patch_embd.weight", p.patch * p.patch * 3, p.emb)
    else:
        tensor("v.patch_embd.weight", p.patch, p.patch, 3, p.emb)
    if p.ptype == "pixtral":
        _pixtral(tensor, p)
    elif p.ptype == "qwen3vl_merger":
        _qwen3(tensor, p)
    elif p.ptype.startswith("qwen"):
        _qwen(tensor, p)
    elif p.ptype == "llama4":
        _llama4(tensor, p)
    else:
        _vit(tensor, p)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _vit(tensor: Any, p: TinyProjector) -> None:
    """The CLIP/SigLIP encoders: learned positions, layer norms with biases, biased attention and FFN."""
    tensor("v.position_embd.weight", p.emb, p.positions, dtype=F32)
    if p.ptype == "mlp":
        tensor("v.class_embd", p.emb, dtype=F32)
        _norm(tensor, "v.pre_ln", p.emb)
    else:
        tensor("v.patch_embd.bias", p.emb, dtype=F32)
        _norm(tensor, "v.post_ln", p.emb)
    for i in range(p.blocks):
        _layer(tensor, f"v.blk.{i}.", p)
    _projection(tensor, p)


def _qwen(tensor: Any, p: TinyProjector) -> None:
    """Qwen2-VL / 2.5-VL: a second patch kernel, biased attention, layer norms (qwen2) or RMS norms and a gated
    SiLU FFN with biases (2.5), the merger's norm as post_ln, mm.0 / mm.2 over 2×2 patches."""
    qwen25 = p.ptype == "qwen2.5vl_merger"
    tensor("v.patch_embd.weight.1", p.patch, p.patch, 3, p.emb)
    for i in range(p.blocks):
        prefix = f"v.blk.{i}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            tensor(f"{prefix}{name}.weight", p.emb, p.emb)
            tensor(f"{prefix}{name}.bias", p.emb, dtype=F32)
        for name in ("ln1", "ln2"):
            if qwen25:
                tensor(f"{prefix}{name}.weight", p.emb, dtype=F32)
            else:
                _norm(tensor, prefix + name, p.emb)
        for name in ("ffn_gate", "ffn_up") if qwen25 else ("ffn_up",):
            tensor(f"{prefix}{name}.weight", p.emb, p.ff)
            tensor(f"{prefix}{name}.bias", p.ff, dtype=F32)
        tensor(prefix + "ffn_down.weight", p.ff, p.emb)
        tensor(prefix + "ffn_down.bias", p.emb, dtype=F32)
    if qwen25:
        tensor("v.post_ln.weight", p.emb, dtype=F32)
    else:
        _norm(tensor, "v.post_ln", p.emb)
    tensor("mm.0.weight", 4 * p.emb, p.hidden)
    tensor("mm.0.bias", p.hidden, dtype=F32)
    tensor("mm.2.weight", p.hidden, p.out)
    tensor("mm.2.bias", p.out, dtype=F32)


def _resampler(tensor: Any, p: TinyProjector) -> None:
    """MiniCPM-V's resampler: learned queries, a KV projection, one cross-attention with norms, a square projection
    (`out` wide, a multiple of its 128-wide heads)."""
    tensor("resampler.pos_embed_k", p.out, 16, dtype=F32)
    tensor("resampler.query", p.out, p.queries or 96, dtype=F32)
    tensor("resampler.kv.weight", p.emb, p.out)
    tensor("resampler.proj.weight", p.out, p.out)
    for name in ("q", "k", "v", "out"):
        tensor(f"resampler.attn.{name}.weight", p.out, p.out)
        tensor(f"resampler.attn.{name}.bias", p.out, dtype=F32)
    for name in ("q", "kv", "post"):
        _norm(tensor, f"resampler.ln_{name}", p.out)


def _qwen3(tensor: Any, p: TinyProjector) -> None:
    """Qwen3-VL: two patch kernels and a patch bias, learned positions, a fused QKV, layer norms, GELU FFN, the
    merger (post_ln, mm.0, mm.2) and the deepstack mergers (norm over 2×2 patches, fc1, fc2)."""
    tensor("v.patch_embd.weight.1", p.patch, p.patch, 3, p.emb)
    tensor("v.patch_embd.bias", p.emb, dtype=F32)
    tensor("v.position_embd.weight", p.emb, p.pos_side * p.pos_side, dtype=F32)
    for i in range(p.blocks):
        prefix = f"v.blk.{i}."
        tensor(prefix + "attn_qkv.weight", p.emb, 3 * p.emb)
        tensor(prefix + "attn_qkv.bias", 3 * p.emb, dtype=F32)
        tensor(prefix + "attn_out.weight", p.emb, p.emb)
        tensor(prefix + "attn_out.bias", p.emb, dtype=F32)
        _norm(tensor, prefix + "ln1", p.emb)
        _norm(tensor, prefix + "ln2", p.emb)
        tensor(prefix + "ffn_up.weight", p.emb, p.ff)
        tensor(prefix + "ffn_up.bias", p.ff, dtype=F32)
        tensor(prefix + "ffn_down.weight", p.ff, p.emb)
        tensor(prefix + "ffn_down.bias", p.emb, dtype=F32)
    for i in p.deepstack:
        _norm(tensor, f"v.deepstack.{i}.norm", 4 * p.emb)
        tensor(f"v.deepstack.{i}.fc1.weight", 4 * p.emb, p.hidden)
        tensor(f"v.deepstack.{i}.fc1.bias", p.hidden, dtype=F32)
        tensor(f"v.deepstack.{i}.fc2.weight", p.hidden, p.out)
        tensor(f"v.deepstack.{i}.fc2.bias", p.out, dtype=F32)
    _norm(tensor, "v.post_ln", p.emb)
    tensor("mm.0.weight", 4 * p.emb, p.hidden)
    tensor("mm.0.bias", p.hidden, dtype=F32)
    tensor("mm.2.weight", p.hidden, p.out)
    tensor("mm.2.bias", p.out, dtype=F32)


def _llama4(tensor: Any, p: TinyProjector) -> None:
    """Llama 4: a linear patch embedding, a class token, learned positions, layer norms before and after, biased
    attention and GELU FFN, then mlp.1, mlp.2 and the projection after the pixel shuffle."""
    tensor("v.class_embd", p.emb, dtype=F32)
    tensor("v.position_embd.weight", p.emb, p.positions, dtype=F32)
    _norm(tensor, "v.pre_ln", p.emb)
    _norm(tensor, "v.post_ln", p.emb)
    for i in range(p.blocks):
        _layer(tensor, f"v.blk.{i}.", p)
    tensor("mm.model.mlp.1.weight", p.emb * p.scale * p.scale, p.hidden)
    tensor("mm.model.mlp.2.weight", p.hidden, p.hidden)
    tensor("mm.model.fc.weight", p.hidden, p.out)


def _pixtral(tensor: Any, p: TinyProjector) -> None:
    """Pixtral's encoder (RMS pre-norm, no biases, gated FFN), its two-layer projector and the row break."""
    tensor("v.pre_ln.weight", p.emb, dtype=F32)
    for i in range(p.blocks):
        prefix = f"v.blk.{i}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            tensor(f"{prefix}{name}.weight", p.emb, p.emb)
        tensor(prefix + "ln1.weight", p.emb, dtype=F32)
        tensor(prefix + "ln2.weight", p.emb, dtype=F32)
        tensor(prefix + "ffn_gate.weight", p.emb, p.ff)
        tensor(prefix + "ffn_up.weight", p.emb, p.ff)
        tensor(prefix + "ffn_down.weight", p.ff, p.emb)
    if p.merge > 1:
        tensor("mm.input_norm.weight", p.emb, dtype=F32)
        tensor("mm.patch_merger.weight", p.emb * p.merge * p.merge, p.emb)
    tensor("mm.1.weight", p.emb, p.hidden)
    tensor("mm.2.weight", p.hidden, p.out)
    tensor("v.token_embd.img_break", p.out, dtype=F32)


def _norm(tensor: Any, prefix: str, width: int) -> None:
    tensor(prefix + ".weight", width, dtype=F32)
    tensor(prefix + ".bias", width, dtype=F32)


def _layer(tensor: Any, prefix: str, p: TinyProjector) -> None:
    """One encoder layer: separate Q/K/V/output with biases, ln1/ln2, an up/down FFN with biases."""
    for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
        tensor(f"{prefix}{name}.weight", p.emb, p.emb)
        tensor(f"{prefix}{name}.bias", p.emb, dtype=F32)
    _norm(tensor, prefix + "ln1", p.emb)
    _norm(tensor, prefix + "ln2", p.emb)
    tensor(prefix + "ffn_up.weight", p.emb, p.ff)
    tensor(prefix + "ffn_up.bias", p.ff, dtype=F32)
    tensor(prefix + "ffn_down.weight", p.ff, p.emb)
    tensor(prefix + "ffn_down.bias", p.emb, dtype=F32)


def _projection(tensor: Any, p: TinyProjector) -> None:
    """The projector's own tensors, ending at the text model's width."""
    if p.ptype == "resampler":
        _resampler(tensor, p)
    elif p.ptype == "gemma3":
        tensor("mm.input_projection.weight", p.out, p.emb)
        tensor("mm.soft_emb_norm.weight", p.emb, dtype=F32)
    elif p.ptype == "idefics3":
        tensor("mm.model.fc.weight", p.emb * p.scale * p.scale, p.out)
    else:
        tensor("mm.0.weight", p.emb * max(len(p.features), 1), p.hidden)
        tensor("mm.0.bias", p.hidden, dtype=F32)
        tensor("mm.2.weight", p.hidden, p.out)
        tensor("mm.2.bias", p.out, dtype=F32)


def write_text_model(path: Path, p: TinyProjector) -> Path:
    """The smallest text model mtmd accepts beside the projector: a one-layer llama of the projector's output width."""
    return write_tiny(path, Tiny("llama", blocks=1, emb=p.text_width, heads=4, heads_kv=4,
                                 head_dim=p.text_width // 4, ff=256, vocab=512))
