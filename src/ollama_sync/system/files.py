"""The filesystem adapter: every file ollama-sync reads or writes on the machine goes through `Files`.

`--root DIR` places every machine path under DIR (for the demo, tests and dry experiments);
writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from ollama_sync.errors import OllamaSyncError

if TYPE_CHECKING:
    from pathlib import Path


class Files:
    """Reads and atomic writes of machine paths, all placed under an optional root.

    Works on strings with os.path (pathlib is imported only by `real()`, which returns a Path):
    read-only commands start faster without pathlib's own imports.
    """

    def __init__(self, root: str | None = None) -> None:
        self.root = os.path.realpath(root) if root else None

    def location(self, path: str) -> str:
        """Where a machine path really is, as text: under the root when one is set."""
        if self.root is None:
            return path
        return os.path.join(self.root, path.lstrip("/") if os.path.isabs(path) else path)

    def real(self, path: str) -> Path:
        """Where a machine path really is, as a Path."""
        from pathlib import Path  # noqa: PLC0415

        return Path(self.location(path))

    def read_bytes(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        try:
            with open(self.location(path), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OllamaSyncError(f"cannot read {path}: {exc.strerror}") from None

    def read_text(self, path: str) -> str | None:
        """The file's text (UTF-8), or None when it does not exist."""
        data = self.read_bytes(path)
        return None if data is None else data.decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        """True when the path exists."""
        return os.path.exists(self.location(path))

    def write_atomic(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Replace the file with data so that it is always the complete old or the complete new version."""
        target = self.location(path)
        folder, name = os.path.split(target)
        folder = folder or "."  # a bare file name is in the current folder
        try:
            os.makedirs(folder, exist_ok=True)
            import tempfile  # noqa: PLC0415  # only writes need it; keeps read-only commands fast

            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        except OSError as exc:
            raise OllamaSyncError(f"cannot write {path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
            _fsync_dir(folder)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def remove(self, path: str) -> bool:
        """Delete the file; False when it was not there."""
        target = self.location(path)
        try:
            os.unlink(target)
        except FileNotFoundError:
            return False
        _fsync_dir(os.path.dirname(target) or ".")
        return True

    def list_names(self, folder: str) -> list[str]:
        """The names in a folder, sorted; empty when the folder does not exist."""
        try:
            return sorted(os.listdir(self.location(folder)))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def mkdir(self, path: str) -> Path:
        """Create a folder (and its parents) and return where it really is."""
        real = self.real(path)
        real.mkdir(parents=True, exist_ok=True)
        return real


def _fsync_dir(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
