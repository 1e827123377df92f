"""A compute graph's buffer as ggml's graph allocator reserves it: the graph's tensors, their order, and the allocator.

ggml has no closed formula for a compute buffer: `ggml_backend_sched_reserve` hands the graph to
`ggml_gallocr_reserve`, which walks the nodes in graph order, gives every new tensor the best-fitting free block,
lets in-place ops reuse their last parent's memory, frees a tensor once its last consumer ran, and keeps the
high-water mark as the buffer's size. This module repeats that walk over a described graph (sizes, sources,
views), so a graph described faithfully gets the byte figure llama.cpp prints. Rules read from llama.cpp b11312
`ggml/src/ggml-alloc.c` (`ggml_gallocr_alloc_graph_impl`, `ggml_gallocr_allocate_node`, `ggml_dyn_tallocr_alloc`,
`ggml_dyn_tallocr_free_bytes`, `ggml_op_can_inplace`) and `ggml/src/ggml.c` (`ggml_visit_parents_graph`: graph
order is a depth-first post-order over each tensor's sources, left to right). No library does this: it is the
arithmetic of one C allocator, kept small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Final, overload

TYPE_BYTES: Final = {"f32": 4, "f16": 2, "i32": 4}
ALIGNMENT: Final = 32  # the CPU buffer type's alignment (TENSOR_ALIGNMENT); CUDA and Metal align to 128 or less


@dataclass
class Tensor:
    """One tensor of the graph that lives in the compute buffer (weights live elsewhere: pass None for them)."""

    index: int
    nbytes: int  # a view's bytes are its source's: it is never allocated, but an op on it makes a tensor that size
    layout: tuple[object, ...]  # equal layouts (type, shape, strides) allow in-place reuse
    srcs: tuple[Tensor | None, ...] = ()
    view_of: Tensor | None = None  # reshape / permute / transpose / view: no memory of its own
    inplace: bool = False  # the op may write over a source (ggml_op_can_inplace)
    leaf: bool = False  # an input (op NONE) created in the graph's context, e.g. the raw image


@dataclass
class Graph:
    """The tensors a graph builder creates, and the order ggml_build_forward_expand/_order puts them in."""

    tensors: list[Tensor] = field(default_factory=list)
    order: list[Tensor] = field(default_factory=list)
    _seen: set[int] = field(default_factory=set)

    def _new(self, nbytes: int, layout: tuple[object, ...], srcs: tuple[Tensor | None, ...], *,
             view_of: Tensor | None = None, inplace: bool = False, leaf: bool = False) -> Tensor:
        t = Tensor(len(self.tensors), nbytes, layout, srcs, view_of, inplace, leaf)
        self.tensors.append(t)
        return t

    def input(self, shape: tuple[int, ...], dtype: str = "f32") -> Tensor:
        """A graph input (ggml_new_tensor + ggml_set_input): allocated before every node."""
        return self._new(_bytes(shape, dtype), (dtype, _ne(shape)), (), leaf=True)

    def leaf(self, shape: tuple[int, ...], dtype: str = "f32") -> Tensor:
        """A tensor created in the graph's context without an op (not an input): also allocated before every node."""
        return self.input(shape, dtype)

    def view(self, src: Tensor) -> Tensor:
        """ggml_view_*: a view at offset 0 whose layout is its own (never reused in place)."""
        return self.permute(src)

    def op(self, shape: tuple[int, ...], *srcs: Tensor | None, dtype: str = "f32") -> Tensor:
        """A new contiguous tensor computed from srcs by an op that never works in place (mul_mat, norm, cont…)."""
        return self._new(_bytes(shape, dtype), (dtype, _ne(shape)), srcs)

    def same(self, src: Tensor, *others: Tensor | None) -> Tensor:
        """An in-place-capable op whose result has src's layout (add, mul, scale, unary, rms_norm, soft_max)."""
        return self._new(src.nbytes, src.layout, (src, *others), inplace=True)

    @overload
    def reshape(self, src: Tensor, shape: tuple[int, ...]) -> Tensor: ...
    @overload
    def reshape(self, src: None, shape: tuple[int, ...]) -> None: ...
    def reshape(self, src: Tensor | None, shape: tuple[int, ...]) -> Tensor | None:
        """A contiguous view with another shape (None stays None: a view of a weight)."""
        if src is None:
            return None
        dtype = _dtype(src)
        return self._new(_bytes(shape, dtype), (dtype, _ne(shape)), (src,), view_of=_root(src))

    @overload
    def permute(self, src: Tensor) -> Tensor: ...
    @overload
    def permute(self, src: None) -> None: ...
    def permute(self, src: Tensor | None) -> Tensor | None:
        """A non-contiguous view (permute, transpose): never the same layout as a new tensor."""
        if src is None:
            return None
        return self._new(src.nbytes, ("view", _dtype(src), len(self.tensors)), (src,), view_of=_root(src))

    def expand(self, t: Tensor | None) -> None:
        """ggml_build_forward_expand / _order: append t's unvisited ancestors, depth first, sources left to right."""
        if t is None:
            return
        stack: list[tuple[Tensor, int]] = [(t, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0 and node.index in self._seen:
                continue
            self._seen.add(node.index)
            srcs = [s for s in node.srcs if s is not None]
            if i < len(srcs):
                stack.append((node, i + 1))
                if srcs[i].index not in self._seen:
                    stack.append((srcs[i], 0))
                continue
            self.order.append(node)


def _bytes(shape: tuple[int, ...], dtype: str) -> int:
    return prod(shape) * TYPE_BYTES[dtype]


def _ne(shape: tuple[int, ...]) -> tuple[int, ...]:
    """ggml's four dimensions: trailing ones make no difference to a layout."""
    return (*shape, *(1,) * (4 - len(shape)))


def _dtype(t: Tensor) -> str:
    """The element type: a layout starts with it, or with "view" and then it."""
    return str(t.layout[1] if t.layout[0] == "view" else t.layout[0])


def _root(t: Tensor) -> Tensor:
    return t.view_of if t.view_of is not None else t


def _pad(n: int, to: int) -> int:
    return (n + to - 1) // to * to


class _Blocks:
    """ggml_dyn_tallocr for one chunk: free blocks sorted by offset, the last one the open end."""

    def __init__(self) -> None:
        self.free: list[list[int]] = []
        self.max_size = 0

    def alloc(self, size: int) -> int:
        best, best_size = -1, -1
        for i, (_, bsize) in enumerate(self.free[:-1]):  # best fit, the last block aside
            if bsize >= size and (best < 0 or bsize <= best_size):
                best, best_size = i, bsize
        if best < 0:
            if not self.free:  # the first chunk: an open end
                self.free.append([0, 1 << 62])
            best = len(self.free) - 1
        block = self.free[best]
        offset = block[0]
        block[0] += size
        block[1] -= size
        if block[1] == 0:
            del self.free[best]
        self.max_size = max(self.max_size, offset + size)
        return offset

    def release(self, offset: int, size: int) -> None:
        for i, block in enumerate(self.free):
            if block[0] + block[1] == offset:
                block[1] += size
                if i + 1 < len(self.free) and block[0] + block[1] == self.free[i + 1][0]:
                    block[1] += self.free[i + 1][1]
                    del self.free[i + 1]
                return
            if offset + size == block[0]:
                block[0] = offset
                block[1] += size
                if i > 0 and self.free[i - 1][0] + self.free[i - 1][1] == block[0]:
                    self.free[i - 1][1] += block[1]
                    del self.free[i]
                return
        at = 0
        while at < len(self.free) and self.free[at][0] < offset:
            at += 1
        self.free.insert(at, [offset, size])


@dataclass
class _State:
    children: int = 0
    views: int = 0
    allocated: bool = False
    offset: int = 0


def reserve(graph: Graph, alignment: int = ALIGNMENT) -> int:
    """The compute buffer ggml_gallocr_reserve sizes for this graph (bytes)."""
    nodes = [t for t in graph.order if not t.leaf]
    leafs = [t for t in graph.order if t.leaf]
    state = {t.index: _State() for t in graph.tensors}
    blocks = _Blocks()

    def allocate(t: Tensor) -> None:
        s = state[t.index]
        if s.allocated or t.view_of is not None:
            return
        s.allocated = True
        if t.inplace and _reuse(t, state):
            return
        s.offset = blocks.alloc(_pad(t.nbytes, alignment))

    for leaf in leafs:
        allocate(leaf)
    for node in nodes:
        if node.view_of is not None:
            state[node.view_of.index].views += 1
        for src in node.srcs:
            if src is not None:
                state[src.index].children += 1
    for node in nodes:
        allocate(node)
        for src in node.srcs:
            if src is not None:
                _release(src, state, blocks, alignment)
    return blocks.max_size


def _reuse(t: Tensor, state: dict[int, _State]) -> bool:
    """ggml_gallocr_allocate_node's in-place branch: take over the first source that has no other consumer.

    A view is never a candidate: `ggml_gallocr_is_own` asks whether the allocator allocated the tensor itself,
    which it never does for a view, so an in-place op on a reshape gets new memory (the oracle shows it: pixtral's
    first RoPE on the reshaped Q). Equal layouts mean equal sizes, so nothing is left over to free.
    """
    for parent in t.srcs:
        if parent is None or parent.view_of is not None or parent.layout != t.layout:
            continue
        p = state[parent.index]
        if p.children != 1 or p.views != 0 or not p.allocated:
            continue
        p.allocated = False
        state[t.index].offset = p.offset
        return True
    return False


def _release(parent: Tensor, state: dict[int, _State], blocks: _Blocks, alignment: int) -> None:
    """After a consumer ran: free the parent (or the tensor it views) once nothing needs it any more."""
    p = state[parent.index]
    p.children -= 1
    if p.children != 0 or p.views != 0:
        return
    target = parent
    if parent.view_of is not None:
        target = parent.view_of
        v = state[target.index]
        v.views -= 1
        if v.views != 0 or v.children != 0:
            return
    s = state[target.index]
    if s.allocated:
        blocks.release(s.offset, _pad(target.nbytes, alignment))
        s.allocated = False
