"""GGUF metadata read: a 4 GiB sparse file vs a 4 MiB one with the same header, and vs gguf.GGUFReader.

Budget (issue #6): the 4 GiB read within 1.5× the 4 MiB read, each ≤ 50 ms. The header is a mistral-7B-like
layout (32 layers, 291 tensors, 32 000-token vocabulary: fits in 4 MiB). A llama-3 header (128 256 tokens and
280 147 merges, ~9 MiB) is measured too, for information.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ and tests/ helpers

import gguf
import numpy as np
from bench._timing import interleaved, report
from tests.gguf_models import Arch, tensor_plan

from ollama_sync.system.gguf_header import read_header

MISTRAL_7B = Arch("llama", 32, 4096, 32, 8, 32768, 14336, 32000)
SMALL = 4 * 1024**2
LARGE = 4 * 1024**3
BUDGET_RATIO = 1.5
BUDGET_MS = 50.0


def write_header(path: Path, arch: Arch, merges: int = 0) -> None:
    """Header and tensor infos only; the caller sizes the file."""
    w = gguf.GGUFWriter(str(path), arch.arch)
    w.add_block_count(arch.blocks)
    w.add_context_length(arch.ctx)
    w.add_embedding_length(arch.emb)
    w.add_head_count(arch.heads)
    w.add_head_count_kv(arch.heads_kv)
    w.add_token_list([f"tok{i}" for i in range(arch.vocab)])
    w.add_token_types([1] * arch.vocab)
    if merges:
        w.add_token_merges([f"a{i} b{i}" for i in range(merges)])
    for name, shape, qtype in tensor_plan(arch, gguf.GGMLQuantizationType.Q4_0):
        w.add_tensor_info(name, (*reversed(shape), ), np.dtype(np.float32), 0, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()


def sized_copy(header: Path, target: Path, size: int) -> Path:
    """The same header, the file extended (sparse) to size bytes."""
    target.write_bytes(header.read_bytes())
    with target.open("r+b") as handle:
        handle.truncate(size)
    return target


def main() -> int:
    """Measure and print the ratios; exit 1 when over budget."""
    with tempfile.TemporaryDirectory(prefix="bench-gguf-") as tmp:
        folder = Path(tmp)
        header = folder / "header.gguf"
        write_header(header, MISTRAL_7B)
        small = sized_copy(header, folder / "small.gguf", SMALL)
        large = sized_copy(header, folder / "large.gguf", LARGE)
        print(f"header: {header.stat().st_size / 1024:.0f} KiB, {len(read_header(large).tensors)} tensors; "
              f"files: 4 MiB and 4 GiB (sparse)")
        times = interleaved({"small": lambda: read_header(small), "large": lambda: read_header(large)}, runs=21)
        ok = report("read_header 4 GiB", times["large"], times["small"], BUDGET_RATIO, baseline_name="4 MiB")
        for name in ("small", "large"):
            within = times[name] * 1000 <= BUDGET_MS
            ok = ok and within
            print(f"read_header {name}: {times[name] * 1000:.1f} ms (budget ≤ {BUDGET_MS:g} ms)"
                  f"{' OK' if within else ' OVER BUDGET'}")
        theirs = interleaved({"gguf": lambda: gguf.GGUFReader(large), "ours": lambda: read_header(large)},
                             runs=3, warmup=1)
        report("gguf.GGUFReader 4 GiB", theirs["gguf"], theirs["ours"], None, baseline_name="read_header")
        llama3 = folder / "llama3.gguf"
        write_header(llama3, Arch("llama", 32, 4096, 32, 8, 131072, 14336, 128256), merges=280147)
        big_vocab = interleaved({"ours": lambda: read_header(llama3)}, runs=5, warmup=1)["ours"]
        report(f"read_header llama-3 header ({llama3.stat().st_size / 2**20:.1f} MiB, info)", big_vocab,
               times["small"], None, baseline_name="mistral header")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
