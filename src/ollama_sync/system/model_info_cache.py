"""ModelInfo cached by blob name: Ollama's blobs are content-addressed (sha256-<hex>), so a header never changes.

A header with a large vocabulary takes ~0.1 s to read; `plan` and `doctor` ask about every installed model,
so the facts are kept as JSON under the state directory, next to the blob's size as a sanity check.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Final

from ollama_sync.core.memory.model_info import ModelInfo, model_info
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.files import Files
from ollama_sync.system.gguf_header import read_header

SCHEMA: Final = 1
_TUPLES: Final = frozenset(f.name for f in fields(ModelInfo) if str(f.type).startswith("tuple"))


def cached_model_info(blob: Path, files: Files, state_dir: str) -> ModelInfo:
    """The blob's ModelInfo, from the cache when its name and size match, else read (and cached)."""
    size = blob.stat().st_size
    path = posixpath.join(state_dir, "model-info", f"v{SCHEMA}-{blob.name.replace(':', '-')}.json")
    cached = _load(files.read_bytes(path), size) if blob.name.startswith("sha256") else None
    if cached is not None:
        return cached
    info = model_info(read_header(blob))
    if blob.name.startswith("sha256"):
        # a read-only state dir only costs speed, never the answer
        with contextlib.suppress(OllamaSyncError, OSError):
            from ollama_sync.system.state import ensure_state_dir  # noqa: PLC0415  # only on a cache miss

            ensure_state_dir(files, state_dir)  # created 0700; never written when others could write it
            files.write_atomic(path, json.dumps(asdict(info)).encode(), mode=0o600)
    return info


def _load(data: bytes | None, size: int) -> ModelInfo | None:
    if data is None:
        return None
    try:
        raw: dict[str, Any] = json.loads(data)
        values: dict[str, Any] = {k: tuple(v) if k in _TUPLES else v for k, v in raw.items()}
        info = ModelInfo(**values)
    except (ValueError, TypeError):  # an old or damaged cache entry is re-read from the blob
        return None
    return info if info.file_size == size else None
