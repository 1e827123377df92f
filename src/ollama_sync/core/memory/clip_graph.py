"""The image encoder's warm-up graph as llama.cpp's clip.cpp builds it, described for core/memory/ggml_alloc.py.

llama-server loads a vision model's projector through mtmd (`--mmproj`); clip.cpp reserves its compute buffer for one
warm-up image (`clip_model_loader::warmup`: `ggml_backend_sched_reserve` on the graph of that image). The graphs below
follow llama.cpp b11312 `tools/mtmd/clip.cpp` (`build_inp`, `build_vit`, `build_attn`, `build_ffn`,
`build_patch_merge_permute`, `build_rope_2d`) and
`tools/mtmd/models/{siglip,llava,pixtral,qwen2vl,qwen3vl,llama4,minicpmv}.cpp` tensor by tensor — the ones that live in
the compute buffer (weights are None) and the order ggml puts them in — so the allocator gives llama.cpp's figure. With
flash attention, K and V are cast to f16 for `ggml_flash_attn_ext`; without it the f32 scores `n_pos × n_pos × n_head`
are the largest tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ollama_sync.core.memory.ggml_alloc import Graph, Tensor, reserve

Rope = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class VitShape:
    """What the graph's sizes depend on: the warm-up image, the encoder, and the projector's widths."""

    image: int  # warm-up image side in pixels (square)
    patch: int
    n_embd: int
    n_ff: int
    n_layer: int  # encoder layers the graph runs
    n_head: int
    n_head_kv: int
    d_head: int
    flash: bool
    gated_ffn: bool = False
    class_embd: bool = False
    pre_ln: bool = False
    post_ln: bool = False
    im2col_f32: bool = False  # bf16 patch weights: ggml_conv_2d's im2col is f32, else f16
    n_merge: int = 1
    hidden: int = 0  # llava mlp: mm.0's width
    out: int = 0  # the text model's embedding width (the projector's output)
    second_linear: bool = True  # llava mlp: mm.2 present
    proj_weight_bytes: int = 2  # gemma3: bytes per element of mm.input_projection (copied transposed)
    rms_norm: bool = False  # pixtral: RMS norms (ggml_rms_norm works in place), 2-D RoPE on Q and K
    patch_merger: bool = False  # mistral3: RMS norm, unfold (im2col) by n_merge, mm.patch_merger
    img_break: bool = False  # pixtral: an [IMG_BREAK] embedding concatenated after each row
    window_every: int = 0  # qwen2.5-vl: window attention, every n-th layer full (clip.vision.n_wa_pattern)
    fused_qkv: bool = False  # qwen3-vl: one attn_qkv projection, Q/K/V as views into it
    pos_side: int = 0  # qwen3-vl: the learned position grid's side (resized when the image's differs)
    pos_dtype: str = "f32"  # qwen3-vl: the learned positions' type (kept by the resize and the copies)
    deepstack: tuple[int, ...] = ()  # qwen3-vl: layers whose output also feeds a deepstack merger
    deepstack_hidden: int = 0  # qwen3-vl: the deepstack mergers' fc1 width
    hidden2: int = 0  # llama4: mlp.2's width
    feature_layers: tuple[int, ...] = ()  # llava (granite vision): layer inputs stacked for the projector
    queries: int = 0  # minicpm-v: the resampler's learned queries (clip.minicpmv_query_num)

    @property
    def side(self) -> int:
        """Patches per side."""
        return self.image // self.patch

    @property
    def n_patches(self) -> int:
        """Patches of the warm-up image."""
        return self.side * self.side


def _conv(g: Graph, raw: Tensor, s: VitShape) -> Tensor:
    """ggml_conv_2d of the image by the patch kernel: im2col, mul_mat, a permuted copy → [side, side, n_embd]."""
    im2col = g.op((s.patch * s.patch * 3, s.side, s.side, 1), None, raw, dtype="f32" if s.im2col_f32 else "f16")
    conv = g.op((s.n_patches, s.n_embd), g.reshape(im2col, (s.patch * s.patch * 3, s.n_patches)), None)
    return g.op((s.side, s.side, s.n_embd, 1), g.permute(g.reshape(conv, (s.side, s.side, 1, s.n_embd))))


def _patches(g: Graph, s: VitShape) -> Tensor:
    """build_inp: the raw image through ggml_conv_2d, transposed to [n_embd, n_patches]."""
    conv = _conv(g, g.input((s.image, s.image, 3, 1)), s)
    inp = g.op((s.n_embd, s.n_patches, 1), g.permute(g.reshape(conv, (s.n_patches, s.n_embd, 1))))
    return g.same(inp, None)  # + patch bias (in place)


def _norm(g: Graph, x: Tensor, rms: bool = False) -> Tensor:
    """build_norm: ggml_norm (a new tensor) or ggml_rms_norm (in place when x has no other consumer), then the
    weight (and bias) in place."""
    out = g.same(x) if rms else g.op(_shape(x), x)
    return g.same(g.same(out, None), None)


def _shape(t: Tensor) -> tuple[int, ...]:
    shape = t.layout[1]
    assert isinstance(shape, tuple)
    return shape


def _attention(g: Graph, h: Tensor, s: VitShape, rope: Rope | None, mask: Tensor | None) -> Tensor:
    """build_attn on separate Q, K, V projections (with biases; rope on Q and K; an optional mask, cast to f16
    for flash attention), then the output projection."""
    p, dim_q, dim_kv = s.n_patches + s.class_embd, s.d_head * s.n_head, s.d_head * s.n_head_kv
    if s.fused_qkv:  # views at offsets 0, n_embd, 2·n_embd of one biased projection
        qkv = g.same(g.op((dim_q + 2 * dim_kv, p), None, h), None)
        q, k, v = g.view(qkv), g.view(qkv), g.view(qkv)
    else:
        q = g.reshape(g.same(g.op((dim_q, p), None, h), None), (s.d_head, s.n_head, p))
        k = g.reshape(g.same(g.op((dim_kv, p), None, h), None), (s.d_head, s.n_head_kv, p))
        v = g.reshape(g.same(g.op((dim_kv, p), None, h), None), (s.d_head, s.n_head_kv, p))
    if rope is not None:
        q, k = rope(q), rope(k)
    for t in (q, k, v):  # ggml_build_forward_order keeps Q, K, V together
        g.expand(t)
    if s.flash:
        k16 = g.op((s.d_head, p, s.n_head_kv), g.permute(k), dtype="f16")
        v16 = g.op((s.d_head, p, s.n_head_kv), g.permute(v), dtype="f16")
        mask16 = g.op((p, p), mask, dtype="f16") if mask is not None else None
        out = g.reshape(g.op((s.d_head, s.n_head, p), g.permute(q), k16, v16, mask16), (dim_q, p))
    else:
        vt = g.op((p, s.d_head, s.n_head_kv), g.permute(v))
        kq = g.same(g.op((p, p, s.n_head), g.permute(k), g.permute(q)), mask)  # soft_max in place
        kqv = g.op((s.d_head, p, s.n_head), vt, kq)
        out = g.op((dim_q, p), g.permute(kqv))
    return g.same(g.op((s.n_embd, p), None, out), None)


def _ffn(g: Graph, h: Tensor, s: VitShape) -> Tensor:
    """build_ffn: up (and gate) with biases, the activation (a GLU op when gated, in place otherwise), down."""
    p = s.n_patches + s.class_embd
    if s.gated_ffn:
        up = g.same(g.op((s.n_ff, p), None, h), None)
        gate = g.same(g.op((s.n_ff, p), None, h), None)
        act = g.op((s.n_ff, p), gate, up)
    else:
        act = g.same(g.same(g.op((s.n_ff, p), None, h), None))
    return g.same(g.op((s.n_embd, p), None, act), None)


def _encoder(g: Graph, x: Tensor, s: VitShape, rope: Rope | None = None,  # noqa: PLR0917  # build_vit's inputs
             masks: Sequence[Tensor | None] = (), pre_ln: bool = True, taps: list[Tensor] | None = None) -> Tensor:
    """build_vit's layers: pre-norm attention (masks: per layer) and FFN, each added to the residual in place;
    taps collects the inputs of llava's feature layers and the outputs of qwen3-vl's deepstack layers."""
    if s.pre_ln and pre_ln:
        x = _norm(g, x, s.rms_norm)
    for il in range(s.n_layer):
        if taps is not None and il in s.feature_layers:
            taps.append(x)
        mask = masks[il] if il < len(masks) else None
        attn = g.same(_attention(g, _norm(g, x, s.rms_norm), s, rope, mask), x)
        x = g.same(attn, _ffn(g, _norm(g, attn, s.rms_norm), s))
        if taps is not None and il in s.deepstack:
            taps.append(x)
    return _norm(g, x, s.rms_norm) if s.post_ln else x


def siglip_gemma3(s: VitShape) -> Graph:
    """clip_graph_siglip for gemma3: learned positions, the encoder, 2-D average pooling, RMS norm, projection."""
    g = Graph()
    x = g.same(_patches(g, s), None)  # + position embeddings (in place)
    x = _encoder(g, g.reshape(x, (s.n_embd, s.n_patches)), s)
    side = s.side // s.n_merge
    grid = g.op((s.side, s.side, s.n_embd, 1), g.permute(g.reshape(x, (s.n_embd, s.n_patches, 1))))
    pooled = g.op((side, side, s.n_embd, 1), grid)
    cur = g.op((s.n_embd, side * side, 1), g.permute(g.reshape(pooled, (side * side, s.n_embd, 1))))
    cur = g.same(g.same(cur), None)  # rms_norm, * soft_emb_norm
    weight = g.op((s.n_embd, s.out), None, dtype="f32" if s.proj_weight_bytes == 4 else "f16")
    g.expand(g.op((s.out, side * side, 1), weight, cur))
    return g


def siglip_idefics3(s: VitShape) -> Graph:
    """clip_graph_siglip for idefics3 (SmolVLM): the encoder, pixel shuffle by n_merge, one projection."""
    g = Graph()
    x = g.same(_patches(g, s), None)
    x = _encoder(g, g.reshape(x, (s.n_embd, s.n_patches)), s)
    side = -(-s.side // s.n_merge) * s.n_merge
    cur = g.reshape(x, (s.n_embd, s.side, s.side))
    if side != s.side:
        cur = g.op((s.n_embd, side, side), cur)
    wide = s.n_embd * s.n_merge * s.n_merge
    cur = g.permute(g.reshape(cur, (s.n_embd * s.n_merge, side // s.n_merge, side)))
    cur = g.permute(g.op((wide, side // s.n_merge, side // s.n_merge), cur))
    tokens = (side // s.n_merge) ** 2
    g.expand(g.op((s.out, tokens), None, g.op((wide, tokens), cur)))
    return g


def llava_mlp(s: VitShape) -> Graph:
    """clip_graph_llava with the "mlp" projector: class token, learned positions, the encoder (its feature layers'
    inputs kept to the end and concatenated, granite vision), mm.0 → GELU → mm.2."""
    g = Graph()
    n_pos = s.n_patches + s.class_embd
    inp = _patches(g, s)
    if s.class_embd:
        inp = g.op((s.n_embd, n_pos, 1), inp, None)  # ggml_concat
    positions = g.input((n_pos,), "i32")
    x = g.same(inp, g.op((s.n_embd, n_pos), None, positions))  # + get_rows(position_embd)
    taps: list[Tensor] = []
    x = _encoder(g, x, s, taps=taps)
    if s.feature_layers:  # the embedding stack: layer inputs, and the encoder's output when it is a feature layer
        stack = [*taps, x] if s.n_layer in s.feature_layers else taps
        x = stack[0]
        for n, t in enumerate(stack[1:], start=2):
            x = g.op((s.n_embd * n, n_pos), x, t)
    width = s.n_embd * max(len(taps) + (s.n_layer in s.feature_layers), 1)
    patches = g.input((s.n_patches,), "i32")
    rows = g.op((width, s.n_patches), g.reshape(x, (width, n_pos)), patches)
    cur = g.same(g.same(g.op((s.hidden, s.n_patches), None, rows), None))  # mm.0 + bias, GELU
    if s.second_linear:
        cur = g.same(g.op((s.out, s.n_patches), None, cur), None)
    g.expand(cur)
    return g


def pixtral(s: VitShape) -> Graph:
    """clip_graph_pixtral (pixtral, mistral3): 2-D RoPE, RMS norms, gated FFN; mistral3's patch merger; mm.1 → GELU
    → mm.2; the [IMG_BREAK] rows."""
    g = Graph()
    pos_h, pos_w = g.input((s.n_patches,), "i32"), g.input((s.n_patches,), "i32")
    inp = _patches(g, s)

    def rope(t: Tensor) -> Tensor:  # build_rope_2d: two ggml_rope_ext, the second in place
        return g.same(g.same(t, pos_h), pos_w)

    x = g.reshape(_encoder(g, g.reshape(inp, (s.n_embd, s.n_patches)), s, rope), (s.n_embd, s.n_patches, 1))
    tokens, side = s.n_patches, s.side
    if s.patch_merger:
        x = g.same(g.same(x), None)  # rms_norm, * mm.input_norm
        grid = g.op((s.side, s.side, s.n_embd), g.permute(g.reshape(x, (s.n_embd, s.side, s.side))))
        side = s.side // s.n_merge
        kernel = g.view(grid)
        unfolded = g.op((s.n_embd * s.n_merge * s.n_merge, side, side, 1), kernel, grid)
        tokens = side * side
        x = g.op((s.n_embd, tokens), None, g.reshape(unfolded, (s.n_embd * s.n_merge * s.n_merge, tokens)))
    cur = g.same(g.same(g.op((s.hidden, tokens), None, x), None))  # mm.1 (+ bias), GELU
    cur = g.same(g.op((s.out, tokens), None, cur), None)  # mm.2 (+ bias)
    if s.img_break:
        rows = g.reshape(cur, (s.out, side, side))
        tok = g.same(g.same(g.leaf((s.out, 1, side))), None)  # a new tensor, scaled to 0, + the break embedding
        cur = g.view(g.op((s.out, side + 1, side), rows, tok))
    g.expand(cur)
    return g


def qwen2vl(s: VitShape) -> Graph:
    """clip_graph_qwen2vl (qwen2-vl, qwen2.5-vl): two patch convolutions added, 2×2 patches regrouped, M-RoPE,
    qwen2.5's window attention (an n_pos² mask, rows reordered by window), the merger mm.0 → GELU → mm.2."""
    g = Graph()
    raw = g.input((s.image, s.image, 3, 1))
    inp = g.same(_conv(g, raw, s), _conv(g, raw, s))
    p, wide = s.n_patches, s.n_embd * 4
    inp = g.op((s.n_embd * 2, s.side // 2, s.side, 1), g.permute(inp))
    x = g.op((s.n_embd, p, 1), g.permute(g.reshape(inp, (s.n_embd * 2, s.side // 2, 2, s.side // 2))))
    positions = g.input((4 * p,), "i32")
    if s.pre_ln:
        x = _norm(g, x, s.rms_norm)
    masks: list[Tensor | None] = []
    if s.window_every:
        inv_idx = g.input((p // 4,), "i32")
        mask = g.input((p, p))
        if s.flash:
            mask = g.op((p, p), mask, dtype="f16")
        x = g.reshape(g.op((wide, p // 4), g.reshape(x, (wide, p // 4)), inv_idx), (s.n_embd, p, 1))
        masks = [None if (il + 1) % s.window_every == 0 else mask for il in range(s.n_layer)]
    x = _encoder(g, x, s, lambda t: g.same(t, positions), masks, pre_ln=False)
    cur = g.same(g.same(g.op((s.hidden, p // 4), None, g.reshape(x, (wide, p // 4))), None))  # mm.0, GELU
    cur = g.same(g.op((s.out, p // 4), None, cur), None)  # mm.2
    if s.window_every:
        idx = g.input((p // 4,), "i32")
        cur = g.op((s.out, p // 4), g.reshape(cur, (s.out, p // 4)), idx)
    g.expand(cur)
    return g


def _regroup(g: Graph, x: Tensor, s: VitShape, dtype: str = "f32") -> Tensor:
    """qwen's second conv dimension: [side, side, n_embd] → 2×2 patches next to each other, [n_embd, n_patches]."""
    x = g.op((s.n_embd * 2, s.side // 2, s.side, 1), g.permute(x), dtype=dtype)
    return g.op((s.n_embd, s.n_patches, 1), g.permute(g.reshape(x, (s.n_embd * 2, s.side // 2, 2, s.side // 2))),
                dtype=dtype)


def qwen3vl(s: VitShape) -> Graph:
    """clip_graph_qwen3vl: qwen2-vl's input with a patch bias and learned positions (resized to the image), fused
    QKV, M-RoPE, and the deepstack mergers whose outputs are concatenated to the main merger's."""
    g = Graph()
    raw = g.input((s.image, s.image, 3, 1))
    p, wide = s.n_patches, s.n_embd * 4
    x = g.same(_regroup(g, g.same(_conv(g, raw, s), _conv(g, raw, s)), s), None)  # + patch bias
    pos: Tensor | None = None  # the learned positions (a weight) unless resized
    if s.pos_side != s.side:  # resize_position_embeddings: ggml_interpolate, then a copy back to [n_embd, n]
        pos = g.op((s.side, s.side, s.n_embd, 1), None, dtype=s.pos_dtype)
        pos = g.op((s.n_embd, p), g.permute(pos), dtype=s.pos_dtype)
    grouped = g.op((s.n_embd * 2, s.side // 2, s.side, 1), pos, dtype=s.pos_dtype)
    pos = g.op((s.n_embd, p, 1), g.permute(g.reshape(grouped, (s.n_embd * 2, s.side // 2, 2, s.side // 2))),
               dtype=s.pos_dtype)
    x = g.same(x, pos)
    positions = g.input((4 * p,), "i32")
    taps: list[Tensor] = []
    x = _encoder(g, x, s, lambda t: g.op((s.d_head, s.n_head, p), t, positions), taps=taps)
    deep: Tensor | None = None  # the deepstack features, concatenated along the width
    for n, tap in enumerate(taps, start=1):
        feat = _norm(g, g.reshape(tap, (wide, p // 4)))
        feat = g.same(g.same(g.op((s.deepstack_hidden, p // 4), None, feat), None))  # fc1, GELU
        feat = g.same(g.op((s.out, p // 4), None, feat), None)  # fc2
        deep = feat if deep is None else g.op((s.out * n, p // 4), deep, feat)
    cur = g.same(g.same(g.op((s.hidden, p // 4), None, g.reshape(x, (wide, p // 4))), None))  # mm.0, GELU
    cur = g.same(g.op((s.out, p // 4), None, cur), None)  # mm.2
    if deep is not None:
        cur = g.op((s.out * (1 + len(taps)), p // 4), cur, deep)
    g.expand(cur)
    return g


def llama4(s: VitShape) -> Graph:
    """clip_graph_llama4: a linear patch embedding (im2col + mul_mat), a class token, learned positions and 2-D
    RoPE, pixel shuffle by n_merge, mlp.1 → GELU → mlp.2 → GELU → the projection."""
    g = Graph()
    n_pos, m = s.n_patches + 1, s.n_merge
    pos_h, pos_w = g.input((n_pos,), "i32"), g.input((n_pos,), "i32")
    im2col = g.op((s.patch * s.patch * 3, s.side, s.side, 1), None, g.input((s.image, s.image, 3, 1)))
    emb = g.op((s.n_embd, s.side, s.side, 1), None, im2col)
    x = g.same(g.op((s.n_embd, n_pos), g.reshape(emb, (s.n_embd, s.n_patches)), None), None)  # class, positions

    def rope(t: Tensor) -> Tensor:  # build_rope_2d(pos_w, pos_h): the second ggml_rope_ext in place
        return g.same(g.same(t, pos_w), pos_h)

    x = g.reshape(_encoder(g, g.reshape(x, (s.n_embd, n_pos)), s, rope), (s.n_embd, n_pos, 1))
    cur = g.permute(g.reshape(g.view(x), (s.n_embd * m, s.side // m, s.side, 1)))
    cur = g.op((s.n_embd * m * m, s.side // m, s.side // m, 1), cur)
    tokens = s.n_patches // (m * m)
    cur = g.op((s.n_embd * m * m, tokens), cur)
    cur = g.same(g.op((s.hidden, tokens), None, cur))  # mlp.1, GELU
    cur = g.same(g.op((s.hidden2, tokens), None, cur))  # mlp.2, GELU
    g.expand(g.op((s.out, tokens), None, cur))
    return g


def minicpmv(s: VitShape) -> Graph:
    """clip_graph_minicpmv ("resampler"): SigLIP with learned positions (get_rows), then one cross-attention of the
    learned queries over the patches (K gets a 2-D sin/cos position embedding, 128-wide heads), norm, projection."""
    g = Graph()
    dim, p, nq = s.out, s.n_patches, s.queries
    omega = g.input((dim // 4,))
    pos_h, pos_w = g.input((1, p)), g.input((1, p))
    positions = g.input((p,), "i32")
    x = g.same(_patches(g, s), g.op((s.n_embd, p), None, positions))  # + get_rows(position_embd)
    x = _encoder(g, g.reshape(x, (s.n_embd, p)), s)
    x = g.reshape(x, (s.n_embd, p, 1))
    v = g.op((dim, p), None, x)  # resampler.kv
    q = g.same(g.same(g.op((dim, nq), None), None), None)  # ln_q over the query weight: ggml_norm, mul, add
    v = _norm(g, v)
    rows = g.op((dim // 4, p), omega)  # ggml_repeat_4d
    theta_x, theta_y = g.same(rows, pos_w), g.same(rows, pos_h)
    pos_x = g.op((dim // 2, p), g.op((dim // 4, p), theta_x), g.op((dim // 4, p), theta_x))  # sin, cos, concat
    pos_y = g.op((dim // 2, p), g.op((dim // 4, p), theta_y), g.op((dim // 4, p), theta_y))
    k = g.same(v, g.op((dim, p), pos_x, pos_y))
    heads, d = dim // 128, 128
    big_q = g.reshape(g.same(g.op((dim, nq), None, q), None), (d, heads, nq))
    big_k = g.reshape(g.same(g.op((dim, p), None, k), None), (d, heads, p))
    big_v = g.reshape(g.same(g.op((dim, p), None, v), None), (d, heads, p))
    for t in (big_q, big_k, big_v):
        g.expand(t)
    if s.flash:
        k16 = g.op((d, p, heads), g.permute(big_k), dtype="f16")
        v16 = g.op((d, p, heads), g.permute(big_v), dtype="f16")
        out = g.reshape(g.op((d, heads, nq), g.permute(big_q), k16, v16), (dim, nq))
    else:
        vt = g.op((p, d, heads), g.permute(big_v))
        kq = g.same(g.op((p, nq, heads), g.permute(big_k), g.permute(big_q)), None)
        out = g.op((dim, nq), g.permute(g.op((d, nq, heads), vt, kq)))
    cur = _norm(g, g.same(g.op((dim, nq), None, out), None))  # out + bias, ln_post
    g.expand(g.op((s.hidden, nq), None, cur))  # resampler.proj
    return g


def compute_bytes(graph: Graph) -> int:
    """The compute buffer ggml reserves for the graph."""
    return reserve(graph)
