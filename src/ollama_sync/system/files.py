"""The filesystem adapter: every file ollama-sync reads or writes on the machine goes through `Files`.

`--root DIR` places every machine path under DIR (for the demo, tests and dry experiments);
writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from typing import TYPE_CHECKING

from ollama_sync.errors import OllamaSyncError, StateError

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
            raise file_error("read", self.location(path), exc) from None

    def read_private(self, path: str) -> bytes | None:
        """A file of ollama-sync's own state: never through a symlink, only a regular file (None: absent)."""
        where = self.location(path)
        try:
            fd = os.open(where, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StateError(f"{where} is a symbolic link; ollama-sync does not follow links in its state",
                                      hint=f"inspect it, then delete it: rm {where}") from None
            raise file_error("read", where, exc) from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StateError(f"{where} is not a regular file", hint=f"inspect it, then remove it: {where}")
            try:
                return handle.read()
            except OSError as exc:
                raise file_error("read", where, exc) from None

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
            raise file_error("write", target, exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)  # before the bytes: a secret is never readable by others
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)  # replaces a symbolic link itself; never writes through one
            _fsync_dir(folder)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise file_error("write", target, exc) from None
            raise

    def mode(self, path: str) -> int | None:
        """The permission bits of the file itself (a symbolic link is not followed), None when absent."""
        try:
            return stat.S_IMODE(os.lstat(self.location(path)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise file_error("read", self.location(path), exc) from None

    def is_link(self, path: str) -> bool:
        """True when the path itself is a symbolic link."""
        return os.path.islink(self.location(path))

    def remove(self, path: str) -> bool:
        """Delete the file; False when it was not there."""
        target = self.location(path)
        try:
            os.unlink(target)  # removes a symbolic link itself, never what it points to
            _fsync_dir(os.path.dirname(target) or ".")
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise file_error("remove", target, exc) from None
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
        try:
            real.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise file_error("create the folder", str(real), exc) from None
        return real


def file_error(action: str, where: str, exc: OSError) -> OllamaSyncError:
    """An OSError as a user-facing error naming the real path, with a hint for the usual causes."""
    hints = {errno.ENOSPC: "the disk is full: free some space, then run the command again",
             errno.EDQUOT: "your disk quota is used up: free some space, then run the command again",
             errno.EROFS: "the file system is mounted read-only",
             errno.EACCES: "check the owner and mode of the file and its folders (ls -ld)",
             errno.EPERM: "check the owner and mode of the file and its folders (ls -ld)",
             errno.ENOTDIR: "a part of the path is a file, not a folder",
             errno.EEXIST: "a part of the path is a file, not a folder",
             errno.EISDIR: "the path is a folder, not a file"}
    reason = exc.strerror or str(exc)
    return OllamaSyncError(f"cannot {action} {where}: {reason}", hint=hints.get(exc.errno or 0))


def _fsync_dir(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
