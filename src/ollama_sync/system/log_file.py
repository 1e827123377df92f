"""The newest lines of a log file on the machine (read from the end, so a large log costs little)."""

from __future__ import annotations

import os

from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.files import Files

_BLOCK = 64 * 1024


def tail_lines(files: Files, path: str, lines: int = 200) -> list[str]:
    """The last `lines` lines of path (oldest first, without newlines); [] when the file does not exist."""
    if lines <= 0:
        return []
    real = files.real(path)
    try:
        with open(real, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            data, position = b"", end
            while position > 0 and data.count(b"\n") <= lines:
                step = min(_BLOCK, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise OllamaSyncError(f"cannot read {path}: {exc.strerror}") from None
    parts = data.decode("utf-8", errors="replace").split("\n")
    if parts[-1] == "":
        parts.pop()  # the file ends with a newline
    return [part.removesuffix("\r") for part in parts[-lines:]]
