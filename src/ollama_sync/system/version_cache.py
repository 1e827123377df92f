"""`ollama --version`, remembered per binary in the state directory until the binary changes.

Running the binary costs a process start (and, for the real client, a request to the server) on every
command; the answer only changes when the file does, so it is keyed by the binary's resolved path,
size, modification time and inode.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
from typing import TYPE_CHECKING

from ollama_sync.core.version import Version, parse_version
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.files import Files
from ollama_sync.system.ollama_binary import installed_version

if TYPE_CHECKING:
    from ollama_sync.system.runner import Runner

CACHE_NAME = "binary-versions.json"


def cached_version(runner: Runner, files: Files, binary: str, state_dir: str) -> Version | None:
    """The binary's release, from the cache when the binary is unchanged, else by running it."""
    key = _key(files, binary)
    path = posixpath.join(state_dir, CACHE_NAME)
    cache = _read(files, path)
    if key is not None and key in cache:
        return parse_version(cache[key]) if cache[key] else None
    version = installed_version(runner, binary)
    if key is not None and version is not None:
        cache = {k: v for k, v in cache.items() if not k.startswith(binary + "|")}  # drop stale entries
        cache[key] = str(version)
        with contextlib.suppress(OSError, OllamaSyncError):  # an unwritable cache only makes commands slower
            from ollama_sync.system.state import ensure_state_dir  # noqa: PLC0415  # only on a cache miss

            ensure_state_dir(files, state_dir)  # created 0700; never written when others could write it
            files.write_atomic(path, json.dumps(cache, indent=1, sort_keys=True).encode(), mode=0o600)
    return version


def _key(files: Files, binary: str) -> str | None:
    try:
        real = os.path.realpath(files.location(binary))
        st = os.stat(real)
    except OSError:
        return None
    return f"{binary}|{real}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"


def _read(files: Files, path: str) -> dict[str, str]:
    try:
        data = json.loads(files.read_text(path) or "{}")
    except (ValueError, OllamaSyncError):
        return {}  # a damaged or unreadable cache is ignored and rewritten
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
