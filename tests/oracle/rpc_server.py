"""Run inside a subprocess: a llama.cpp RPC server on a loopback endpoint, serving this machine's CPU as a device.

Usage: python -m tests.oracle.rpc_server 127.0.0.1:PORT
What llama.cpp's `tools/rpc/rpc-server.cpp` does (b11312), through ctypes on the libraries llama-cpp-python ships
when it is built with `-DGGML_RPC=ON`: find the RPC backend in ggml's registry, take the CPU device, call
`ggml_backend_rpc_start_server(endpoint, cache_dir = NULL, n_threads, 1, &cpu)`, which serves until killed.
A client sees the device as a GPU (`ggml_backend_rpc_device_get_type`), so llama.cpp offloads layers to it.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from typing import Final

import llama_cpp

LIB: Final = Path(llama_cpp.__file__).parent / "lib"
DEVICE_TYPE_CPU: Final = 0  # enum ggml_backend_dev_type


def load_ggml() -> ctypes.CDLL:
    """libggml (the copy libllama uses) with the registry and device functions typed."""
    ggml = ctypes.CDLL(str(LIB / "libggml.so.0"))  # the soname libllama links: one registry, not two copies
    ggml.ggml_backend_reg_by_name.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_by_name.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ggml.ggml_backend_dev_by_type.restype = ctypes.c_void_p
    ggml.ggml_backend_dev_by_type.argtypes = [ctypes.c_int]
    ggml.ggml_backend_register.restype = None
    ggml.ggml_backend_register.argtypes = [ctypes.c_void_p]
    return ggml


def rpc_function(ggml: ctypes.CDLL, name: str) -> int:
    """The address of an RPC backend function, as common/arg.cpp finds it (fails clearly without RPC)."""
    reg = ggml.ggml_backend_reg_by_name(b"RPC")
    if not reg:
        sys.exit("this llama-cpp-python has no RPC backend: build it with CMAKE_ARGS=-DGGML_RPC=ON")
    address = ggml.ggml_backend_reg_get_proc_address(reg, name.encode())
    if not address:
        sys.exit(f"the RPC backend has no {name}")
    return int(address)


def main() -> int:
    """Serve the CPU device on argv[1] until killed."""
    endpoint = sys.argv[1]
    if not endpoint.startswith("127.0.0.1:"):
        sys.exit("the oracle's RPC server listens on loopback only")
    ggml = load_ggml()
    start = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                             ctypes.POINTER(ctypes.c_void_p))(rpc_function(ggml, "ggml_backend_rpc_start_server"))
    cpu = ggml.ggml_backend_dev_by_type(DEVICE_TYPE_CPU)
    devices = (ctypes.c_void_p * 1)(cpu)
    print(f"serving {endpoint}", flush=True)
    start(endpoint.encode(), None, 1, 1, devices)
    return 0


if __name__ == "__main__":
    sys.exit(main())
