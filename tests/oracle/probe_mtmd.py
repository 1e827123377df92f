"""Run inside a subprocess: open projectors with the real mtmd (llama-cpp-python's libmtmd) and report their buffers.

Usage: python -m tests.oracle.probe_mtmd TEXT_MODEL.gguf < grid.json > results.jsonl
The grid is a JSON list of {"mmproj": path, "flash": bool}. The text model is loaded once (CPU); for each entry an
mtmd context is created as llama-server creates it (`mtmd_init_from_file` with warm-up on, on the CPU, flash
attention enabled or disabled), which makes clip.cpp reserve its compute buffer for the warm-up image. clip.cpp
logs through its own logger (`mtmd_log_set`, not ggml's callback): its lines are captured and parsed — the warm-up
image size, the flash attention setting and each backend's `compute buffer size`. One JSON object per entry.
"""

from __future__ import annotations

import ctypes
import json
import re
import sys
from typing import Any, Final

import llama_cpp
from llama_cpp import mtmd_cpp

from tests.oracle.log_capture import lines as _lines
from tests.oracle.log_capture import on_log as _log

_COMPUTE: Final = re.compile(r"(\S+) compute buffer size = +([\d.]+) MiB")
_WARMUP: Final = re.compile(r"warmup with image size = (\d+) x (\d+)")
_FLASH: Final = re.compile(r"flash attention is (enabled|disabled)")


def parse(lines: list[str]) -> dict[str, Any]:
    """What clip.cpp reported: compute buffers per backend (MiB as printed), warm-up image, flash attention."""
    out: dict[str, Any] = {"compute": [], "warmup": None, "flash_attention": None}
    for line in lines:
        if (m := _COMPUTE.search(line)) is not None:
            out["compute"].append({"backend": m[1], "mib": m[2]})
        elif (m := _WARMUP.search(line)) is not None:
            out["warmup"] = int(m[1])
        elif (m := _FLASH.search(line)) is not None:
            out["flash_attention"] = m[1] == "enabled"
    return out


def main() -> int:
    """Load the text model once, open every projector of the grid, print what clip.cpp reported."""
    llama_cpp.llama_log_set(_log, ctypes.c_void_p())
    mtmd_cpp.mtmd_log_set(_log, ctypes.c_void_p())
    llama_cpp.llama_backend_init()
    grid = json.load(sys.stdin)
    mparams = llama_cpp.llama_model_default_params()
    mparams.n_gpu_layers = 0
    model = llama_cpp.llama_model_load_from_file(sys.argv[1].encode(), mparams)
    if not model:
        print(json.dumps({"error": "text model load failed", "log": _lines[-20:]}))
        return 1
    try:
        for entry in grid:
            _lines.clear()
            params = mtmd_cpp.mtmd_context_params_default()
            params.use_gpu = False
            params.print_timings = False
            params.n_threads = 1
            params.warmup = True
            params.flash_attn_type = 1 if entry["flash"] else 0  # LLAMA_FLASH_ATTN_TYPE_ENABLED / _DISABLED
            ctx = mtmd_cpp.mtmd_init_from_file(entry["mmproj"].encode(), model, params)
            result = {"entry": entry, "ok": bool(ctx), **parse(_lines)}
            if ctx:
                mtmd_cpp.mtmd_free(ctx)
            else:
                result["log"] = [line for line in _lines if "error" in line.lower() or "fail" in line.lower()]
            print(json.dumps(result), flush=True)
    finally:
        llama_cpp.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
