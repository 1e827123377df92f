"""llama.cpp's log, line by line, inside a probe subprocess (tests/oracle/probe*.py).

llama.cpp (and clip.cpp through `mtmd_log_set`) hands the callback pieces of lines; they are joined here and every
complete line is appended to `lines`, which a probe clears before each step it measures.
"""

from __future__ import annotations

import ctypes

import llama_cpp

lines: list[str] = []
_partial: list[str] = []


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]  # ctypes CFUNCTYPE
def on_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """Collect the text; a newline completes a line."""
    _partial.append(text.decode(errors="replace"))
    joined = "".join(_partial)
    if "\n" in joined:
        *done, rest = joined.split("\n")
        lines.extend(done)
        _partial[:] = [rest]
