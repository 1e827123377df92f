"""Run inside a subprocess: load one GGUF with the real llama.cpp (llama-cpp-python) and report its buffers.

Usage: python -m tests.oracle.probe MODEL.gguf < grid.json > results.jsonl
The grid is a JSON list of {"n_ctx", "n_seq", "type", "flash", "n_batch", "n_ubatch"}; for each entry a
context is created (CPU only, no weights offloaded) and the lines llama.cpp logs about its buffers are
captured through `llama_log_set` and parsed: every KV cache's cells/layers/K/V sizes, the KV, output and
compute buffer sizes. One JSON object per grid entry is printed. A subprocess keeps a llama.cpp abort from
taking the test run down with it.
"""

from __future__ import annotations

import ctypes
import json
import re
import sys
from typing import Any, Final

import llama_cpp

from tests.oracle.log_capture import lines as _lines
from tests.oracle.log_capture import on_log as _log

GGML_TYPES: Final = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8, "bf16": 30}
_KV_SIZE: Final = re.compile(r"llama_kv_cache: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers, +(\d+)/(\d+) "
                             r"seqs\), K \((\w+)\): +([\d.]+) MiB, V \((\w+)\): +([\d.]+) MiB")
BUFFER: Final = re.compile(r"(\S+) +(KV|RS|output|compute|model) buffer size = +([\d.]+) MiB")
_RS_SIZE: Final = re.compile(r"llama_memory_recurrent: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers.*"
                             r"R \((\w+)\): +([\d.]+) MiB, S \((\w+)\): +([\d.]+) MiB")


def parse(lines: list[str]) -> dict[str, Any]:
    """The buffers llama.cpp reported, in MiB as printed (two decimals)."""
    out: dict[str, Any] = {"kv_caches": [], "buffers": [], "recurrent": []}
    for line in lines:
        if (m := _KV_SIZE.search(line)) is not None:
            out["kv_caches"].append({"mib": m[1], "cells": int(m[2]), "layers": int(m[3]), "seqs": int(m[4]),
                                     "streams": int(m[5]), "type_k": m[6], "k_mib": m[7], "type_v": m[8],
                                     "v_mib": m[9]})
        elif (m := _RS_SIZE.search(line)) is not None:
            out["recurrent"].append({"mib": m[1], "cells": int(m[2]), "layers": int(m[3]), "r_mib": m[5],
                                     "s_mib": m[7]})
        elif (m := BUFFER.search(line)) is not None:
            out["buffers"].append({"backend": m[1], "kind": m[2], "mib": m[3]})
    return out


def main() -> int:
    """Load the model once, create a context per grid entry, print what llama.cpp reported."""
    llama_cpp.llama_log_set(_log, ctypes.c_void_p())
    llama_cpp.llama_backend_init()
    grid = json.load(sys.stdin)
    mparams = llama_cpp.llama_model_default_params()
    mparams.n_gpu_layers = 0
    mparams.use_mmap = True
    model = llama_cpp.llama_model_load_from_file(sys.argv[1].encode(), mparams)
    if not model:
        print(json.dumps({"error": "load failed", "log": _lines[-20:]}))
        return 1
    loaded = parse(_lines)["buffers"]  # the model buffers, logged once at load
    try:
        for entry in grid:
            _lines.clear()
            cp = llama_cpp.llama_context_default_params()
            cp.n_ctx = entry["n_ctx"]
            cp.n_seq_max = entry["n_seq"]
            cp.n_batch = entry.get("n_batch", 512)
            cp.n_ubatch = entry.get("n_ubatch", 512)
            cp.type_k = GGML_TYPES[entry["type"]]
            cp.type_v = GGML_TYPES[entry["type"]]
            cp.flash_attn_type = 1 if entry["flash"] else 0  # LLAMA_FLASH_ATTN_TYPE_ENABLED / _DISABLED
            cp.kv_unified = entry.get("kv_unified", False)
            cp.swa_full = False  # llama-server's default (common_params.swa_full); the C API defaults to true
            cp.n_threads = cp.n_threads_batch = 1
            cp.no_perf = True
            ctx = llama_cpp.llama_init_from_model(model, cp)
            result = {"entry": entry, "ok": bool(ctx), "model_buffers": loaded, **parse(_lines)}
            if not ctx:
                result["log"] = [line for line in _lines if "error" in line.lower() or "failed" in line.lower()]
            else:
                llama_cpp.llama_free(ctx)
            print(json.dumps(result), flush=True)
    finally:
        llama_cpp.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
