"""The filesystem adapter: every file ollama-sync reads or writes on the machine goes through `Files`.

`--root DIR` places every machine path under DIR (for the demo, tests and dry experiments);
writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ollama_sync.errors import OllamaSyncError


class Files:
    """Reads and atomic writes of machine paths, all placed under an optional root."""

    def __init__(self, root: str | None = None) -> None:
        self.root = Path(root).resolve() if root else None

    def real(self, path: str) -> Path:
        """Where a machine path really is: under the root when one is set."""
        p = Path(path)
        if self.root is None:
            return p
        return self.root / p.relative_to(p.anchor) if p.is_absolute() else self.root / p

    def read_bytes(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        try:
            return self.real(path).read_bytes()
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
        return self.real(path).exists()

    def write_atomic(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Replace the file with data so that it is always the complete old or the complete new version."""
        target = self.real(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            import tempfile  # noqa: PLC0415  # only writes need it; keeps read-only commands fast

            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as exc:
            raise OllamaSyncError(f"cannot write {path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def remove(self, path: str) -> bool:
        """Delete the file; False when it was not there."""
        try:
            self.real(path).unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(self.real(path).parent)
        return True

    def list_names(self, folder: str) -> list[str]:
        """The names in a folder, sorted; empty when the folder does not exist."""
        try:
            return sorted(entry.name for entry in self.real(folder).iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def mkdir(self, path: str) -> Path:
        """Create a folder (and its parents) and return where it really is."""
        real = self.real(path)
        real.mkdir(parents=True, exist_ok=True)
        return real


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
