"""Run inside a subprocess: load one GGUF split between RPC devices and the CPU; report every backend's buffers.

Usage: python -m tests.oracle.split_probe MODEL.gguf 127.0.0.1:P1[,127.0.0.1:P2] < grid.json > results.jsonl
The RPC servers (tests/oracle/rpc_server.py) must already listen. They are added to ggml's registry as
common/arg.cpp `add_rpc_devices` does (`ggml_backend_rpc_add_server` + `ggml_backend_register`), so llama.cpp's
default device selection (src/llama.cpp) takes them as GPU devices. The grid is a JSON list of {"n_ctx", "n_seq",
"type", "flash", "n_gpu_layers", "tensor_split" (one weight per RPC device)}; for each entry the model is loaded
with those offload settings and one context is created. Printed per entry: the device of every layer, the output
layer last (`load_tensors: layer N assigned to device D`), every `… buffer size` line by backend (model, KV, output,
compute), and whether pipeline parallelism was enabled.
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
from tests.oracle.probe import BUFFER, GGML_TYPES  # the same log lines and cache types
from tests.oracle.rpc_server import load_ggml, rpc_function

_LAYER: Final = re.compile(r"layer +(\d+) assigned to device (\S+),")


def parse(lines: list[str]) -> dict[str, Any]:
    """The device of every layer (the last: the output layer), the buffers by backend and kind (MiB as printed),
    pipeline parallelism."""
    assigned: dict[int, str] = {}
    buffers: list[dict[str, str]] = []
    for line in lines:
        if (m := _LAYER.search(line)) is not None:
            assigned[int(m[1])] = m[2]
        elif (m := BUFFER.search(line)) is not None:
            buffers.append({"backend": m[1], "kind": m[2], "mib": m[3]})
    return {"assigned": [assigned[i] for i in sorted(assigned)], "buffers": buffers,
            "pipeline_parallel": any("pipeline parallelism enabled" in line for line in lines)}


def register(endpoints: list[str]) -> None:
    """Add each RPC server to ggml's registry (common/arg.cpp add_rpc_devices)."""
    ggml = load_ggml()
    add = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p)(rpc_function(ggml, "ggml_backend_rpc_add_server"))
    for endpoint in endpoints:
        reg = add(endpoint.encode())
        if not reg:
            sys.exit(f"could not add the RPC server {endpoint}")
        ggml.ggml_backend_register(reg)


def measure(path: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Load with the entry's offload settings, create one context, return what llama.cpp logged."""
    _lines.clear()
    mparams = llama_cpp.llama_model_default_params()
    mparams.n_gpu_layers = entry["n_gpu_layers"]
    split = entry.get("tensor_split", [])
    weights = (ctypes.c_float * max(len(split), 1))(*split)
    if split:
        mparams.tensor_split = weights
    mparams.use_mmap = True
    model = llama_cpp.llama_model_load_from_file(path.encode(), mparams)
    if not model:
        return {"entry": entry, "ok": False, "log": _lines[-20:]}
    try:
        cp = llama_cpp.llama_context_default_params()
        cp.n_ctx = entry["n_ctx"]
        cp.n_seq_max = entry["n_seq"]
        cp.n_batch = cp.n_ubatch = entry.get("n_ubatch", 512)
        cp.type_k = cp.type_v = GGML_TYPES[entry["type"]]
        cp.flash_attn_type = 1 if entry["flash"] else 0  # LLAMA_FLASH_ATTN_TYPE_ENABLED / _DISABLED
        cp.swa_full = False  # llama-server's default
        cp.n_threads = cp.n_threads_batch = 1
        cp.no_perf = True
        ctx = llama_cpp.llama_init_from_model(model, cp)
        result = {"entry": entry, "ok": bool(ctx), **parse(_lines)}
        if ctx:
            llama_cpp.llama_free(ctx)
        else:
            result["log"] = [line for line in _lines if "error" in line.lower() or "failed" in line.lower()]
        return result
    finally:
        llama_cpp.llama_model_free(model)


def main() -> int:
    """Register the RPC servers, then measure every grid entry."""
    llama_cpp.llama_log_set(_log, ctypes.c_void_p())
    register(sys.argv[2].split(","))
    llama_cpp.llama_backend_init()
    for entry in json.load(sys.stdin):
        print(json.dumps(measure(sys.argv[1], entry)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
