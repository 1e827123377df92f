"""The filesystem adapter: every file ollama-sync reads or writes on the machine goes through `Files`.

`--root DIR` places every machine path under DIR (for the demo, tests and dry experiments);
writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder.

Reads are bounded: only regular files are read (a FIFO, `/dev/zero` or a folder is an error, never a
hang), at most `MAX_READ_BYTES`, and text must be valid UTF-8 (an error at file:line, never U+FFFD).
Files the user names (`follow_symlinks=True`: a declaration kept in a dotfiles repository, GNU stow,
home-manager) are written where the link points, so the link stays a link; `locked()` serialises
read-modify-write edits of one file between processes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from ollama_sync.core.findings import Location
from ollama_sync.errors import ConfigError, LockTimeout, OllamaSyncError, StateError

if TYPE_CHECKING:
    from pathlib import Path

MAX_READ_BYTES: Final = 16 * 1024 * 1024  # far above any declaration, service file or header we read
EDIT_LOCK_TIMEOUT: Final = 60.0  # seconds another editor of the same file may hold it
_READ_ONLY_PREFIXES: Final = ("/nix/store/",)


class Files:
    """Reads and atomic writes of machine paths, all placed under an optional root.

    Works on strings with os.path (pathlib is imported only by `real()`, which returns a Path):
    read-only commands start faster without pathlib's own imports.
    """

    def __init__(self, root: str | None = None, *, follow_symlinks: bool = False, overlay: str | None = None) -> None:
        self.root = os.path.realpath(root) if root else None
        self.follow_symlinks = follow_symlinks
        # Files the user names, under --root: a copy inside the root is read when there is one, and every
        # write goes there (the first one copies on write), so `set --root` never edits the real file.
        self.overlay = os.path.realpath(overlay) if overlay else None

    def location(self, path: str) -> str:
        """Where a machine path really is, as text: under the root when one is set."""
        if self.overlay is not None:
            inside = self._in_overlay(path)
            return inside if os.path.lexists(inside) else path
        if self.root is None:
            return path
        return os.path.join(self.root, path.lstrip("/") if os.path.isabs(path) else path)

    def _in_overlay(self, path: str) -> str:
        assert self.overlay is not None
        return os.path.join(self.overlay, os.path.abspath(path).lstrip("/"))

    def real(self, path: str) -> Path:
        """Where a machine path really is, as a Path."""
        from pathlib import Path  # noqa: PLC0415  # 6 ms (pathlib): most commands never need a Path

        return Path(self.location(path))

    def read_bytes(self, path: str, *, limit: int = MAX_READ_BYTES) -> bytes | None:
        """The file's bytes, or None when it does not exist; only a regular file of at most limit bytes."""
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
            fd = os.open(self.location(path), os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise file_error("read", self.location(path), exc) from None
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            os.close(fd)
            what = "a folder, not a file" if stat.S_ISDIR(kind) else "not a regular file"
            where = self.location(path)  # the location prefix names the path (inside the root under --root)
            raise ConfigError(f"cannot read it: it is {what}", location=Location(where), hint="name a regular file")
        with os.fdopen(fd, "rb") as handle:
            try:
                data = handle.read(limit + 1)
            except OSError as exc:
                raise file_error("read", self.location(path), exc) from None
        if len(data) > limit:
            raise ConfigError(f"cannot read it: larger than {limit} bytes", location=Location(self.location(path)),
                              hint="this is not a file ollama-sync reads; check the path")
        return data

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
                return handle.read(MAX_READ_BYTES)
            except OSError as exc:
                raise file_error("read", where, exc) from None

    def read_text(self, path: str, *, lenient: bool = False) -> str | None:
        """The file's text, or None when it does not exist; invalid UTF-8 is a ConfigError at file:line:col.

        lenient: replace invalid bytes instead (for logs and files other programs write).
        """
        data = self.read_bytes(path)
        if data is None:
            return None
        if lenient:
            return data.decode("utf-8", errors="replace")
        return decode_utf8(data, path)

    def read_tail(self, path: str, max_bytes: int) -> str | None:
        """The last max_bytes of a (log) file as text, invalid bytes replaced; None when it does not exist."""
        try:
            fd = os.open(self.location(path), os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OllamaSyncError(f"cannot read {path}: {exc.strerror}") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise OllamaSyncError(f"cannot read {path}: it is not a regular file")
        with os.fdopen(fd, "rb") as handle:
            if info.st_size > max_bytes:
                handle.seek(info.st_size - max_bytes)
                handle.readline()  # drop the partial first line
            return handle.read(max_bytes).decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        """True when the path exists."""
        return os.path.exists(self.location(path))

    def write_atomic(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Replace the file with data so that it is always the complete old or the complete new version."""
        target = self._write_target(path)
        folder, name = os.path.split(target)
        folder = folder or "."  # a bare file name is in the current folder
        try:
            os.makedirs(folder, exist_ok=True)
            import tempfile  # noqa: PLC0415  # only writes need it; keeps read-only commands fast

            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        except OSError as exc:
            raise file_error("write", self._shown(path, target), exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)  # before the bytes: a secret is never readable by others
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)  # replaces a symbolic link itself unless following links was asked for
            _fsync_dir(folder)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise file_error("write", self._shown(path, target), exc) from None
            raise

    def _shown(self, path: str, target: str) -> str:
        """The real path for messages (inside the root under --root), and where a followed link points."""
        where = self.location(path)
        return where if target == where else f"{where} (a link to {target})"

    def mode(self, path: str) -> int | None:
        """The permission bits of the file itself (a symbolic link is not followed), None when absent."""
        try:
            return stat.S_IMODE(os.lstat(self.location(path)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise file_error("read", self.location(path), exc) from None

    def _write_target(self, path: str) -> str:
        """Where a write lands: the link's final target when following links (the link itself stays)."""
        if self.overlay is not None:
            return self._in_overlay(path)
        location = self.location(path)
        if not self.follow_symlinks or not os.path.islink(location):
            return location
        target = os.path.realpath(location)
        if target.startswith(_READ_ONLY_PREFIXES) or (os.path.exists(target) and not os.access(target, os.W_OK)):
            raise OllamaSyncError(f"cannot write {path}: it is a link to {target}, which is read-only",
                                  hint="edit the file it is built from (e.g. in your home-manager or dotfiles "
                                       "repository), then rebuild")
        return target

    @contextlib.contextmanager
    def locked(self, path: str, *, timeout: float = EDIT_LOCK_TIMEOUT) -> Iterator[None]:
        """Hold an exclusive lock on the file (its link target) for a read-modify-write.

        The lock is on the file itself (flock), not a lock file beside it: nothing is left in the user's
        folder. An atomic write replaces the file, so a waiter that gets the lock on the replaced copy
        opens the new one and locks again. A missing file is not locked (there is nothing to edit).
        """

        def where() -> str:  # asked again after each wait: under --root the first edit creates the copy
            return os.path.realpath(self.location(path)) if self.follow_symlinks else self.location(path)

        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(where(), os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
            except FileNotFoundError:
                yield
                return
            if _try_lock(fd) and _same_file(fd, where()):
                break
            os.close(fd)
            if time.monotonic() > deadline:
                raise LockTimeout(f"{path} is being edited by another process (waited {timeout:g} s)")
            time.sleep(0.02)
        try:
            yield
        finally:
            os.close(fd)  # closing releases the flock

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


def decode_utf8(data: bytes, path: str) -> str:
    """data as UTF-8; an invalid byte is a ConfigError naming its line and column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - data.rfind(b"\n", 0, exc.start)
        raise ConfigError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", location=Location(path, line, col),
                          hint="save the file as UTF-8") from None


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


def _try_lock(fd: int) -> bool:

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(fd: int, target: str) -> bool:
    """True when fd is still the file at target (not a copy an atomic write has since replaced)."""
    try:
        return os.fstat(fd).st_ino == os.stat(target).st_ino
    except FileNotFoundError:
        return False


def _fsync_dir(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
